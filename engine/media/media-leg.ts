/**
 * The media of one SIP call: its RTP session (with jitter buffer and RFC 4733), its party slot
 * in the DSP core, its SDP offer/answer state, and what it hears on its own (prompts, ringback).
 * When the channel is on its own the leg sits in a one-party "solo" room; a conference moves it
 * into the conference's room and back. Per tick it copies the jitter buffer's frame into WASM
 * memory before the room is mixed and sends the encoded output after.
 */
import { performance } from 'node:perf_hooks';
import type { DspKernels, Codec, InbandDigit } from '../dsp/kernels.js';
import { INPUT_LOST, INPUT_SILENT, INPUT_UNHEARD, codecRateHz, frameSamples } from '../dsp/kernels.js';
import { RtpSession, FRAME_LOST, FRAME_STOPPED } from '../rtp/rtp-session.js';
import type { DtmfEvent } from '../rtp/telephone-event.js';
import type { RtpPortPair } from '../rtp/port-pool.js';
import type { SampleFormat } from '../rtp/inbound-framing.js';
import {
  SdpNegotiationError,
  SdpSession,
  type AudioCodec,
  type NegotiatedAudio,
  type SrtpPolicy
} from '../../sip/index.js';
import type { LatchingMode } from '../rtp/peer-latch.js';
import { inbandDtmfOn, type InbandDtmfMode } from '../dtmf/inband-dtmf-mode.js';
import { WhisperFrame } from './whisper-frame.js';
import { WebRtcPeer } from '../webrtc/webrtc-peer.js';
import {
  checkWebRtcOfferOver,
  iceTransports,
  isWebRtcOffer,
  sameWebRtcTransport
} from '../webrtc/webrtc-offer.js';
import { answerWebRtcReoffer, checkWebRtcRestart } from '../webrtc/webrtc-reoffer.js';
import type { WebRtcOptions } from '../webrtc/webrtc-options.js';
import { TalkerDetector } from '../talker/talker-detector.js';
import type { DtmfObservation } from '../dtmf/digit-merger.js';
import type { Recorder } from './recorder.js';
import { legSdpSession } from './leg-sdp.js';
import { PromptPlayer } from './prompt-player.js';
import { MixRoom, type MixMember } from './mix-room.js';
import type { EngineMetrics } from '../observability/metrics.js';

/** Frames between two flushes of RTP counters into the engine's metrics (1 s). */
const STATS_FLUSH_FRAMES = 50;
const FRAME_MS = 20;
import type { MixLoop } from './mix-loop.js';
import { ClosedError, InvalidStateError } from '../errors.js';

/** How each codec's RTP payload holds its samples: what the caller's packet time is read from. */
const SAMPLE_FORMATS: Readonly<Record<Codec, SampleFormat>> = {
  PCMU: { bytesPerSample: 1, silenceByte: 0xff },
  PCMA: { bytesPerSample: 1, silenceByte: 0xd5 },
  L16: { bytesPerSample: 2, silenceByte: 0 },
  // One byte per tick of its 8 kHz RTP clock (two 16 kHz samples); a run of 0xff decodes to silence.
  // ADPCM: its decoder must run every packet, skipped ones too, to stay in step with the sender's encoder.
  G722: { bytesPerSample: 1, silenceByte: 0xff, statefulDecoder: true }
};

export interface MediaLegOptions {
  kernels: DspKernels;
  loop: MixLoop;
  ports: RtpPortPair;
  address: string;
  roomSampleRateHz: 8000 | 16000;
  codecs: AudioCodec[];
  jitter?: { minDelayMs?: number; maxDelayMs?: number; startDelayMs?: number };
  /** SRTP with SDES keys: off (default), offered, or required (RFC 4568). */
  srtp?: SrtpPolicy;
  /** Who may latch as the RTP peer (default strict: the SDP or signalling address only). */
  latching?: LatchingMode;
  /** Where the call's SIP request came from (an incoming call's top Via received/host). */
  signallingAddress?: string;
  /** The caller is behind NAT: its RTP is awaited before any is sent to a private SDP address (peer-latch.ts). */
  peerBehindNat?: boolean;
  metrics: EngineMetrics;
  /**
   * A call whose peer sends neither RTP nor RTCP for this long is reported dead through
   * `onMediaTimeout` (undefined: never). Only while both directions are on: a held call
   * (sendonly, recvonly, inactive) is not expected to send.
   */
  inactivityTimeoutMs?: number;
  /** Monotonic ms clock for the RTP session; injectable for benchmarks and tests. */
  now?: () => number;
  /** ICE settings for a browser's leg (an offer with UDP/TLS/RTP/SAVPF). */
  webrtc?: WebRtcOptions;
  /** Where the leg listens for in-band DTMF (default 'always'; inband-dtmf-mode.ts). */
  inbandDtmf?: InbandDtmfMode;
}

/** Where a leg's frames come from and go to: its RTP session, or a browser's peer connection. */
interface FramePath {
  readFrame(target: Uint8Array, dueMs?: number): number;
  /** The frame `readFrame` returned last follows skipped frames (undefined: the path never skips). */
  readonly frameFollowsSkip?: boolean;
  /** Bytes of skipped payload after that frame's, for a stateful decoder (undefined: none). */
  readonly frameSkippedBytes?: number;
  sendFrame(packet: Buffer, payloadBytes: number, dueMs?: number): void;
}

export interface MediaLegEvents {
  onDigit(observation: DtmfObservation): void;
  onTalking(talking: boolean, levelDbfs: number): void;
  onRecordingFull(): void;
  /** The peer went silent past `inactivityTimeoutMs` (reported once, outside the frame loop). */
  onMediaTimeout(silentMs: number): void;
  /**
   * RTP arrives, a second's worth and more, but none from the peer: all of it from addresses the
   * call does not take media from (reported once, outside the frame loop).
   */
  onStrangerMedia(dropped: number): void;
}

/** Strangers' packets, with none from the peer, that make a call's media look misaddressed: 1 s. */
const STRANGER_REPORT_PACKETS = 50;
/**
 * ICE restarts one browser's call may make, counted in the ICE transports they regather (a
 * browser bundles its media into one, so it has 10). Each restart keeps the sockets it gathered
 * (about four for each transport) for the rest of the call in @roamhq/wrtc 0.10: a page
 * restarting in a loop took descriptors without end, and an offer of four unbundled sections
 * restarted 10 times held 215 descriptors where the process reckons 64 a peer connection (156 of
 * them 33,540, past the usual limit of 20,000); now 87. A browser restarts once for each network
 * change.
 */
const MAX_ICE_RESTARTS = 10;

export class MediaLeg implements MixMember {
  readonly partySlot: number;
  readonly player: PromptPlayer;
  /** The player may have audio this frame: set when it gets some, cleared when it has none left. */
  private promptSounding = false;
  /** The private prompt was on in the last frame (a prompt, a coach's whisper, or both). */
  private promptActive = false;
  /** What a coach says to this party alone, heard in the next frame. */
  private readonly whispers = new WhisperFrame();
  /** The party this one coaches: it hears what this one says, while both are in one room. */
  private whisperTarget: MediaLeg | undefined;
  /** This frame's input is concealment: the jitter buffer had no packet for it. */
  private inputConcealed = false;
  readonly sampleRateHz: 8000 | 16000;
  private readonly kernels: DspKernels;
  private readonly loop: MixLoop;
  private readonly ports: RtpPortPair;
  private readonly sdp: SdpSession;
  private readonly solo: MixRoom;
  private readonly talker: TalkerDetector;
  private readonly jitter: MediaLegOptions['jitter'];
  private readonly now: MediaLegOptions['now'];
  private readonly latching: MediaLegOptions['latching'];
  #signallingAddress: string | undefined;
  readonly #peerBehindNat: boolean;
  private rtp: RtpSession | undefined;
  /** Whether its RTP session sends nothing yet (an answered call before its ACK). */
  private sendingHeld = false;
  private webrtc: WebRtcPeer | undefined;
  private frames: FramePath | undefined;
  private readonly webrtcOptions: WebRtcOptions | undefined;
  /** The media itself failed (a browser's ICE or DTLS): the call cannot go on. */
  onMediaFailed: ((reason: string) => void) | undefined;
  private room: MixRoom;
  private recorder: Recorder | undefined;
  private negotiatedAudio: NegotiatedAudio | undefined;
  private closed = false;
  private readonly metrics: EngineMetrics;
  private framesSinceFlush = 0;
  private readonly inactivityTimeoutMs: number | undefined;
  /** Checks for a silent peer while no frame loop visits the leg (afterMix does it otherwise). */
  private unvisitedWatch: NodeJS.Timeout | undefined;
  private mediaTimedOut = false;
  /**
   * Only an early answer (a 183's) applies: the callee has not answered yet and need not send, so
   * its silence is no dead peer (rtp.inactivityTimeoutSeconds counts from the answer).
   */
  private earlyMediaOnly = false;
  /** When the browser's peer connection was last seen connected (or, before that, when it was made). */
  private webRtcConnectedAtMs = 0;
  /** Frames the party's in-band detector has taken since it was last reset (a codec change resets it). */
  private inbandFrames = 0;
  private inbandCodec: Codec = 'PCMU';
  private readonly inbandDtmf: InbandDtmfMode;
  /** The party's in-band detector runs (kernels.setInbandDtmf). */
  private inbandOn = true;
  private readonly flushed = { in: 0, out: 0, lost: 0, late: 0, strangers: 0 };
  private strangerMediaReported = false;

  /**
   * The leg owns `options.ports` from the first line on: if anything here throws (no DSP party
   * or room slot left, say), what was taken is given back before the error leaves, and the
   * caller holds nothing to release.
   */
  constructor(
    options: MediaLegOptions,
    private readonly events: MediaLegEvents
  ) {
    this.ports = options.ports;
    this.kernels = options.kernels;
    this.loop = options.loop;
    this.jitter = options.jitter;
    this.now = options.now;
    this.webrtcOptions = options.webrtc;
    this.latching = options.latching;
    this.#signallingAddress = options.signallingAddress;
    this.#peerBehindNat = options.peerBehindNat ?? false;
    this.metrics = options.metrics;
    this.sampleRateHz = options.roomSampleRateHz;
    this.inactivityTimeoutMs = options.inactivityTimeoutMs;
    this.inbandDtmf = options.inbandDtmf ?? 'always';
    let partySlot = -1;
    let player: PromptPlayer | undefined;
    try {
      this.sdp = legSdpSession(options.address, options.ports.rtpPort, {
        codecs: options.codecs,
        srtp: options.srtp,
        mediaFamilies: options.ports.mediaFamilies
      });
      this.talker = new TalkerDetector({ sampleRateHz: options.roomSampleRateHz });
      player = new PromptPlayer(options.roomSampleRateHz, () => {
        this.promptSounding = true;
      });
      partySlot = this.kernels.createParty('PCMU');
      this.solo = new MixRoom(this.kernels, options.roomSampleRateHz);
    } catch (error) {
      if (partySlot >= 0) this.kernels.destroyParty(partySlot);
      player?.close();
      this.ports.release();
      throw error;
    }
    this.player = player;
    this.partySlot = partySlot;
    // Staggered by slot: legs created in one tick (a burst of calls) do not all flush in one tick.
    this.framesSinceFlush = partySlot % STATS_FLUSH_FRAMES;
    this.room = this.solo;
  }

  /** Whether the party is talking now, and how loud its last frame was (TalkerDetector). */
  get talking(): boolean {
    return this.talker.talking;
  }

  get levelDbfs(): number {
    return this.talker.levelDbfs;
  }

  get negotiated(): NegotiatedAudio | undefined {
    return this.negotiatedAudio;
  }

  /** The address the call's SIP requests come from: RTP from that host is the peer's too (peer-latch.ts). */
  get signallingAddress(): string | undefined {
    return this.#signallingAddress;
  }

  /** The caller behind NAT moved: its media comes from its new address (RtpSession.setSignallingAddress). */
  setSignallingAddress(address: string): void {
    this.#signallingAddress = address;
    this.rtp?.setSignallingAddress(address);
  }

  get rtpSession(): RtpSession | undefined {
    return this.rtp;
  }

  /** Aborted when the leg closes: a peer connection still gathering for its answer closes at once. */
  private readonly answering = new AbortController();
  /** A browser's offer and our answer to it: a re-offer that keeps its transport gets the same answer. */
  private webrtcDescriptions: { remote: string; local: string } | undefined;
  /** ICE transports this leg's restarts have regathered (MAX_ICE_RESTARTS). */
  private iceRestarts = 0;

  /** A browser's leg: its peer connection (closed with the leg). */
  get webRtcPeer(): WebRtcPeer | undefined {
    return this.webrtc;
  }

  /**
   * Answers an initial offer, come over SIP transport `protocol`: a browser's through a peer
   * connection (over the transports `webrtc.transports` names), a phone's by SDP offer/answer.
   */
  async answerOffer(offer: string, protocol: string): Promise<string> {
    if (!isWebRtcOffer(offer)) return this.answer(offer);
    if (this.frames)
      throw new SdpNegotiationError('a WebRTC re-offer is not supported on a leg that has media');
    checkWebRtcOfferOver(offer, protocol, this.webrtcOptions);
    const { peer, answerSdp } = await WebRtcPeer.answer(
      offer,
      this.#signallingAddress ?? '',
      this.webrtcOptions,
      this.answering.signal
    );
    if (this.closed) {
      peer.close();
      throw new SdpNegotiationError('the call ended while its WebRTC answer was being prepared');
    }
    this.attachWebRtc(peer);
    this.webrtcDescriptions = { remote: offer, local: answerSdp };
    return answerSdp;
  }

  /** The browser's audio joins the per-frame path as an L16 party at 16 kHz; its RTP ports are not needed. */
  private attachWebRtc(peer: WebRtcPeer): void {
    this.webrtc = peer;
    this.webRtcConnectedAtMs = performance.now();
    this.ports.release();
    this.kernels.setPartyCodec(this.partySlot, 'L16');
    // The peer connection hands over decoded audio only, no RFC 4733 events: to 'auto' none was negotiated.
    this.setInband(inbandDtmfOn(this.inbandDtmf, false));
    this.frames = peer.path;
    peer.onFailed = (reason) => this.onMediaFailed?.(reason);
    this.room.add(this);
    this.scheduleSolo();
  }

  /**
   * Answers an offer (initial INVITE or re-INVITE); throws SdpNegotiationError (488) when nothing
   * matches. A browser's leg answers a re-offer that keeps the transport and its media sections (a
   * session refresh, a hold) with the answer it already has, the direction turned to the offer's,
   * for its peer connection does not change; one with new ICE credentials (an ICE restart) through
   * its peer connection, which gathers anew: that answer is a promise.
   */
  answer(offer: string): string | Promise<string> {
    if (this.webrtc || isWebRtcOffer(offer)) {
      const kept = this.webrtcDescriptions;
      if (!this.webrtc || !kept || !isWebRtcOffer(offer))
        throw new SdpNegotiationError(
          'a WebRTC offer is answered by the initial INVITE, and only a WebRTC one'
        );
      if (sameWebRtcTransport(offer, kept.remote)) return answerWebRtcReoffer(offer, kept);
      return this.restartIce(this.webrtc, offer, kept);
    }
    const { answer, audio } = this.sdp.createAnswer(offer);
    this.apply(audio);
    return answer;
  }

  /**
   * An ICE restart: the offer must keep the first offer's media sections (webrtc-reoffer.ts), and
   * the call may have made at most MAX_ICE_RESTARTS.
   */
  private async restartIce(
    peer: WebRtcPeer,
    offer: string,
    kept: { remote: string; local: string }
  ): Promise<string> {
    checkWebRtcRestart(offer, kept.remote);
    const transports = iceTransports(offer);
    if (this.iceRestarts + transports > MAX_ICE_RESTARTS)
      throw new SdpNegotiationError(
        `the call has restarted ${this.iceRestarts} ICE transports, and this restart of ${transports} ` +
          `would pass its most (${MAX_ICE_RESTARTS})`
      );
    this.iceRestarts += transports;
    const answer = await peer.restartIce(offer, this.webrtcOptions, this.answering.signal);
    if (this.closed || this.webrtc !== peer)
      throw new SdpNegotiationError('the call ended during its ICE restart');
    this.webrtcDescriptions = { remote: offer, local: answer };
    return answer;
  }

  /** Our offer for a re-INVITE without one; a browser's leg offers the description it has. */
  offer(): string {
    if (this.webrtc) {
      if (!this.webrtcDescriptions) throw new SdpNegotiationError('a WebRTC leg offers only what it has');
      return this.webrtcDescriptions.local;
    }
    return this.sdp.createOffer();
  }

  /** The offer of `offer()` was answered by nothing: the agreement before it stands. */
  cancelOffer(): void {
    if (!this.webrtc) this.sdp.cancelOffer();
  }

  acceptAnswer(answer: string): void {
    this.takeAnswer(answer, false);
  }

  /** The answer to our last description sent again (a session refresh) that changed the peer's. */
  acceptRepeatAnswer(offer: string, answer: string): void {
    if (this.closed) throw new ClosedError('media leg');
    if (this.webrtc) return; // a browser's leg is refreshed by its own ICE, not by this answer
    this.apply(this.sdp.processRepeatAnswer(offer, answer));
  }

  /**
   * Early media: the answer a 183 carried, applied while the offer waits for the 2xx's answer
   * (SdpSession.previewAnswer), which `acceptAnswer` then takes as the call's.
   */
  previewAnswer(answer: string): void {
    this.takeAnswer(answer, true);
  }

  private takeAnswer(answer: string, preview: boolean): void {
    // A 183 or 200 that crosses our hang-up: its slot in the DSP core may be another call's now.
    if (this.closed) throw new ClosedError('media leg');
    if (this.webrtc) {
      const kept = this.webrtcDescriptions;
      if (kept && sameWebRtcTransport(answer, kept.remote)) return; // the session as it was
      throw new SdpNegotiationError('a WebRTC answer must keep its ICE credentials and certificate');
    }
    this.apply(preview ? this.sdp.previewAnswer(answer) : this.sdp.processAnswer(answer));
    if (preview) this.earlyMediaOnly = true;
    else if (this.earlyMediaOnly) {
      this.earlyMediaOnly = false;
      this.rtp?.restartInactivity();
    }
  }

  /** Holds (or lets go) what the leg's RTP session sends: see RtpSession.holdSending. */
  holdSending(held: boolean): void {
    this.sendingHeld = held;
    this.rtp?.holdSending(held);
    this.scheduleSolo();
  }

  /** Joins the conference's room; its mix replaces the solo room's silence. */
  moveTo(room: MixRoom): void {
    if (this.room === room || this.closed) return;
    this.room.remove(this);
    this.room = room;
    if (this.frames) room.add(this);
    this.scheduleSolo();
  }

  /**
   * The frame loop visits the solo room only while the leg is in it and may send: an empty room,
   * or a mix nobody is sent, is a wasted visit.
   */
  private scheduleSolo(): void {
    const inSolo = this.frames !== undefined && this.room === this.solo;
    if (inSolo && !this.sendingHeld) this.loop.add(this.solo);
    else this.loop.remove(this.solo);
    this.watchUnvisited(inSolo && this.sendingHeld && !this.closed);
  }

  /**
   * A leg held in its solo room (answered, its ACK not come) is in no frame loop, so afterMix
   * cannot notice a caller that never sends: without this, such a call lasted until timer H.
   */
  private watchUnvisited(on: boolean): void {
    if (!on || this.inactivityTimeoutMs === undefined) {
      clearInterval(this.unvisitedWatch);
      this.unvisitedWatch = undefined;
    } else if (!this.unvisitedWatch) {
      this.unvisitedWatch = setInterval(() => this.checkInactivity(), STATS_FLUSH_FRAMES * FRAME_MS);
      this.unvisitedWatch.unref();
    }
  }

  /** Back on its own: hears only its private prompts. */
  returnToSolo(): void {
    this.moveTo(this.solo);
    this.kernels.setTalker(this.partySlot, true);
    this.kernels.setMuted(this.partySlot, false);
  }

  /** Sends what this party says to `target` alone, frame by frame, while both are in one room; undefined stops it. */
  whisperTo(target: MediaLeg | undefined): void {
    this.whisperTarget = target;
  }

  /** The gain on what the caller hears of its room (dB; its private prompts are not scaled). */
  setListenGainDb(db: number): void {
    this.kernels.setListenGainDb(this.partySlot, db);
  }

  /** The gain on what the caller says, as a room hears it (dB). */
  setTalkGainDb(db: number): void {
    this.kernels.setGainDb(this.partySlot, db);
  }

  setContributing(talker: boolean, muted: boolean): void {
    this.kernels.setTalker(this.partySlot, talker);
    this.kernels.setMuted(this.partySlot, muted);
  }

  startRecording(recorder: Recorder): void {
    this.recorder = recorder;
  }

  stopRecording(): Recorder | undefined {
    const recorder = this.recorder;
    this.recorder = undefined;
    return recorder;
  }

  sendDtmf(digit: string, durationMs: number): Promise<void> {
    if (!this.rtp) return Promise.reject(new InvalidStateError('cannot send DTMF: no media negotiated yet'));
    return this.rtp.sendDtmf(digit, durationMs);
  }

  beforeMix(): void {
    const kernels = this.kernels;
    const slot = this.partySlot;
    // The frame's due time, not now: catch-up ticks after a stall run back to back.
    const dueMs = this.loop.frameTimeMs;
    const frames = this.frames as FramePath;
    const n = frames.readFrame(kernels.inputPayload(slot), Number.isNaN(dueMs) ? undefined : dueMs);
    this.inputConcealed = n === FRAME_LOST;
    kernels.setInput(
      slot,
      n === FRAME_LOST ? INPUT_LOST : n === FRAME_STOPPED ? INPUT_UNHEARD : n <= 0 ? INPUT_SILENT : n,
      frames.frameFollowsSkip === true,
      n > 0 ? (frames.frameSkippedBytes ?? 0) : 0
    );
    if (this.promptSounding || this.promptActive || this.whispers.pending) {
      const prompt = kernels.privatePrompt(slot);
      const sounding = this.promptSounding && this.player.readFrame(prompt);
      this.promptSounding = sounding;
      const active = this.whispers.takeInto(prompt, sounding) || sounding;
      kernels.setPrivatePromptActive(slot, active);
      this.promptActive = active;
    }
  }

  afterMix(): void {
    const kernels = this.kernels;
    const slot = this.partySlot;
    // The frame's due time, as for readFrame: its RTP timestamp follows the frames, not the stall.
    const dueMs = this.loop.frameTimeMs;
    (this.frames as FramePath).sendFrame(
      kernels.outputPacket(slot),
      kernels.outputBytes(slot),
      Number.isNaN(dueMs) ? undefined : dueMs
    );
    const coached = this.whisperTarget;
    if (coached !== undefined && coached.room === this.room) coached.whispers.put(kernels.decodedInput(slot));
    this.inbandFrames++;
    const digit = kernels.takeDigit(slot);
    if (digit !== null) this.reportInbandDigit(digit);
    const talker = this.talker;
    kernels.talkerMeasurement(slot, talker.measurement);
    const transition = talker.pushMeasurement(
      kernels.previousDecodedInput(slot),
      kernels.decodedInput(slot),
      this.inputConcealed
    );
    if (transition !== 'none') this.reportTalking(transition === 'started', talker.levelDbfs);
    if (this.recorder && !this.recorder.pushFrame(kernels.decodedInput(slot))) this.events.onRecordingFull();
    if (++this.framesSinceFlush === STATS_FLUSH_FRAMES) {
      this.flushStats();
      this.checkInactivity();
    }
  }

  private checkInactivity(): void {
    if (this.inactivityTimeoutMs === undefined || this.mediaTimedOut) return;
    const silentMs = this.webrtc
      ? this.webRtcSilentMs(this.webrtc)
      : this.rtpSilentMs(this.inactivityTimeoutMs);
    if (silentMs === undefined || silentMs < this.inactivityTimeoutMs) return;
    this.mediaTimedOut = true;
    // Not from inside the room's frame: ending the call removes this leg from the room being mixed.
    queueMicrotask(() => {
      if (!this.closed) this.events.onMediaTimeout(silentMs);
    });
  }

  /** How long the RTP peer has been silent, if past `timeoutMs` (undefined: heard, or not expected to send). */
  private rtpSilentMs(timeoutMs: number): number | undefined {
    const rtp = this.rtp;
    if (!rtp || this.earlyMediaOnly || rtp.direction !== 'sendrecv' || rtp.heardWithin(timeoutMs))
      return undefined;
    return rtp.msSinceHeard();
  }

  /**
   * How long a browser's peer connection has not been connected. Its audio sink plays out
   * concealment whether packets come or not, so the connection state tells: a browser that
   * offered and vanished (no candidate ever worked) stayed 'new' and kept its seat for good.
   */
  private webRtcSilentMs(peer: WebRtcPeer): number {
    const now = performance.now();
    if (peer.connectionState === 'connected') this.webRtcConnectedAtMs = now;
    return now - this.webRtcConnectedAtMs;
  }

  /**
   * Puts an in-band digit on the clock RFC 4733 events use, their arrival: the tone was played a
   * jitter-buffer delay after it arrived and reported some samples after it ended. Stamped at
   * report time instead, a press sent both ways would look one jitter-buffer delay apart and,
   * once the buffer has grown past the merge window, count twice.
   */
  private reportInbandDigit(digit: InbandDigit): void {
    const rateHz = this.inbandRateHz();
    const durationMs = (1000 * digit.durationSamples) / rateHz;
    const fedSamples = this.inbandFrames * frameSamples(rateHz);
    const sinceEndMs = (1000 * Math.max(0, fedSamples - digit.startSample - digit.durationSamples)) / rateHz;
    // The frame just played arrived about playoutDelayMs ago; its end is one frame later.
    const frameEndArrivalMs = performance.now() - (this.rtp?.playoutDelayMs ?? 0) + FRAME_MS;
    const endMs = Math.min(performance.now(), frameEndArrivalMs - sinceEndMs);
    const observation: DtmfObservation = {
      source: 'inband',
      digit: digit.digit,
      startMs: endMs - durationMs,
      durationMs
    };
    // Not from inside the room's frame, as checkInactivity: an exit digit takes this leg out of
    // the room (a destroyOnExit one closes the room) while its members are being walked, and the
    // next member, or every one, missed its frame.
    queueMicrotask(() => {
      if (!this.closed) this.events.onDigit(observation);
    });
  }

  /**
   * A talker change, reported after the frame for the same reason as a digit; even once the leg
   * closed, since close() reports 'stopped' only for a talker still talking then.
   */
  private reportTalking(talking: boolean, levelDbfs: number): void {
    queueMicrotask(() => this.events.onTalking(talking, levelDbfs));
  }

  /** Adds what the RTP session counted since the last flush to the engine's metrics. */
  private flushStats(): void {
    this.framesSinceFlush = 0;
    const rtp = this.rtp;
    if (!rtp) return;
    const m = this.metrics;
    const flushed = this.flushed;
    const received = rtp.packetsReceived;
    const sent = rtp.packetsSent;
    const lost = rtp.packetsLost;
    const late = rtp.packetsLate;
    m.rtp.packetsIn.inc(received - flushed.in);
    m.rtp.packetsOut.inc(sent - flushed.out);
    m.rtp.lost.inc(Math.max(0, lost - flushed.lost));
    m.rtp.late.inc(late - flushed.late);
    const strangers = rtp.packetsFromOtherSources;
    m.rtp.strangers.inc(strangers - flushed.strangers);
    flushed.strangers = strangers;
    if (!this.strangerMediaReported && received === 0 && strangers >= STRANGER_REPORT_PACKETS) {
      this.strangerMediaReported = true;
      queueMicrotask(() => this.events.onStrangerMedia(strangers));
    }
    m.jitterMs.observe(rtp.jitterMs);
    flushed.in = received;
    flushed.out = sent;
    flushed.lost = Math.max(flushed.lost, lost);
    flushed.late = late;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flushStats();
    if (this.talker.reset() === 'stopped') this.events.onTalking(false, this.talker.levelDbfs);
    this.room.remove(this);
    this.loop.remove(this.solo);
    this.watchUnvisited(false);
    this.solo.close();
    this.player.close();
    this.rtp?.close();
    this.answering.abort();
    this.webrtc?.close();
    if (!this.rtp) this.ports.release();
    this.kernels.destroyParty(this.partySlot);
  }

  /** A re-INVITE may add or drop telephone-event; a detector that starts again counts its samples from zero. */
  private setInband(on: boolean): void {
    if (on === this.inbandOn) return;
    this.inbandOn = on;
    this.kernels.setInbandDtmf(this.partySlot, on);
    if (on) this.inbandFrames = 0;
  }

  private inbandRateHz(): number {
    if (this.webrtc) return 16000;
    return this.negotiatedAudio ? codecRateHz(this.negotiatedAudio.codec) : 8000;
  }

  private apply(audio: NegotiatedAudio): void {
    this.negotiatedAudio = audio;
    const codec: Codec = audio.codec;
    this.kernels.setPartyCodec(this.partySlot, codec);
    if (codec !== this.inbandCodec) {
      this.inbandCodec = codec;
      this.inbandFrames = 0;
    }
    this.setInband(inbandDtmfOn(this.inbandDtmf, audio.telephoneEventPayloadType !== undefined));
    const samplesPerFrame = (audio.clockRateHz * 20) / 1000;
    const sampleFormat = SAMPLE_FORMATS[codec];
    const remote = {
      address: audio.remoteAddress,
      port: audio.remotePort,
      rtcpPort: audio.remoteRtcpPort,
      rtcpAddress: audio.remoteRtcpAddress
    };
    if (!this.rtp) {
      this.rtp = new RtpSession({
        ports: this.ports,
        payloadType: audio.payloadType,
        clockRateHz: audio.clockRateHz,
        samplesPerFrame,
        sampleFormat,
        ptimeMs: audio.ptimeMs,
        telephoneEventPayloadType: audio.telephoneEventPayloadType,
        telephoneEventClockRateHz: audio.telephoneEventClockRateHz,
        comfortNoisePayloadType: audio.comfortNoisePayloadType,
        remote,
        jitter: this.jitter,
        now: this.now,
        latching: this.latching,
        signallingAddress: this.#signallingAddress,
        peerBehindNat: this.#peerBehindNat,
        srtp: audio.srtp,
        sendBatch: this.loop.sends,
        clock: this.loop.clock
      });
      this.rtp.holdSending(this.sendingHeld);
      this.frames = this.rtp;
      this.rtp.on('dtmf', (event: DtmfEvent) =>
        this.events.onDigit({
          source: 'rfc4733',
          digit: event.digit,
          startMs: event.startMs,
          durationMs: event.durationMs
        })
      );
      this.room.add(this);
      this.scheduleSolo();
    } else {
      this.rtp.setRemote(remote);
      this.rtp.setSrtp(audio.srtp);
      this.rtp.updateCodec(audio.payloadType, audio.clockRateHz, samplesPerFrame, sampleFormat);
      this.rtp.setSendPtime(audio.ptimeMs);
      // A re-INVITE may move telephone-events to another payload type, or drop them (RFC 4733 §7.1).
      this.rtp.setTelephoneEventPayloadType(
        audio.telephoneEventPayloadType,
        audio.telephoneEventClockRateHz ?? audio.clockRateHz
      );
      this.rtp.setComfortNoisePayloadType(audio.comfortNoisePayloadType);
    }
    this.rtp.setDirection(audio.direction);
  }
}
