/**
 * A page script for browser tests, bundled with sip.js at test time (test/support/sipjs-page.ts):
 * the SIP client a web application would write, calling `sip:<room>@<host>` over the WebSocket
 * `server` its URL names, with the page's microphone. It exposes its session state and what it
 * hears (a WebAudio AnalyserNode) as `window.uasmediaJoin`, as the join page does, and
 * `window.hangUp()` to send BYE.
 */
import { Inviter, SessionState, UserAgent } from 'sip.js';
import type { SessionDescriptionHandler } from 'sip.js/lib/platform/web/index.js';

const exposed: {
  state: string;
  byeReceived: boolean;
  error?: string;
  analyser?: AnalyserNode;
  audioContext?: AudioContext;
} = { state: 'Initial', byeReceived: false };
(window as unknown as { uasmediaJoin: typeof exposed }).uasmediaJoin = exposed;

const params = new URLSearchParams(location.search);

async function call(server: string, host: string, room: string): Promise<void> {
  const userAgent = new UserAgent({
    uri: UserAgent.makeURI(`sip:browser@${host}`),
    transportOptions: { server },
    sessionDescriptionHandlerFactoryOptions: {
      iceGatheringTimeout: 500,
      peerConnectionConfiguration: { iceServers: [] }
    }
  });
  await userAgent.start();
  const inviter = new Inviter(userAgent, UserAgent.makeURI(`sip:${room}@${host}`)!, {
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } }
  });
  inviter.delegate = {
    // A delegate's onBye must answer the BYE itself: sip.js then leaves it unanswered.
    onBye: (bye) => {
      exposed.byeReceived = true;
      void bye.accept();
    }
  };
  inviter.stateChange.addListener((state: SessionState) => {
    exposed.state = state;
    if (state !== SessionState.Established) return;
    const handler = inviter.sessionDescriptionHandler as SessionDescriptionHandler;
    // Chromium feeds a remote stream to WebAudio only while a media element plays it.
    const audio = document.createElement('audio');
    audio.srcObject = handler.remoteMediaStream;
    document.body.append(audio);
    void audio.play();
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 8192;
    context.createMediaStreamSource(handler.remoteMediaStream).connect(analyser);
    exposed.analyser = analyser;
    exposed.audioContext = context;
  });
  (window as unknown as { hangUp: () => Promise<void> }).hangUp = () => inviter.bye().then(() => undefined);
  await inviter.invite();
}

call(params.get('server') ?? '', params.get('host') ?? '', params.get('room') ?? '').catch(
  (error: unknown) => (exposed.error = String(error))
);
