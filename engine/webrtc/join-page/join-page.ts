/**
 * The join page's script, bundled with sip.js by `npm run build:page` (esbuild) into
 * build/join-page/. It calls `sip:<room>@<host>` over SIP on this page's own WebSocket (RFC
 * 7118), sends the keypad as SIP INFO (application/dtmf-relay, what the engine's digit
 * handling takes), mutes by disabling the microphone track, shows the level of what it hears
 * (WebAudio AnalyserNode) and polls the room's participant list from the engine.
 */
import { Inviter, SessionState, UserAgent, type Session } from 'sip.js';
import type {
  SessionDescriptionHandler,
  SessionDescriptionHandlerOptions
} from 'sip.js/lib/platform/web/index.js';
import { ROSTER_TOKEN_HEADER } from '../roster-token.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = $<HTMLFormElement>('join-form');
const roomInput = $<HTMLInputElement>('room');
const nameInput = $<HTMLInputElement>('name');
const joinButton = $<HTMLButtonElement>('join');
const leaveButton = $<HTMLButtonElement>('leave');
const muteButton = $<HTMLButtonElement>('mute');
const statusLine = $<HTMLParagraphElement>('status');
const meter = $<HTMLMeterElement>('level');
const audio = $<HTMLAudioElement>('remote-audio');
const participantList = $<HTMLUListElement>('participants');

interface Participant {
  id: number;
  name: string;
  talking: boolean;
  muted: boolean;
}

/** What tests (and curious users) can inspect from the console. */
interface JoinState {
  state: string;
  analyser?: AnalyserNode;
  audioContext?: AudioContext;
  participants: Participant[];
  byeReceived: boolean;
  /** ICE restarts the engine has answered (restartIce). */
  iceRestarts: number;
  /** Restarts ICE now, as the page does when its connection is lost. */
  restartIce: () => void;
}
const exposed: JoinState = {
  state: 'idle',
  participants: [],
  byeReceived: false,
  iceRestarts: 0,
  restartIce: () => {
    if (session) restartIce(session);
  }
};
(window as unknown as { uasmediaJoin: JoinState }).uasmediaJoin = exposed;

let userAgent: UserAgent | undefined;
let session: Session | undefined;
/** From the engine's 200 OK: shows the room's participant list to this call only. */
let rosterToken: string | undefined;
let muted = false;
let rosterTimer: number | undefined;
let meterFrame: number | undefined;

const wsScheme = location.protocol === 'https:' ? 'wss' : 'ws';
/** The engine's `webSocket.path`, which the page server writes into the page. */
const sipPath = document.querySelector<HTMLMetaElement>('meta[name="uasmedia-sip-path"]')?.content ?? '/sip';
const sipHost = location.hostname;

function say(text: string): void {
  statusLine.textContent = text;
}

function setInCall(inCall: boolean): void {
  joinButton.disabled = inCall;
  leaveButton.disabled = !inCall;
  muteButton.disabled = !inCall;
  roomInput.disabled = inCall;
  nameInput.disabled = inCall;
}

async function join(room: string, name: string): Promise<void> {
  setInCall(true);
  say(`Calling room ${room} ...`);
  const user = name.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || 'guest';
  userAgent = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@${sipHost}`),
    displayName: name,
    transportOptions: { server: `${wsScheme}://${location.host}${sipPath}` },
    // The answer carries every candidate; the engine sends none by trickle.
    sessionDescriptionHandlerFactoryOptions: {
      iceGatheringTimeout: 500,
      peerConnectionConfiguration: { iceServers: [] }
    }
  });
  userAgent.transport.onDisconnect = (error?: Error) => {
    if (!error) return;
    // The engine ends the calls of a WebSocket that closed: the page left the call in place.
    const lost = `Connection lost: ${error.message}. The call has ended.`;
    void cleanUp().then(() => say(lost));
  };
  await userAgent.start();
  const target = UserAgent.makeURI(`sip:${room}@${sipHost}`);
  if (!target) {
    say(`Room name '${room}' makes no SIP address: use letters and digits.`);
    await cleanUp();
    return;
  }
  const inviter = new Inviter(userAgent, target, {
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } }
  });
  session = inviter;
  inviter.delegate = {
    // A delegate's onBye must answer the BYE itself: sip.js then leaves it unanswered.
    onBye: (bye) => {
      exposed.byeReceived = true;
      void bye.accept();
    }
  };
  inviter.stateChange.addListener((state: SessionState) => {
    exposed.state = state;
    if (state === SessionState.Established) {
      say(`In room ${room}.`);
      listen(inviter);
      restartIceWhenLost(inviter);
      startRoster(room);
    } else if (state === SessionState.Terminated) {
      say('Left the room.');
      void cleanUp();
    }
  });
  await inviter.invite({
    requestDelegate: {
      onAccept: (response) => {
        rosterToken = response.message.getHeader(ROSTER_TOKEN_HEADER);
      }
    }
  });
}

function listen(current: Session): void {
  const handler = current.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
  if (!handler) return;
  const stream = handler.remoteMediaStream;
  audio.srcObject = stream;
  void audio.play().catch(() => say('Press Join again if you hear nothing (the browser blocked playback).'));
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 8192;
  context.createMediaStreamSource(stream).connect(analyser);
  exposed.analyser = analyser;
  exposed.audioContext = context;
  const samples = new Float32Array(analyser.fftSize);
  const draw = (): void => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
    meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
    meterFrame = requestAnimationFrame(draw);
  };
  draw();
}

/** How long ICE may stay disconnected (a network change, a Wi-Fi roam) before the page restarts it. */
const DISCONNECTED_GRACE_MS = 3000;

/**
 * When the network under the call changes, its ICE connection fails, or stays disconnected: the
 * page restarts ICE with a re-INVITE, which the engine's peer connection answers with new
 * credentials and candidates, and the call goes on over the new path.
 */
function restartIceWhenLost(current: Session): void {
  const pc = (current.sessionDescriptionHandler as SessionDescriptionHandler | undefined)?.peerConnection;
  if (!pc) return;
  let grace: number | undefined;
  pc.addEventListener('iceconnectionstatechange', () => {
    window.clearTimeout(grace);
    grace = undefined;
    if (pc.iceConnectionState === 'failed') restartIce(current);
    else if (pc.iceConnectionState === 'disconnected')
      grace = window.setTimeout(() => restartIce(current), DISCONNECTED_GRACE_MS);
  });
}

function restartIce(current: Session): void {
  if (current !== session || current.state !== SessionState.Established) return;
  say('Reconnecting the audio ...');
  const restart: SessionDescriptionHandlerOptions = { offerOptions: { iceRestart: true } };
  current
    .invite({
      sessionDescriptionHandlerOptions: restart,
      requestDelegate: {
        onAccept: () => {
          exposed.iceRestarts++;
          say('Audio reconnected.');
        }
      }
    })
    .catch(() => undefined);
}

function startRoster(room: string): void {
  const poll = async (): Promise<void> => {
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(room)}`, {
        cache: 'no-store',
        headers: rosterToken ? { Authorization: `Bearer ${rosterToken}` } : {}
      });
      const body = response.ok
        ? ((await response.json()) as { participants: Participant[] })
        : { participants: [] };
      exposed.participants = body.participants;
      participantList.replaceChildren(
        ...body.participants.map((p) => {
          const item = document.createElement('li');
          item.textContent = p.name + (p.muted ? ' (muted)' : '');
          item.dataset.talking = String(p.talking);
          return item;
        })
      );
    } catch {
      /* the next poll tries again */
    }
  };
  void poll();
  rosterTimer = window.setInterval(() => void poll(), 500);
}

async function sendDigit(digit: string): Promise<void> {
  if (!session || session.state !== SessionState.Established) return;
  await session.info({
    requestOptions: {
      body: {
        contentDisposition: 'render',
        contentType: 'application/dtmf-relay',
        content: `Signal=${digit}\r\nDuration=160\r\n`
      }
    }
  });
}

function setMuted(on: boolean): void {
  muted = on;
  const handler = session?.sessionDescriptionHandler as SessionDescriptionHandler | undefined;
  handler?.peerConnection?.getSenders().forEach((sender) => {
    if (sender.track) sender.track.enabled = !on;
  });
  muteButton.textContent = on ? 'Unmute' : 'Mute';
  muteButton.setAttribute('aria-pressed', String(on));
}

async function leave(): Promise<void> {
  const current = session;
  if (current?.state === SessionState.Established) await current.bye().catch(() => undefined);
  else if (current instanceof Inviter && current.state === SessionState.Establishing)
    await current.cancel().catch(() => undefined);
  await cleanUp();
}

async function cleanUp(): Promise<void> {
  if (rosterTimer !== undefined) window.clearInterval(rosterTimer);
  rosterTimer = undefined;
  if (meterFrame !== undefined) cancelAnimationFrame(meterFrame);
  meter.value = 0;
  // Each join makes its own context: one left running kept its audio thread for the tab's life.
  void exposed.audioContext?.close().catch(() => undefined);
  exposed.audioContext = undefined;
  exposed.analyser = undefined;
  participantList.replaceChildren();
  session = undefined;
  rosterToken = undefined;
  setMuted(false);
  const agent = userAgent;
  userAgent = undefined;
  await agent?.stop().catch(() => undefined);
  setInCall(false);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!form.reportValidity()) return;
  join(roomInput.value.trim(), nameInput.value.trim()).catch((error: unknown) => {
    say(`Could not join: ${error instanceof Error ? error.message : String(error)}`);
    void cleanUp();
  });
});
leaveButton.addEventListener('click', () => void leave());
muteButton.addEventListener('click', () => setMuted(!muted));
document.getElementById('keypad')?.addEventListener('click', (event) => {
  const digit = (event.target as HTMLElement).dataset.digit;
  if (digit) void sendDigit(digit);
});
document.addEventListener('keydown', (event) => {
  if (session && /^[0-9*#]$/.test(event.key) && !(event.target instanceof HTMLInputElement))
    void sendDigit(event.key);
});
const params = new URLSearchParams(location.search);
if (params.get('room')) roomInput.value = params.get('room') ?? '';
if (params.get('name')) nameInput.value = params.get('name') ?? '';
