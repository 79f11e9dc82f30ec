/**
 * One RTP/RTCP session: a bound port pair, one inbound stream (jitter buffer, RFC 4733
 * receiver, RFC 3550 reception statistics) and one outbound stream (packetizer, RFC 4733
 * sender), plus periodic RTCP SR/RR. The engine's frame clock calls `readFrame` and `sendFrame`
 * once per frame; everything else is event-driven by the sockets.
 *
 * Symmetric RTP and latching (peer-latch.ts): until a source latches we send to the SDP
 * address; packets from strangers are dropped and counted and never move the latch; `setRemote`
 * (re-INVITE) unlatches. With SRTP (srtp/) every packet is authenticated before it may latch or
 * be heard, and everything we send is protected. Nothing thrown inside a socket handler escapes
 * it: malformed packets are dropped and counted by reason.
 */
import type * as dgram from 'node:dgram';
import { SafeEmitter } from '../../sip/index.js';
import { ClosedError, InvalidStateError } from '../errors.js';
import { PeerLatch, type LatchingMode } from './peer-latch.js';
import { SRTP_REPLAYED } from './srtp/srtp-context.js';
import { SrtpTransform, type SrtpKeyHistory, type SrtpKeys } from './srtp/srtp-transform.js';
import { FRAME_SILENT, JitterBuffer } from './jitter-buffer.js';
import { InboundFraming, PCMU_SAMPLES, type SampleFormat } from './inbound-framing.js';
import type { RtpPortPair } from './port-pool.js';
import { ntpFromUnixMs, ntpMiddle32, parseRtcpCompound, serializeRtcpCompound } from './rtcp-packet.js';
import type { RtcpPacket, ReportBlock } from './rtcp-packet.js';
import { ReceptionStats, roundTripMs } from './rtcp-stats.js';
import { RTP_HEADER_BYTES, RtpHeaderView, looksLikeRtcp } from './rtp-packet.js';
import type { RtpParseError } from './rtp-packet.js';
import { RtpPacketizer } from './rtp-packetizer.js';
import { OutboundPacking, packetMsFor } from './outbound-packing.js';
import type { QueuedSender, SendBatch } from './send-batch.js';
import { seqDiff16 } from './sequence.js';
import type { FrameClock } from '../clock/frame-clock.js';
import { TelephoneEventReceiver, planTelephoneEvent } from './telephone-event.js';
import type { DtmfEvent, DtmfStartEvent } from './telephone-event.js';

export { FRAME_LOST, FRAME_SILENT, FRAME_STOPPED } from './jitter-buffer.js';

export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/**
 * A NAT rebinding (peer-latch.ts): the latched stream must have been quiet this long before another
 * port on its host may carry it on (five frames: no caller still sending is taken over), and the
 * new port's first packet may be at most this many sequence numbers past the last one heard (ten
 * seconds of 20 ms packets lost while the NAT changed its mapping).
 */
const REBIND_AFTER_SILENCE_MS = 100;
const REBIND_MAX_SEQUENCE_GAP = 500;
/**
 * Another SSRC takes the audio over at once when the current one has been quiet this long (three
 * frames: a sender that switched sources); while it is still heard, only once two packets of the
 * new one in a row show a stream (RFC 3550 A.1's MIN_SEQUENTIAL). A straggler of the stream just
 * replaced, or a packet forged onto the caller's address, used to restart the jitter buffer each.
 */
const SSRC_TAKEOVER_QUIET_MS = 60;
/** Our sender reports a report block's LSR may name (a peer's reports lag ours by an interval or two). */
const SENDER_REPORTS_KEPT = 4;

export interface RtpRemote {
  address: string;
  port: number;
  rtcpPort?: number;
  /** Where RTCP goes when SDP's a=rtcp names an address of its own (RFC 3605); else `address`. */
  rtcpAddress?: string;
}

export interface RtpSessionOptions {
  ports: RtpPortPair;
  payloadType: number;
  clockRateHz: number;
  samplesPerFrame: number;
  /** How the codec's payload holds samples (default μ-law's): the caller's packet time is read from it. */
  sampleFormat?: SampleFormat;
  /** The packet time the peer asked for (its a=ptime): we send in packets of it (OutboundPacking). Default 20. */
  ptimeMs?: number;
  telephoneEventPayloadType?: number;
  /**
   * The telephone-event's own RTP clock (its a=rtpmap rate), in which RFC 4733 durations count
   * (§2.3.5); default `clockRateHz`. An SBC may pair telephone-event/8000 with a 16 kHz codec.
   */
  telephoneEventClockRateHz?: number;
  /** Comfort noise's payload type (RFC 3389), if negotiated: its packets are silence, ending a talkspurt. */
  comfortNoisePayloadType?: number;
  remote?: RtpRemote;
  jitter?: {
    minDelayMs?: number;
    maxDelayMs?: number;
    startDelayMs?: number;
    maxPackets?: number;
    maxConcealFrames?: number;
  };
  /** Mean RTCP report interval (randomised ×[0.5, 1.5], RFC 3550 §6.3.1). Default 5000 ms; 0 disables. */
  rtcpIntervalMs?: number;
  cname?: string;
  /** Monotonic ms clock; injectable for tests. */
  now?: () => number;
  direction?: MediaDirection;
  /** Fixed SSRC / initial numbers for tests; random otherwise. */
  ssrc?: number;
  /** Who may latch (peer-latch.ts); default strict. */
  latching?: LatchingMode;
  /** The address the call's SIP request came from: a peer host besides the SDP address. */
  signallingAddress?: string;
  /** The caller is behind NAT: an SDP address other than `signallingAddress` is not sent to (peer-latch.ts). */
  peerBehindNat?: boolean;
  /** SRTP keys (SDES); plain RTP when absent. */
  srtp?: SrtpKeys;
  /** Where `sendFrame` queues its packet until the frame loop flushes the batch; sent at once when absent. */
  sendBatch?: SendBatch;
  /** The frame clock, asked after each packet to run a tick that has come due (FrameClock.runIfDue). */
  clock?: Pick<FrameClock, 'runIfDue'>;
}

export interface RtcpEvent {
  packets: RtcpPacket[];
  from: { address: string; port: number };
  /** Round-trip time from a report block about our stream, when it has LSR/DLSR. */
  roundTripMs?: number;
}

export type RtpSessionEvents = {
  dtmf: [DtmfEvent];
  dtmfStart: [DtmfStartEvent];
  latched: [{ address: string; port: number }];
  ssrcChange: [{ previous: number; ssrc: number }];
  rtcp: [RtcpEvent];
};

export interface RtpSessionStats {
  packetsReceived: number;
  packetsSent: number;
  /** Packets lost (RFC 3550 A.3), summed over the inbound streams (SSRCs, codecs) the session had. */
  packetsLost: number;
  packetsLate: number;
  packetsDuplicate: number;
  /** Malformed, unknown payload type, oversized, received while not receiving, or on probation. */
  packetsDiscarded: number;
  /** RTP and RTCP packets from a source that is not the call's peer (dropped unread). */
  packetsFromOtherSources: number;
  /** RTP and RTCP packets dropped because the engine's RTP source lists refuse their sender. */
  packetsRefusedSource: number;
  discardReasons: Record<
    | RtpParseError
    | 'payloadType'
    | 'direction'
    | 'jitterBuffer'
    | 'srtpAuth'
    | 'srtpReplay'
    /** From the peer's host (or anywhere, first-packet) but a source still on latching probation, or another SSRC not yet confirmed while the current one is heard. */
    | 'probation',
    number
  >;
  /** SRTP suite in use, if any. */
  srtpSuite?: string;
  /** Interarrival jitter (RFC 3550 §6.4.1) in ms. */
  jitterMs: number;
  jitterBufferDelayMs: number;
  jitterBufferTargetMs: number;
  /** Milliseconds of audio in each of the peer's packets, as its packets carry it (its a=ptime is only a wish). */
  packetTimeMs: number;
  /** Packets the jitter buffer concealed or stretched by (in the peer's packet time). */
  concealedFrames: number;
  bytesReceived: number;
  bytesSent: number;
  rtcpSent: number;
  rtcpReceived: number;
  rtcpDiscarded: number;
  roundTripMs?: number;
  remoteAddress?: string;
  remotePort?: number;
  ssrc: number;
  remoteSsrc?: number;
  internalErrors: number;
  sendErrors: number;
}

export class RtpSession extends SafeEmitter<RtpSessionEvents> implements QueuedSender {
  readonly ports: RtpPortPair;
  readonly #now: () => number;
  #payloadType: number;
  #clockRateHz: number;
  #telephoneEventPt: number | undefined;
  #comfortNoisePt: number | undefined;
  #telephoneEventClockHz: number;
  #direction: MediaDirection;
  readonly #peer: PeerLatch;
  #srtp: SrtpTransform | undefined;
  /** The last SRTP context of each key used in this session, either way (SrtpTransform.create). */
  readonly #srtpKeys: SrtpKeyHistory = { sent: new Map(), received: new Map() };
  /**
   * The remote SSRC, valid once #hasRemoteSsrc: always a number, so comparing a packet's SSRC
   * with it stays a float comparison. A field that may hold undefined is tagged, and V8 boxes the
   * packet's SSRC (above 2^31 for half of callers) into a new heap number to compare it, per packet.
   */
  #remoteSsrc = -1;
  #hasRemoteSsrc = false;
  /** Another audio SSRC seen while the current one was heard, and the sequence number that would confirm it (#takesOver). */
  #candidateSsrc = -1;
  #candidateNextSeq = -1;
  readonly #header = new RtpHeaderView();
  readonly #jitter: JitterBuffer;
  readonly #framing: InboundFraming;
  #reception: ReceptionStats;
  /** What the inbound streams before the current one lost (another SSRC, another codec). */
  #lostInEarlierStreams = 0;
  readonly #events: TelephoneEventReceiver;
  readonly #packetizer: RtpPacketizer;
  readonly #cname: string;
  readonly #rtcpIntervalMs: number;
  #rtcpTimer: NodeJS.Timeout | undefined;
  #sentAtLastReport = 0;
  /**
   * The NTP middle 32 bits of our last sender reports: a report block's LSR must name one of them
   * before its round trip counts (a peer could name any, and read back a round trip of its choosing).
   */
  readonly #reportsSent = new Uint32Array(SENDER_REPORTS_KEPT);
  #reportsSentCount = 0;
  #roundTripMs: number | undefined;
  #dtmfActive = false;
  /** Our frames in longer packets, when the peer asked for a packet time over 20 ms. */
  #packing: OutboundPacking | undefined;
  #samplesPerFrame: number;
  #sampleFormat: SampleFormat;
  /** The peer's a=ptime, kept for a codec change (setSendPtime). */
  #askedPtimeMs = 20;
  #dtmfQueue: Promise<void> = Promise.resolve();
  readonly #dtmfTimers = new Set<{ timer: NodeJS.Timeout; reject: (e: Error) => void }>();
  #closed = false;
  /** While set, nothing goes out, RTP or RTCP: the peer has not shown it receives (no ACK yet). */
  #sendingHeld = false;
  /** When the peer was last heard: an accepted RTP packet or a valid RTCP report. */
  #lastHeardMs = 0;
  /** The latched audio stream's last packet: when it came and its sequence number (`#mayRebind`, `#continuesStream`). */
  #lastAudioMs = 0;
  #lastAudioSeq = 0;
  #sendView: Buffer | undefined;
  readonly #sendBatch: SendBatch | undefined;
  readonly #clock: Pick<FrameClock, 'runIfDue'> | undefined;
  /** This frame's packet (exactly its length) and where it goes, while it waits in the send batch. */
  #queued: Buffer | undefined;
  #queuedTo: { address: string; port: number } | undefined;
  readonly #counters = {
    packetsReceived: 0,
    packetsDiscarded: 0,
    packetsFromOtherSources: 0,
    packetsRefusedSource: 0,
    bytesReceived: 0,
    rtcpSent: 0,
    rtcpReceived: 0,
    rtcpDiscarded: 0,
    internalErrors: 0,
    sendErrors: 0
  };
  readonly #discardReasons: RtpSessionStats['discardReasons'] = {
    short: 0,
    version: 0,
    csrc: 0,
    extension: 0,
    padding: 0,
    payloadType: 0,
    direction: 0,
    jitterBuffer: 0,
    srtpAuth: 0,
    srtpReplay: 0,
    probation: 0
  };
  // No closure per packet: the handlers catch for themselves.
  readonly #onRtp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closed || this.#refusesSource(rinfo.address)) return;
    try {
      this.#receiveRtp(msg, rinfo);
    } catch (error) {
      this.#handlerFailed(error);
    }
    this.#clock?.runIfDue();
  };
  readonly #onRtcp = (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
    if (this.#closed || this.#refusesSource(rinfo.address)) return;
    try {
      this.#receiveRtcp(msg, msg.length, rinfo);
    } catch (error) {
      this.#handlerFailed(error);
    }
    this.#clock?.runIfDue();
  };

  constructor(opts: RtpSessionOptions) {
    super();
    this.ports = opts.ports;
    this.#now = opts.now ?? (() => performance.now());
    this.#payloadType = opts.payloadType;
    this.#clockRateHz = opts.clockRateHz;
    this.#telephoneEventPt = opts.telephoneEventPayloadType;
    this.#comfortNoisePt = opts.comfortNoisePayloadType;
    this.#telephoneEventClockHz = opts.telephoneEventClockRateHz ?? opts.clockRateHz;
    this.#direction = opts.direction ?? 'sendrecv';
    this.#peer = new PeerLatch(
      opts.latching ?? 'strict',
      opts.remote,
      opts.signallingAddress,
      opts.peerBehindNat,
      this.#now
    );
    this.#srtp = opts.srtp && SrtpTransform.create(opts.srtp, undefined, this.#srtpKeys, this.#now);
    this.#peer.authenticated = this.#srtp !== undefined;
    this.#cname = opts.cname ?? `uasmedia-${process.pid}@${opts.ports.rtpSocket.address().address}`;
    this.#rtcpIntervalMs = opts.rtcpIntervalMs ?? 5000;
    this.#sendBatch = opts.sendBatch;
    this.#clock = opts.clock;
    this.#jitter = new JitterBuffer({
      clockRateHz: opts.clockRateHz,
      samplesPerFrame: opts.samplesPerFrame,
      ...opts.jitter
    });
    this.#framing = new InboundFraming(
      this.#jitter,
      opts.clockRateHz,
      opts.samplesPerFrame,
      opts.sampleFormat ?? PCMU_SAMPLES
    );
    this.#reception = new ReceptionStats(opts.clockRateHz);
    this.#events = new TelephoneEventReceiver({
      clockRateHz: this.#telephoneEventClockHz,
      onDigit: (event) => this.safeEmit('dtmf', event),
      onDigitStart: (event) => this.safeEmit('dtmfStart', event)
    });
    this.#packetizer = new RtpPacketizer({
      payloadType: opts.payloadType,
      clockRateHz: opts.clockRateHz,
      samplesPerFrame: opts.samplesPerFrame,
      ssrc: opts.ssrc
    });
    this.#samplesPerFrame = opts.samplesPerFrame;
    this.#sampleFormat = opts.sampleFormat ?? PCMU_SAMPLES;
    this.setSendPtime(opts.ptimeMs ?? 20);
    this.ports.rtpSocket.on('message', this.#onRtp);
    this.ports.rtcpSocket.on('message', this.#onRtcp);
    this.#lastHeardMs = this.#now();
    this.#scheduleRtcp();
  }

  /** Milliseconds since the peer last sent RTP we accepted or a valid RTCP report (or since the session or its direction began). */
  msSinceHeard(): number {
    return this.#now() - this.#lastHeardMs;
  }

  /** Whether the peer was heard in the last `ms` (see msSinceHeard); a boolean, so the per-frame check boxes no double. */
  heardWithin(ms: number): boolean {
    return this.#now() - this.#lastHeardMs < ms;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get ssrc(): number {
    return this.#packetizer.ssrc;
  }

  get direction(): MediaDirection {
    return this.#direction;
  }

  /** Where RTP goes now: the latched source (symmetric RTP), else the SDP address. */
  get remoteAddress(): { address: string; port: number } | undefined {
    const to = this.#peer.destination;
    return to && { address: to.address, port: to.port };
  }

  /** Packets dropped because they came from a stranger (the cheap part of `stats()`). */
  get packetsFromOtherSources(): number {
    return this.#counters.packetsFromOtherSources;
  }

  /** True while SRTP protects the session. */
  get encrypted(): boolean {
    return this.#srtp !== undefined;
  }

  /**
   * The frame due now (see JitterBuffer.pop): byte length copied into `target`, FRAME_LOST
   * (conceal), FRAME_STOPPED or FRAME_SILENT. Also ends an RFC 4733 event whose end packets were all lost.
   * `nowMs`: when the frame is due (the frame clock's tick time), if not the session's clock now.
   */
  readFrame(target: Uint8Array, nowMs?: number): number {
    if (this.#closed) return FRAME_SILENT;
    const now = nowMs ?? this.#now();
    this.#events.poll(now);
    if (this.#direction === 'sendonly' || this.#direction === 'inactive') return FRAME_SILENT;
    return this.#framing.read(target, now);
  }

  /**
   * Sends one frame of encoded audio, unless an RFC 4733 event is being sent or we may not send.
   * `packet` holds the `payloadBytes` of payload from byte RTP_HEADER_BYTES on; the header is
   * written in front of it and the packet sent from there. `nowMs`: when the frame is due (the
   * frame clock's tick time), if not the session's clock now. Frames that catch up after a stall
   * are sent back to back; numbered by the wall clock, the first looked like a talkspurt after a
   * pause and moved the timestamp on by the stall, and the stream ran that far ahead ever after.
   * Due times are exact, so ticks the clock skipped move the timestamp on (RtpPacketizer).
   */
  sendFrame(packet: Buffer, payloadBytes: number, nowMs?: number): void {
    if (this.#closed) throw new ClosedError('RTP session');
    const now = nowMs ?? this.#now();
    const onFrameClock = nowMs !== undefined;
    const to = this.#peer.destination;
    if (
      this.#sendingHeld ||
      this.#direction === 'recvonly' ||
      this.#direction === 'inactive' ||
      to === undefined
    ) {
      this.#packing?.clear();
      return;
    }
    if (this.#dtmfActive) {
      this.#packetizer.skipAudio(now, onFrameClock); // §2.5.1.3: the event replaces the audio it overlaps
      return;
    }
    if (this.#packing !== undefined) {
      this.#packFrame(this.#packing, packet, payloadBytes, now, onFrameClock, to);
      return;
    }
    this.#protectAndSend(packet, this.#packetizer.audio(packet, payloadBytes, now, onFrameClock), to);
  }

  /** The audio packet of `length` bytes at `packet`, protected when SRTP is on, sent or queued. */
  #protectAndSend(packet: Buffer, length: number, to: { address: string; port: number }): void {
    const srtp = this.#srtp;
    if (srtp === undefined) {
      this.#sendAudio(this.#exactView(packet, length), to);
      return;
    }
    // A packet queued before this one waits in srtp.rtpOut, where this one is about to be protected.
    if (this.#queued !== undefined) this.sendQueued();
    const protectedLength = srtp.outbound.protectRtp(packet, length, srtp.rtpOut);
    if (protectedLength < 0) this.#counters.sendErrors++;
    else this.#sendAudio(this.#exactView(srtp.rtpOut, protectedLength), to);
  }

  /** One frame into `packing`; every packet's worth waiting goes out (a frame that does not follow, what waited first). */
  #packFrame(
    packing: OutboundPacking,
    packet: Buffer,
    payloadBytes: number,
    now: number,
    onFrameClock: boolean,
    to: { address: string; port: number }
  ): void {
    if (payloadBytes <= 0) return; // no audio to pack (and no packet's worth could ever come)
    const p = this.#packetizer;
    p.skipAudio(now, onFrameClock);
    if (!packing.continues(p.frameTs, p.frameMarker))
      this.#sendPacked(packing, packing.pendingBytes, now, to);
    packing.append(packet, RTP_HEADER_BYTES, payloadBytes, this.#samplesPerFrame, p.frameTs, p.frameMarker);
    const full = packing.packetBytes(payloadBytes);
    while (packing.pendingBytes >= full) this.#sendPacked(packing, full, now, to);
  }

  /** The first `bytes` waiting in `packing`, as one packet. */
  #sendPacked(
    packing: OutboundPacking,
    bytes: number,
    now: number,
    to: { address: string; port: number }
  ): void {
    if (bytes === 0) return;
    const packet = packing.take(bytes);
    this.#protectAndSend(
      packet,
      this.#packetizer.audioAt(packet, bytes, packing.takenTs, packing.takenMarker, now),
      to
    );
  }

  /**
   * The packet time we send with: the peer's a=ptime, as OutboundPacking takes it. A change drops
   * what waits to be packed.
   */
  setSendPtime(ptimeMs: number): void {
    this.#askedPtimeMs = ptimeMs;
    const frameBytes = this.#samplesPerFrame * this.#sampleFormat.bytesPerSample;
    const packetMs = packetMsFor(ptimeMs, frameBytes, this.#packetizer.maxPayloadBytes);
    if (packetMs === (this.#packing?.packetMs ?? 20)) return;
    this.#packing =
      packetMs === 20 ? undefined : new OutboundPacking(packetMs, this.#packetizer.maxPayloadBytes);
  }

  /**
   * Sends a frame's packet now, or queues it in the send batch. Queued, its memory must stay as it
   * is until the batch is flushed: the frame loop flushes at the end of every tick, before the DSP
   * core writes the next frame into the same slot.
   */
  #sendAudio(packet: Buffer, to: { address: string; port: number }): void {
    const batch = this.#sendBatch;
    if (batch === undefined) {
      this.#send(this.ports.rtpSocket, packet, packet.length, to);
      return;
    }
    if (this.#queued !== undefined) this.sendQueued(); // two frames before one flush: both go out, in order
    this.#queued = packet;
    this.#queuedTo = to;
    batch.add(this);
  }

  sendQueued(): void {
    const packet = this.#queued;
    const to = this.#queuedTo;
    if (packet === undefined || to === undefined) return;
    this.#queued = this.#queuedTo = undefined;
    if (!this.#closed) this.#send(this.ports.rtpSocket, packet, packet.length, to);
  }

  /**
   * `packet[0, length)` as a Buffer of exactly that length, kept while the packet's place and size
   * stay the same: given a longer buffer and a length, dgram would make such a view per send.
   */
  #exactView(packet: Buffer, length: number): Buffer {
    if (packet.length === length) return packet;
    const view = this.#sendView;
    if (
      view !== undefined &&
      view.length === length &&
      view.byteOffset === packet.byteOffset &&
      view.buffer === packet.buffer
    )
      return view;
    return (this.#sendView = Buffer.from(packet.buffer, packet.byteOffset, length));
  }

  /**
   * Sends one DTMF digit as RFC 4733 events (§2.5.1): start packet with the marker, an update
   * every packet time, three end packets. Digits queue one after another; resolves once the
   * last end packet went out. Rejects on close, on a bad digit, or when we may not send.
   */
  sendDtmf(digit: string, durationMs: number, volumeDbm0 = 10): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('RTP session'));
    const pt = this.#telephoneEventPt;
    if (pt === undefined)
      return Promise.reject(
        new InvalidStateError('cannot send DTMF: no telephone-event payload type was negotiated')
      );
    let plan: ReturnType<typeof planTelephoneEvent>;
    try {
      plan = planTelephoneEvent(
        digit,
        durationMs,
        this.#telephoneEventClockHz,
        this.#packetizer.frameMs,
        volumeDbm0
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#dtmfQueue.then(() => this.#sendEvent(pt, plan));
    this.#dtmfQueue = run.catch(() => undefined);
    return run;
  }

  async #sendEvent(pt: number, plan: ReturnType<typeof planTelephoneEvent>): Promise<void> {
    if (this.#closed) throw new ClosedError('RTP session');
    if (this.#direction === 'recvonly' || this.#direction === 'inactive') {
      throw InvalidStateError.forState('RTP session', this.#direction, ['sendrecv', 'sendonly'], 'send DTMF');
    }
    this.#dtmfActive = true;
    const start = this.#now();
    // The audio waiting to be packed comes before the event.
    const waiting = this.#packing;
    const before = this.remoteAddress;
    if (waiting !== undefined && before !== undefined && !this.#sendingHeld)
      this.#sendPacked(waiting, waiting.pendingBytes, start, before);
    const eventTs = this.#packetizer.eventTimestamp(start);
    try {
      for (const packet of plan) {
        const waitMs = packet.atMs - (this.#now() - start);
        if (waitMs > 0) await this.#sleep(waitMs);
        const to = this.remoteAddress;
        if (to === undefined) continue;
        const { buf, length } = this.#packetizer.event(
          pt,
          packet.marker,
          eventTs,
          packet.payload,
          this.#now()
        );
        const srtp = this.#srtp;
        if (srtp === undefined) this.#send(this.ports.rtpSocket, buf, length, to);
        else {
          const protectedLength = srtp.outbound.protectRtp(buf, length, srtp.rtpOut);
          if (protectedLength < 0) this.#counters.sendErrors++;
          else this.#send(this.ports.rtpSocket, srtp.rtpOut, protectedLength, to);
        }
      }
      // The event's duration counts in its own clock; the audio after it goes on in the codec's.
      const durationSamples = plan[plan.length - 1].payload.duration;
      this.#packetizer.endEvent(
        eventTs,
        Math.round((durationSamples * this.#clockRateHz) / this.#telephoneEventClockHz),
        this.#now()
      );
    } finally {
      this.#dtmfActive = false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const entry = {
        timer: setTimeout(() => {
          this.#dtmfTimers.delete(entry);
          resolve();
        }, ms),
        reject
      };
      this.#dtmfTimers.add(entry);
    });
  }

  /**
   * New SDP address (re-INVITE): send there and latch again on the next valid source. When the
   * peer moved, its old source is not latched again: packets it sent before moving may still wait
   * unread in our socket (a busy host reads late), and latching back onto them would send every
   * packet to a port the peer has closed and drop everything from its new one.
   */
  setRemote(remote: RtpRemote): void {
    this.#peer.setRemote(remote);
  }

  /** The peer's signalling moved (a caller behind NAT on a new network): its RTP may come from there now. */
  setSignallingAddress(address: string): void {
    this.#peer.setSignallingAddress(address);
  }

  /** New SRTP keys (re-INVITE), or plain RTP; a key that did not change keeps its ROC and replay window. */
  setSrtp(keys: SrtpKeys | undefined): void {
    this.#srtp = keys && SrtpTransform.create(keys, this.#srtp, this.#srtpKeys, this.#now);
    this.#peer.authenticated = this.#srtp !== undefined;
  }

  /**
   * Codec change (re-INVITE): new payload type, clock and frame size; the inbound stream restarts.
   * The same codec again (a session refresh) changes nothing: the stream goes on.
   */
  updateCodec(
    payloadType: number,
    clockRateHz: number,
    samplesPerFrame: number,
    sampleFormat: SampleFormat = PCMU_SAMPLES
  ): void {
    if (
      payloadType === this.#payloadType &&
      clockRateHz === this.#clockRateHz &&
      samplesPerFrame === this.#samplesPerFrame &&
      sampleFormat === this.#sampleFormat
    )
      return;
    this.#payloadType = payloadType;
    this.#clockRateHz = clockRateHz;
    this.#packetizer.setFormat(payloadType, clockRateHz, samplesPerFrame);
    this.#framing.setFormat(clockRateHz, samplesPerFrame, sampleFormat);
    this.#samplesPerFrame = samplesPerFrame;
    this.#sampleFormat = sampleFormat;
    this.#packing?.clear();
    this.setSendPtime(this.#askedPtimeMs); // a larger frame may fit fewer in a packet
    this.#newReception();
    this.#events.reset();
  }

  /** The telephone-event's payload type and clock (default the codec's), or none (RFC 4733 §7.1). */
  setTelephoneEventPayloadType(payloadType: number | undefined, clockRateHz = this.#clockRateHz): void {
    this.#telephoneEventPt = payloadType;
    if (clockRateHz === this.#telephoneEventClockHz) return;
    this.#telephoneEventClockHz = clockRateHz;
    this.#events.setClockRate(clockRateHz);
    this.#events.reset();
  }

  /** Comfort noise's payload type, or none (a re-INVITE may add or drop it). */
  setComfortNoisePayloadType(payloadType: number | undefined): void {
    this.#comfortNoisePt = payloadType;
  }

  /** Counts the peer's silence from now, as from a new session (a placed call's answer after its early media). */
  restartInactivity(): void {
    this.#lastHeardMs = this.#now();
  }

  /** SDP direction (RFC 3264 §5.1): hold stops sending and/or ignores inbound media. */
  setDirection(direction: MediaDirection): void {
    if (direction !== this.#direction) this.#lastHeardMs = this.#now();
    this.#direction = direction;
  }

  /** Packets received so far (the cheap part of `stats()`, for per-second metrics). */
  get packetsReceived(): number {
    return this.#counters.packetsReceived;
  }

  get packetsSent(): number {
    return this.#packetizer.packetsSent;
  }

  /** Packets lost (RFC 3550 A.3) over every inbound stream of the session, never negative. */
  get packetsLost(): number {
    return this.#lostInEarlierStreams + this.#reception.totalLost;
  }

  /** A new inbound stream (another SSRC or codec): its reports start afresh, the session's loss goes on. */
  #newReception(): void {
    this.#lostInEarlierStreams += this.#reception.totalLost;
    this.#reception = new ReceptionStats(this.#clockRateHz);
  }

  get packetsLate(): number {
    return this.#jitter.packetsLate;
  }

  /** The frame `readFrame` returned last follows frames the jitter buffer skipped (JitterBuffer.frameFollowsSkip). */
  get frameFollowsSkip(): boolean {
    return this.#framing.frameFollowsSkip;
  }

  /**
   * Bytes of payload the jitter buffer skipped just before the frame `readFrame` returned last,
   * written after that frame's bytes for a stateful decoder (JitterBuffer.frameSkippedBytes).
   */
  get frameSkippedBytes(): number {
    return this.#framing.frameSkippedBytes;
  }

  /** How long after its arrival the frame `readFrame` returned last is played (the jitter buffer's delay). */
  get playoutDelayMs(): number {
    return this.#jitter.currentDelayMs;
  }

  /** Interarrival jitter (RFC 3550 §6.4.1) in ms. */
  get jitterMs(): number {
    return this.#reception.jitterMs;
  }

  // Objects built field by field, no spread: see JitterBuffer.stats.
  stats(): RtpSessionStats {
    const jb = this.#jitter.stats();
    const reasons = this.#discardReasons;
    const remote = this.remoteAddress;
    return {
      packetsReceived: this.packetsReceived,
      packetsSent: this.packetsSent,
      packetsLost: this.packetsLost,
      packetsLate: jb.packetsLate,
      packetsDuplicate: jb.packetsDuplicate,
      packetsDiscarded: this.#counters.packetsDiscarded + jb.packetsDiscarded,
      packetsFromOtherSources: this.#counters.packetsFromOtherSources,
      packetsRefusedSource: this.#counters.packetsRefusedSource,
      discardReasons: {
        short: reasons.short,
        version: reasons.version,
        csrc: reasons.csrc,
        extension: reasons.extension,
        padding: reasons.padding,
        payloadType: reasons.payloadType,
        direction: reasons.direction,
        jitterBuffer: jb.packetsDiscarded,
        srtpAuth: reasons.srtpAuth,
        srtpReplay: reasons.srtpReplay,
        probation: reasons.probation
      },
      jitterMs: this.jitterMs,
      jitterBufferDelayMs: jb.currentDelayMs,
      jitterBufferTargetMs: jb.targetDelayMs,
      packetTimeMs: this.#framing.packetMs,
      concealedFrames: jb.framesConcealed + jb.framesExpanded,
      bytesReceived: this.#counters.bytesReceived,
      bytesSent: this.#packetizer.octetsSent,
      rtcpSent: this.#counters.rtcpSent,
      rtcpReceived: this.#counters.rtcpReceived,
      rtcpDiscarded: this.#counters.rtcpDiscarded,
      roundTripMs: this.#roundTripMs,
      remoteAddress: remote?.address,
      remotePort: remote?.port,
      ssrc: this.#packetizer.ssrc,
      remoteSsrc: this.#hasRemoteSsrc ? this.#remoteSsrc : undefined,
      srtpSuite: this.#srtp?.outbound.suite.name,
      internalErrors: this.#counters.internalErrors,
      sendErrors: this.#counters.sendErrors
    };
  }

  /**
   * Holds everything this session would send (RTP, RTCP) while `held`: an answered call's peer is
   * only known to receive once its ACK comes. A forged INVITE names any address in its SDP, and
   * a call answered to it streamed there for 64*T1 (1,600 packets for one INVITE).
   */
  holdSending(held: boolean): void {
    if (this.#sendingHeld && !held) this.#peer.startSending();
    this.#sendingHeld = held;
  }

  /** Sends an RTCP BYE, closes both sockets (ports.release()) and timers; idempotent. */
  close(): void {
    if (this.#closed) return;
    try {
      if (this.#rtcpIntervalMs > 0) this.#sendRtcp(true);
    } catch {
      // best effort
    }
    this.#closed = true;
    if (this.#rtcpTimer) clearTimeout(this.#rtcpTimer);
    this.#rtcpTimer = undefined;
    for (const entry of this.#dtmfTimers) {
      clearTimeout(entry.timer);
      entry.reject(new ClosedError('RTP session'));
    }
    this.#dtmfTimers.clear();
    this.ports.rtpSocket.off('message', this.#onRtp);
    this.ports.rtcpSocket.off('message', this.#onRtcp);
    this.ports.release();
  }

  /** A synchronous send failure (socket gone, bad address) is counted, never thrown at the frame clock. */
  #send(socket: dgram.Socket, buf: Buffer, length: number, to: { address: string; port: number }): boolean {
    try {
      if (buf.length === length) socket.send(buf, to.port, to.address);
      else socket.send(buf, 0, length, to.port, to.address);
      return true;
    } catch {
      this.#counters.sendErrors++;
      return false;
    }
  }

  #handlerFailed(error: unknown): void {
    this.#counters.internalErrors++;
    process.emitWarning(
      `RTP session handler failed: ${error instanceof Error ? error.message : String(error)}`,
      { code: 'UASMEDIA_RTP_HANDLER' }
    );
  }

  /** The last sender checked and the verdict: a call's packets come from one address. */
  #checkedSource = '';
  #checkedSourceAllowed = true;

  #refusesSource(address: string): boolean {
    const policy = this.ports.sourcePolicy;
    if (policy === undefined) return false;
    if (address !== this.#checkedSource) {
      this.#checkedSource = address;
      this.#checkedSourceAllowed = policy.allows(address);
    }
    if (this.#checkedSourceAllowed) return false;
    this.#counters.packetsRefusedSource++;
    policy.refused();
    return true;
  }

  #discard(reason: keyof RtpSessionStats['discardReasons']): void {
    this.#counters.packetsDiscarded++;
    this.#discardReasons[reason]++;
  }

  #receiveRtp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (looksLikeRtcp(msg, msg.length)) {
      this.#receiveRtcp(msg, msg.length, rinfo); // RFC 5761 rtcp-mux
      return;
    }
    const peer = this.#peer;
    const rebinding = !peer.acceptsRtp(rinfo.address, rinfo.port);
    if (rebinding && !this.#mayRebind(rinfo)) {
      this.#counters.packetsFromOtherSources++;
      return;
    }
    let length = msg.length;
    const srtp = this.#srtp;
    if (srtp !== undefined) {
      length = srtp.unprotectRtp(msg, length);
      if (length === SRTP_REPLAYED) return this.#discard('srtpReplay');
      if (length < 0) return this.#discard('srtpAuth');
    }
    const h = this.#header;
    const error = h.parse(msg, length);
    if (error !== null) return this.#discard(error);
    if (rebinding && !this.#continuesStream(h)) {
      this.#counters.packetsFromOtherSources++;
      return;
    }
    const isEvent = this.#telephoneEventPt !== undefined && h.payloadType === this.#telephoneEventPt;
    const isSilence = this.#comfortNoisePt !== undefined && h.payloadType === this.#comfortNoisePt;
    if (h.payloadType !== this.#payloadType && !isEvent && !isSilence) return this.#discard('payloadType');
    if (this.#direction === 'sendonly' || this.#direction === 'inactive') return this.#discard('direction');
    const latch = peer.admitRtp(rinfo.address, rinfo.port, h);
    if (latch === 'onProbation') return this.#discard('probation');
    if (latch === 'latchedNow') this.safeEmit('latched', { address: rinfo.address, port: rinfo.port });
    const now = this.#now();
    if (h.ssrc !== this.#remoteSsrc && (!isEvent || !this.#hasRemoteSsrc)) {
      if (this.#hasRemoteSsrc && !this.#takesOver(h, now)) return this.#discard('probation');
      const previous = this.#remoteSsrc;
      const hadOne = this.#hasRemoteSsrc;
      this.#remoteSsrc = h.ssrc;
      this.#hasRemoteSsrc = true;
      if (hadOne) {
        this.#newReception();
        this.#jitter.reset(true);
        this.#framing.restart();
        this.safeEmit('ssrcChange', { previous, ssrc: h.ssrc });
      }
    }
    h.arrivalMs = now;
    // Reception statistics (and RTCP reports) are the audio source's; events on an SSRC of their
    // own have their own sequence numbers.
    if (h.ssrc === this.#remoteSsrc) {
      this.#reception.update(h, !isEvent);
      this.#lastAudioMs = now;
      this.#lastAudioSeq = h.sequenceNumber;
    }
    this.#lastHeardMs = now;
    this.#counters.packetsReceived++;
    this.#counters.bytesReceived += h.payloadLength;
    // Events of every SSRC go to one receiver: §2.1 puts them on the audio's, some senders use one
    // of their own, and a transfer moves them to another. Told apart by their timestamps, as any
    // two presses are, a press whose ends were lost is reported when the next source's starts, and
    // a straggler of the old source's is not taken for a new press (a reset on each SSRC change
    // had lost the one and reported the other twice).
    if (isEvent) this.#events.receive(msg, h.payloadOffset, h.payloadLength, h.timestamp, now);
    else if (isSilence) this.#jitter.push(h, msg, true);
    else {
      this.#framing.observe(h.payloadLength);
      this.#jitter.push(h, msg);
    }
  }

  /** Whether a packet of another SSRC takes the audio over (SSRC_TAKEOVER_QUIET_MS). */
  #takesOver(h: RtpHeaderView, now: number): boolean {
    if (now - this.#lastAudioMs >= SSRC_TAKEOVER_QUIET_MS) return true;
    if (h.ssrc === this.#candidateSsrc && h.sequenceNumber === this.#candidateNextSeq) return true;
    this.#candidateSsrc = h.ssrc;
    this.#candidateNextSeq = (h.sequenceNumber + 1) & 0xffff;
    return false;
  }

  /** A source the latch refused, on the latched source's host, once that source has gone quiet. */
  #mayRebind(rinfo: dgram.RemoteInfo): boolean {
    return (
      this.#hasRemoteSsrc &&
      this.#peer.mayRebind(rinfo.address, rinfo.port) &&
      this.#now() - this.#lastAudioMs >= REBIND_AFTER_SILENCE_MS
    );
  }

  /** The latched stream carried on: its SSRC, and a sequence number a little past its last. */
  #continuesStream(h: RtpHeaderView): boolean {
    const ahead = seqDiff16(h.sequenceNumber, this.#lastAudioSeq);
    return h.ssrc === this.#remoteSsrc && ahead > 0 && ahead <= REBIND_MAX_SEQUENCE_GAP;
  }

  #receiveRtcp(msg: Uint8Array, length: number, rinfo: dgram.RemoteInfo): void {
    const peer = this.#peer;
    if (!peer.acceptsRtcp(rinfo.address, rinfo.port)) {
      this.#refuseRtcp(rinfo);
      return;
    }
    const srtp = this.#srtp;
    if (srtp !== undefined) {
      length = srtp.unprotectRtcp(msg, length);
      if (length < 0) {
        this.#counters.rtcpDiscarded++;
        return;
      }
    }
    const { packets, errors } = parseRtcpCompound(msg, length);
    if (packets.length === 0 || (packets[0].type !== 'sr' && packets[0].type !== 'rr')) {
      this.#counters.rtcpDiscarded++;
      return;
    }
    const rtpSsrc = this.#hasRemoteSsrc ? this.#remoteSsrc : undefined;
    if (!peer.admitRtcp(rinfo.address, rinfo.port, packets[0].ssrc, rtpSsrc)) {
      this.#refuseRtcp(rinfo); // a stranger's report on the peer's host, or the peer's from elsewhere
      return;
    }
    if (errors.length > 0) this.#counters.rtcpDiscarded++;
    this.#counters.rtcpReceived++;
    const now = this.#now();
    this.#lastHeardMs = now;
    const ntp = ntpFromUnixMs(Date.now());
    const arrivalMiddle = ntpMiddle32(ntp.seconds, ntp.fraction);
    let rtt: number | undefined;
    for (const p of packets) {
      if (p.type === 'sr' && this.#hasRemoteSsrc && p.ssrc === this.#remoteSsrc)
        this.#reception.onSenderReport(ntpMiddle32(p.ntpSeconds, p.ntpFraction), now);
      if (p.type === 'sr' || p.type === 'rr') {
        for (const block of p.reports) {
          if (block.ssrc === this.#packetizer.ssrc && this.#sentReport(block.lastSenderReport))
            rtt = roundTripMs(block, arrivalMiddle) ?? rtt;
        }
      }
    }
    if (rtt !== undefined) this.#roundTripMs = rtt;
    this.safeEmit('rtcp', { packets, from: { address: rinfo.address, port: rinfo.port }, roundTripMs: rtt });
  }

  /**
   * A report from a source RTCP does not take: a stranger's, unless it comes from the latched RTP
   * source (the peer's RTCP on our RTP port with rtcp-mux never agreed, once its RTCP latched to
   * another port), which is the peer's own and only discarded: a security alert on strangers would
   * otherwise fire with none there.
   */
  #refuseRtcp(rinfo: dgram.RemoteInfo): void {
    if (this.#peer.isLatchedRtp(rinfo.address, rinfo.port)) this.#counters.rtcpDiscarded++;
    else this.#counters.packetsFromOtherSources++;
  }

  #scheduleRtcp(): void {
    if (this.#rtcpIntervalMs <= 0 || this.#closed) return;
    // RFC 3550 §6.3.1: randomise over [0.5, 1.5] × interval so sessions don't synchronise.
    const delay = this.#rtcpIntervalMs * (0.5 + Math.random());
    this.#rtcpTimer = setTimeout(() => {
      if (this.#closed) return;
      try {
        this.#sendRtcp(false);
      } catch (error) {
        this.#handlerFailed(error);
      }
      this.#scheduleRtcp();
    }, delay);
    this.#rtcpTimer.unref();
  }

  /**
   * Where RTCP goes: the latched RTCP source, the SDP rtcp port, or RTP port + 1 (§11). Nowhere
   * while RTP is on port 65535 and neither of the first two is known: there is no port after it,
   * and every report would fail to send.
   */
  #rtcpDestination(): { address: string; port: number } | undefined {
    const peer = this.#peer;
    if (peer.rtcpLatched) return peer.rtcpLatched;
    const rtp = peer.destination;
    if (rtp === undefined) return undefined;
    const remote = peer.remote;
    if (peer.latched === undefined && remote?.rtcpPort !== undefined)
      return { address: remote.rtcpAddress ?? remote.address, port: remote.rtcpPort };
    return rtp.port < 65535 ? { address: rtp.address, port: rtp.port + 1 } : undefined;
  }

  /** Whether `lsr` (a report block's LSR) is one of our last sender reports. */
  #sentReport(lsr: number): boolean {
    const kept = Math.min(this.#reportsSentCount, SENDER_REPORTS_KEPT);
    for (let i = 0; i < kept; i++) if (this.#reportsSent[i] === lsr) return true;
    return false;
  }

  /** Sends SR (if we sent media since the last report) or RR, SDES CNAME, and BYE when leaving (§6.1). */
  #sendRtcp(bye: boolean): void {
    const to = this.#rtcpDestination();
    if (to === undefined || this.#sendingHeld) return;
    const now = this.#now();
    const p = this.#packetizer;
    const blocks: ReportBlock[] =
      this.#hasRemoteSsrc && this.#reception.received > 0 ? [this.#reception.reportBlock(now)] : [];
    const packets: RtcpPacket[] = [];
    if (p.packetsSent > this.#sentAtLastReport) {
      const wall = Date.now();
      const ntp = ntpFromUnixMs(wall);
      packets.push({
        type: 'sr',
        ssrc: p.ssrc,
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        // §6.4.1: the RTP timestamp of the same instant as the NTP timestamp.
        rtpTimestamp: p.timestampAt(now),
        packetCount: p.packetsSent >>> 0,
        octetCount: p.octetsSent >>> 0,
        reports: blocks
      });
      this.#sentAtLastReport = p.packetsSent;
      this.#reportsSent[this.#reportsSentCount++ % SENDER_REPORTS_KEPT] = ntpMiddle32(
        ntp.seconds,
        ntp.fraction
      );
    } else {
      packets.push({ type: 'rr', ssrc: p.ssrc, reports: blocks });
    }
    packets.push({ type: 'sdes', chunks: [{ ssrc: p.ssrc, cname: this.#cname }] });
    if (bye) packets.push({ type: 'bye', ssrcs: [p.ssrc] });
    const datagram = serializeRtcpCompound(packets);
    const srtp = this.#srtp;
    if (srtp === undefined) {
      if (this.#send(this.ports.rtcpSocket, datagram, datagram.length, to)) this.#counters.rtcpSent++;
      return;
    }
    const protectedLength = srtp.outbound.protectRtcp(datagram, datagram.length, srtp.rtcpOut);
    if (protectedLength < 0) this.#counters.sendErrors++;
    else if (
      this.#send(
        this.ports.rtcpSocket,
        Buffer.from(srtp.rtcpOut.subarray(0, protectedLength)),
        protectedLength,
        to
      )
    )
      this.#counters.rtcpSent++;
  }
}
