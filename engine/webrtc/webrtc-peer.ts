/**
 * The engine's end of a browser's media: one `RTCPeerConnection` from @roamhq/wrtc that
 * answers the browser's offer (no trickle: the answer carries every host candidate, so it
 * waits for ICE gathering), receives its audio through an `RTCAudioSink` and sends the
 * party's mix through an `RTCAudioSource` track. @roamhq/wrtc is loaded on the first
 * WebRTC call only, so an engine that never meets a browser never loads the native module.
 */
import { SdpNegotiationError, sourceKey } from '../../sip/index.js';
import { EngineError } from '../errors.js';
import type { WebRtcOptions } from './webrtc-options.js';
import { WebRtcAudioPath, type SinkAudioData } from './webrtc-audio-path.js';
import { withAdvertisedCandidates } from './advertised-candidates.js';
import { checkWebRtcAnswer } from './webrtc-offer.js';
import { usableRemoteCandidates } from './remote-candidates.js';
import {
  defaultMaxPeerConnections,
  MAX_WAITING_PER_SOURCE,
  PeerConnectionGate,
  WebRtcBusyError
} from './peer-connection-gate.js';
import {
  defaultMaxPeerConnectionsPerSource,
  PeerConnectionsPerSource
} from './peer-connections-per-source.js';

type Wrtc = typeof import('@roamhq/wrtc');
type PeerConnection = InstanceType<Wrtc['RTCPeerConnection']>;
type AudioSink = InstanceType<Wrtc['nonstandard']['RTCAudioSink']>;
type Track = ReturnType<InstanceType<Wrtc['nonstandard']['RTCAudioSource']>['createTrack']>;

let loading: Promise<Wrtc> | undefined;
const STATE_POLL_MS = 500;

function loadWrtc(): Promise<Wrtc> {
  loading ??= import('@roamhq/wrtc').then(
    (module) => ((module as { default?: Wrtc }).default ?? module) as Wrtc
  );
  return loading;
}

/** Peer connections open in this process (for leak checks and the exit guard). */
let openPeers = 0;
/** Answers take turns, process-wide: @roamhq/wrtc's sockets are (peer-connection-gate.ts). */
const gate = new PeerConnectionGate();
/** Each source's share of them (peer-connections-per-source.ts). */
const perSource = new PeerConnectionsPerSource();

export function openPeerConnections(): number {
  return openPeers;
}

function answerAbandoned(): EngineError {
  return new EngineError('ERR_WEBRTC_FAILED', 'the call ended while its WebRTC answer was being prepared');
}

/**
 * @roamhq/wrtc refused the browser's offer (its own DOMException: a BUNDLE group naming no section,
 * no ICE credentials, a fingerprint it cannot read): the offer's fault, so 488 and, from
 * `answer()`, the `SipError` every refused offer gives, not wrtc's error.
 */
function offerRefused(error: unknown): SdpNegotiationError {
  const detail = (error as { message?: unknown } | undefined)?.message;
  return new SdpNegotiationError(`the peer connection refused the offer: ${String(detail ?? error)}`);
}

export class WebRtcPeer {
  readonly path: WebRtcAudioPath;
  private sink: AudioSink | undefined;
  private closed = false;
  /** Ends a wait for ICE gathering: the peer connection closed under it. */
  private stopGathering: (() => void) | undefined;
  private failed = false;
  private readonly watchdog: NodeJS.Timeout;
  /** Gives the caller's source its share back (peer-connections-per-source.ts); once, on close. */
  private releaseSource: (() => void) | undefined;
  /** The caller's source key, whose turn an ICE restart waits for (peer-connection-gate.ts). */
  private source = '';
  /** Called once if the connection fails (ICE or DTLS) or the browser closes it. */
  onFailed: ((reason: string) => void) | undefined;

  private constructor(
    private readonly pc: PeerConnection,
    private readonly track: Track,
    source: ConstructorParameters<typeof WebRtcAudioPath>[0]
  ) {
    this.path = new WebRtcAudioPath(source);
    openPeers++;
    pc.addEventListener('connectionstatechange', this.checkState);
    // @roamhq/wrtc 0.10 does not dispatch the change to 'failed' (a DTLS fingerprint mismatch,
    // measured here): the state is polled as well.
    this.watchdog = setInterval(this.checkState, STATE_POLL_MS);
    this.watchdog.unref();
  }

  private readonly checkState = (): void => {
    const state = this.pc.connectionState;
    if (this.closed || this.failed || (state !== 'failed' && state !== 'closed')) return;
    this.failed = true;
    this.onFailed?.(`peer connection ${state}`);
  };

  /**
   * A peer connection answering `offerSdp` from the caller at `source`, with its answer once ICE
   * gathering is done. `signal` (the call ending) closes the peer connection at once, gathering or
   * not, and rejects. `WebRtcBusyError` when the process takes no more peer connections or answers
   * waiting for one, or `source` holds its share of them (scope 'source').
   */
  static async answer(
    offerSdp: string,
    source: string,
    options: WebRtcOptions = {},
    signal?: AbortSignal
  ): Promise<{ peer: WebRtcPeer; answerSdp: string }> {
    const wrtc = await loadWrtc();
    const most = options.maxPeerConnections ?? defaultMaxPeerConnections();
    // Counted before its turn: a source's answers waiting for one count against its share too.
    const releaseSource = perSource.take(
      source,
      options.maxPeerConnectionsPerSource ?? defaultMaxPeerConnectionsPerSource(most)
    );
    try {
      const key = sourceKey(source);
      const release = await gate.turn(
        key,
        signal,
        answerAbandoned,
        Math.max(MAX_WAITING_PER_SOURCE, options.maxPeerConnectionsPerSource ?? 0)
      );
      try {
        if (signal?.aborted) throw answerAbandoned();
        if (openPeers >= most)
          throw new WebRtcBusyError(`the process holds ${openPeers} browser peer connections, its most`);
        const answered = await WebRtcPeer.answerInTurn(wrtc, offerSdp, options, signal);
        answered.peer.releaseSource = releaseSource;
        answered.peer.source = key;
        return answered;
      } finally {
        release();
      }
    } catch (error) {
      releaseSource();
      throw error;
    }
  }

  private static async answerInTurn(
    wrtc: Wrtc,
    offerSdp: string,
    options: WebRtcOptions,
    signal: AbortSignal | undefined
  ): Promise<{ peer: WebRtcPeer; answerSdp: string }> {
    const config: Record<string, unknown> = { iceServers: options.iceServers ?? [] };
    if (options.portRange) config.portRange = { min: options.portRange.min, max: options.portRange.max };
    const pc = new wrtc.RTCPeerConnection(config as RTCConfiguration);
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    const peer = new WebRtcPeer(pc, track, source);
    const abandon = (): void => peer.close();
    signal?.addEventListener('abort', abandon, { once: true });
    try {
      pc.addEventListener('track', (event: Event) =>
        peer.receive((event as unknown as { track: MediaStreamTrack }).track, wrtc)
      );
      await pc
        .setRemoteDescription({ type: 'offer', sdp: usableRemoteCandidates(offerSdp) })
        .catch((error: unknown) => {
          throw offerRefused(error);
        });
      pc.addTrack(track);
      const answer = await pc.createAnswer();
      checkWebRtcAnswer(answer.sdp ?? '');
      await pc.setLocalDescription(answer);
      await peer.gathered(options.iceGatheringTimeoutMs ?? 3000);
      if (peer.closed) throw answerAbandoned();
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new EngineError('ERR_WEBRTC_FAILED', 'the peer connection produced no answer');
      return { peer, answerSdp: withAdvertisedCandidates(sdp, options.advertisedAddress) };
    } catch (error) {
      peer.close();
      throw peer.closed && signal?.aborted ? answerAbandoned() : error;
    } finally {
      signal?.removeEventListener('abort', abandon);
    }
  }

  /**
   * Answers the browser's re-offer with new ICE credentials (an ICE restart, RFC 8839 §4.4.1.1.1:
   * after a network change, say): the same peer connection takes the offer and gathers anew; its
   * audio path and track stay. Rejects with SdpNegotiationError (488) for an offer it refuses,
   * and when the connection closes (or `signal`, the call ending, aborts) meanwhile.
   */
  async restartIce(offerSdp: string, options: WebRtcOptions = {}, signal?: AbortSignal): Promise<string> {
    const release = await gate.turn(this.source, signal, answerAbandoned);
    try {
      if (this.closed) throw answerAbandoned();
      const pc = this.pc;
      await pc
        .setRemoteDescription({ type: 'offer', sdp: usableRemoteCandidates(offerSdp) })
        .catch((error: unknown) => {
          throw offerRefused(error);
        });
      const answer = await pc.createAnswer();
      checkWebRtcAnswer(answer.sdp ?? '');
      await pc.setLocalDescription(answer);
      await this.gathered(options.iceGatheringTimeoutMs ?? 3000);
      const sdp = pc.localDescription?.sdp;
      if (this.closed || !sdp) throw answerAbandoned();
      return withAdvertisedCandidates(sdp, options.advertisedAddress);
    } finally {
      release();
    }
  }

  private receive(track: MediaStreamTrack, wrtc: Wrtc): void {
    if (this.closed || track.kind !== 'audio' || this.sink) return;
    const sink = new wrtc.nonstandard.RTCAudioSink(track);
    sink.ondata = (data: SinkAudioData) => this.path.push(data);
    this.sink = sink;
  }

  private gathered(timeoutMs: number): Promise<void> {
    const pc = this.pc;
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = (): void => {
        if (pc.iceGatheringState === 'complete') done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.stopGathering = done;
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  get connectionState(): string {
    return this.pc.connectionState;
  }

  /** Stops the sink and the track and closes the connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopGathering?.();
    clearInterval(this.watchdog);
    openPeers--;
    this.releaseSource?.();
    this.path.close();
    this.sink?.stop();
    this.sink = undefined;
    this.track.stop();
    this.pc.close();
  }
}
