/**
 * Adaptive jitter buffer for one inbound RTP stream, as a plain data structure with the clock
 * passed in (STYLE.md "cores without I/O"). The socket side `push`es packets as they arrive; the
 * engine's 20 ms frame clock calls `pop` once per frame and gets, for that frame, the payload
 * bytes, FRAME_LOST ("conceal this frame": the WebAssembly core runs G.711 PLC), FRAME_SILENT
 * (nothing to play: not started yet, silence between talkspurts) or FRAME_STOPPED (silence: the
 * stream stopped, a pause or a stall, not known yet).
 *
 * Timing model. Each packet's transit is arrival − timestamp (in ms). The path's base delay is the
 * smallest transit of a sliding window, carried along the drift of the window's minima (a sender
 * clock a little slow or fast makes every transit rise or fall steadily); a packet's excess over
 * it is its jitter. The target delay is a running estimate of a high percentile of that jitter
 * (by default the 97th: about 3 % of packets would come later than it), clamped to [minDelayMs,
 * maxDelayMs]. The playout delay D of the frame due now is now − (its timestamp in ms + base
 * delay): a packet is late exactly when its jitter exceeds D. When D falls below the target the
 * buffer stretches by one concealed frame; when it exceeds the target by 1.5 frames it skips one
 * (at most every `adjustIntervalFrames`), so D stays in [target, target + 1.5 frames) without a
 * step bigger than a frame, and the half frame between keeps a target that wanders by a few ms
 * from stretching and skipping in turn. Neither may click: a stretch is concealed and the PLC
 * cross-fades into the next real frame, and the frame after a skip is flagged
 * (`frameFollowsSkip`) so the core cross-fades into it from the audio played before. A codec whose
 * decoder carries state from packet to packet (G.722's ADPCM predictor and step sizes) must still
 * decode what was skipped, or it no longer tracks the sender's encoder and the frames after decode
 * wrong until it adapts back (a tone at 24-31 dB SNR, not 47): with `keepSkippedPayload` the payloads
 * skipped (to shrink the delay, to make room, or where playout starts again) are handed on after
 * the next frame's payload (`frameSkippedBytes`), if nothing is missing between what the decoder
 * had and them and between them and that frame.
 *
 * Order is by extended sequence number and timestamps (sequence.ts handles every wrap).
 * Duplicates are dropped by sequence; packets whose timestamp is already past the playout point
 * are late and dropped; at most `maxPackets` are held (older ones are skipped to make room).
 * Concealment stops after `maxConcealFrames` in a row and the buffer resynchronises on the next
 * packets; with nothing held at all it stops after TALKSPURT_END_FRAMES: the stream stopped (a
 * talkspurt ended, RFC 3551 §4.1's silence suppression, or the packets stalled), and the frames
 * after are silence on its timeline until then, FRAME_STOPPED (the stream back without a marker is
 * faded in as after a skip). Frames concealed while nothing was held count as concealed only once the stream goes on with a sequence number missing (RFC 3550: a
 * sender numbers every packet it sends, so a pause leaves no gap); a pause is not loss. A comfort
 * noise packet (RFC 3389, pushed with `silence`) ends the talkspurt at once: its frame and those
 * after it are silence, not concealment.
 *
 * An SSRC change or a timestamp jump that disagrees with the sequence numbers resets the buffer,
 * and so does a sender that restarts its sequence behind where it was (a media
 * server replaying a stream, a gateway restarting its RTP with the same SSRC): a packet more than
 * MAX_MISORDER behind the newest is dropped, but when the next one follows it the buffer starts
 * over on that one (RFC 3550 A.1's `bad_seq`); closer behind, RESTART_RUN packets in a row that
 * it held or played past, each following the last, start it over. Without these, every later
 * packet was a duplicate or late, and the party went silent for good. A sender that pauses with
 * its clock and goes on where it stopped starts it over too: RESTART_RUN packets in a row later
 * than the longest playout delay, none half a frame less late than the last. A stalled reader's
 * backlog, read at once, comes a frame less late packet by packet and is not such a run.
 */
import type { ReceivedRtp } from './rtp-packet.js';
import { WrapUnwrapper } from './sequence.js';

/** `pop` result: conceal this frame (packet lost or late, or the buffer is stretching). */
export const FRAME_LOST = -1;
/** `pop` result: nothing to play (not started, between talkspurts, after a resync). */
export const FRAME_SILENT = 0;
/**
 * `pop` result: silence because the stream stopped (nothing held after TALKSPURT_END_FRAMES
 * concealed), until maxConcealFrames have passed. Whether it paused (DTX) or stalled (its packets
 * come late, in a burst) is not known yet, so the in-band DTMF detector takes it as unknown audio.
 */
export const FRAME_STOPPED = -2;

/** The playout delay bounds an application may set (`EngineOptions.rtp.jitter`), in ms. */
export interface JitterDelays {
  /** Least playout delay (default 20 ms). */
  minDelayMs?: number;
  /** Most playout delay (default 200 ms). */
  maxDelayMs?: number;
  /** Delay a stream starts with, clamped to [min, max] (default 40 ms). */
  startDelayMs?: number;
}

/** The one range of every playout delay. */
export const JITTER_DELAY_MS = { min: 0, max: 2000 } as const;

/**
 * Checks playout delay bounds where they are set (the engine's constructor, a jitter buffer's):
 * `TypeError` for a value that is not a number, `RangeError` outside `JITTER_DELAY_MS` or for a
 * minimum above the maximum.
 */
export function checkJitterDelays(where: string, delays: JitterDelays | undefined): void {
  if (delays === undefined) return;
  for (const name of ['minDelayMs', 'maxDelayMs', 'startDelayMs'] as const) {
    const value: unknown = delays[name];
    if (value === undefined) continue;
    if (typeof value !== 'number')
      throw new TypeError(`${where}.${name} must be a number, got ${typeof value}`);
    if (!(value >= JITTER_DELAY_MS.min && value <= JITTER_DELAY_MS.max)) {
      throw new RangeError(
        `${where}.${name} ${value} must be between ${JITTER_DELAY_MS.min} and ${JITTER_DELAY_MS.max} ms`
      );
    }
  }
  if (
    delays.minDelayMs !== undefined &&
    delays.maxDelayMs !== undefined &&
    delays.minDelayMs > delays.maxDelayMs
  ) {
    throw new RangeError(
      `${where}.minDelayMs ${delays.minDelayMs} must not exceed maxDelayMs ${delays.maxDelayMs}`
    );
  }
}

export interface JitterBufferOptions extends JitterDelays {
  clockRateHz: number;
  /** Timestamp units per frame (and per packet): PCMU 20 ms = 160, L16 16 kHz = 320. */
  samplesPerFrame: number;
  /** Cap on packets held (default: enough for twice maxDelayMs, at least 16). */
  maxPackets?: number;
  /** Largest payload stored; bigger packets are discarded. Default 1280 bytes. */
  maxPayloadBytes?: number;
  /** Frames concealed in a row before the buffer gives up and resynchronises. Default 10 (200 ms); 3 with nothing held. */
  maxConcealFrames?: number;
  /** Share of packets the target delay should be late for at most (its percentile of jitter is 1 − this). Default 0.03. */
  targetLateShare?: number;
  /** How far one packet moves the target delay, in ms per 20 ms of audio (its speed of adaptation). Default 5. */
  targetStepMs?: number;
  /** Window over which the base (minimum) transit and its drift are tracked. Default 10 000 ms. */
  transitWindowMs?: number;
  /** Frames between two delay-reducing skips. Default 8. */
  adjustIntervalFrames?: number;
  /** A timestamp that disagrees with its sequence number by more than this resets the buffer. Default 1000 ms. */
  resetJumpMs?: number;
}

export type JitterPushResult = 'stored' | 'duplicate' | 'late' | 'discarded';

export interface JitterBufferStats {
  packetsStored: number;
  packetsDuplicate: number;
  packetsLate: number;
  /** Too large for a slot, too old to fit before the playout point, left behind where playout started, or far behind the newest (a restart not yet confirmed). */
  packetsDiscarded: number;
  /** Held packets skipped because the buffer was full. */
  packetsOverflow: number;
  /** Frames reported FRAME_LOST because their packet was missing. */
  framesConcealed: number;
  /** Frames reported FRAME_LOST to stretch the delay up to the target. */
  framesExpanded: number;
  /** Frames skipped to shrink the delay down to the target. */
  framesSkipped: number;
  framesPlayed: number;
  resets: number;
  resyncs: number;
  bufferedPackets: number;
  targetDelayMs: number;
  /** Playout delay D of the last frame (see the file comment). */
  currentDelayMs: number;
  /** Mean time from arrival to playout of the packets played. */
  meanPlayoutDelayMs: number;
}

type State = 'empty' | 'buffering' | 'playing';

/** What a packet does to the stream's timeline (#timelineOf). */
const SAME_TIMELINE = 0;
const NEW_TIMELINE = 1;
/** A packet from far behind: a restart if the next one follows it (RFC 3550 A.1). */
const RESTART_UNCONFIRMED = 2;
type Timeline = typeof SAME_TIMELINE | typeof NEW_TIMELINE | typeof RESTART_UNCONFIRMED;

const DUP_HISTORY = 1024;
/** Packets behind the newest that are still reordering; further back is a restart to confirm (RFC 3550 A.1). */
const MAX_MISORDER = 100;
/** `#restartSeq` when no restart is awaited: no 16-bit sequence number equals it. */
const NO_RESTART = -1;
/** Packets in a row, each following the last, that the buffer had seen or played past: a sender started over close behind. */
const RESTART_RUN = 5;
// Slot metadata (#meta), in doubles; 8 a slot so each is one 64-byte cache line.
const M_SEQ = 0;
const M_TS = 1;
const M_ARRIVAL = 2;
const M_LENGTH = 3;
const M_MARKER = 4;
const M_PAYLOAD_AT = 5;
/** The packet is comfort noise (RFC 3389), played as silence. */
const M_SILENCE = 6;
const META_STRIDE = 8;
/** Bytes of a slot beyond the largest payload: a 12-byte header, up to 15 CSRCs and a short extension. */
const PACKET_HEADROOM_BYTES = 96;
/** Buckets of the transit window, and how many must be closed before a drift is estimated. */
const TRANSIT_BUCKETS = 5;
const MIN_DRIFT_BUCKETS = 3;
/** D may exceed the target by this many frames before a frame is skipped (see the file comment). */
const SKIP_ABOVE_FRAMES = 1.5;
/** Most transit drift followed: ±2000 ppm of sender clock error (a slope beyond is a route change, not a clock). */
const MAX_DRIFT = 0.002;
/**
 * Frames concealed in a row with no packet held before the stream counts as stopped: G.711
 * Appendix I's concealment is silent 60 ms after a loss begins, so this is all of its tail, and a
 * burst of up to three lost packets is still concealed. Ten (maxConcealFrames) had a DTX caller's
 * every pause count 200 ms of concealment.
 */
const TALKSPURT_END_FRAMES = 3;

export class JitterBuffer {
  #capacity: number;
  /** `maxPackets` as given: the capacity then stays what the application set. */
  readonly #fixedCapacity: boolean;
  readonly maxPayloadBytes: number;
  #clockRateHz: number;
  #spf: number;
  #frameMs: number;
  readonly #minDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #startDelayMs: number;
  readonly #maxConceal: number;
  readonly #talkspurtEndFrames: number;
  readonly #lateShare: number;
  readonly #stepMs: number;
  readonly #windowMs: number;
  readonly #adjustFrames: number;
  readonly #resetJumpMs: number;

  /**
   * Per slot, META_STRIDE doubles: its packet's extended sequence number (-1: empty), extended
   * timestamp, arrival time, payload length, marker bit, and where the payload starts within its
   * slot of #store (the packet is stored whole when it fits), and whether it is comfort noise.
   * One array, one cache line a slot: a packet's push and pop each touch a single line of it.
   */
  #meta!: Float64Array;
  /** Per slot, the last view of its payload handed to `pop`'s copy: made again only when the packet's shape changes. */
  #slotViews!: (Uint8Array | undefined)[];
  /** capacity × #slotBytes: each slot holds one packet. */
  #store!: Uint8Array;
  readonly #slotBytes: number;
  readonly #seen = new Float64Array(DUP_HISTORY);
  readonly #seqs = new WrapUnwrapper(16);
  readonly #timestamps = new WrapUnwrapper(32);

  #state: State = 'empty';
  #ssrc = 0;
  #count = 0;
  /** Every held packet has seq in [#lowSeq, #lowSeq + capacity). */
  #lowSeq = 0;
  #highSeq = 0;
  #highTs = 0;
  #nextSeq = 0;
  #playoutTs = 0;
  #hasPlayed = false;
  #concealRun = 0;
  /** Frames concealed while nothing was held, not yet counted: loss if the stream goes on past a missing number, else a pause. */
  #tailFrames = 0;
  /** The 16-bit sequence number that goes on from the last packet played: the stream paused if it comes next. */
  #tailSeq = 0;
  /** The stream stopped while playing (nothing held after TALKSPURT_END_FRAMES concealed): its frames are silence. */
  #stopped = false;
  /** Frames still to conceal while a stream that replaced a playing one starts (`reset`). */
  #bridgeFrames = 0;
  #sinceAdjust = 0;
  /** The sequence number that confirms a restart: the one after a packet from far behind. */
  #restartSeq = NO_RESTART;
  /** Packets in a row from behind the playout point or already held, each following the last, and the next such. */
  #behindRun = 0;
  #behindNext = 0;
  /** Packets in a row later than the longest playout delay, none half a frame less late than the last, and how late the last was. */
  #lateRun = 0;
  #lateRunExcess = 0;

  /** Closed buckets of the transit window: each one's least transit and when it arrived. */
  readonly #bucketMin = new Float64Array(TRANSIT_BUCKETS);
  readonly #bucketAt = new Float64Array(TRANSIT_BUCKETS);
  #buckets = 0;
  #bucketNext = 0;
  /** The open bucket. */
  #curMinTransit = Infinity;
  #curMinAt = 0;
  #bucketStartMs = 0;
  /** Transit drift (ms per ms; > 0: the sender's clock is slow) and the closed buckets' base at time 0. */
  #drift = 0;
  #closedIntercept = Infinity;
  /** The base transit at time t is #drift·t + #baseIntercept. */
  #baseIntercept = Infinity;
  /** Running estimate of the (1 − targetLateShare) percentile of jitter, kept within [min, max]: the target. */
  #jitterQuantileMs = 0;
  /** How long before its playout time the reader asks for a packet at most (`setFormat`). */
  #readAheadMs = 0;
  #currentDelayMs = 0;
  /** Frames were skipped (to shrink the delay, or to make room) since the last frame `pop` returned. */
  #skipPending = false;
  #followsSkip = false;
  /** Most bytes of skipped payload kept for a stateful decoder (`keepSkippedPayload`); 0: none. */
  #keepBytes = 0;
  /** The payloads skipped since the last frame played, in order, for its decoder: the first #skippedBytes. */
  #skipped = new Uint8Array(0);
  #skippedBytes = 0;
  /** The extended sequence number that continues what the decoder was given (played or kept as skipped); -1: not known. */
  #decoderNextSeq = -1;
  #frameSkippedBytes = 0;
  #playoutDelaySumMs = 0;
  /** Bytes of one packet at the packet time (`setPacketBytes`); 0: not known. */
  #packetBytes = 0;

  readonly #stats = {
    packetsStored: 0,
    packetsDuplicate: 0,
    packetsLate: 0,
    packetsDiscarded: 0,
    packetsOverflow: 0,
    framesConcealed: 0,
    framesExpanded: 0,
    framesSkipped: 0,
    framesPlayed: 0,
    resets: 0,
    resyncs: 0
  };

  constructor(opts: JitterBufferOptions) {
    if (!(opts.clockRateHz > 0) || !(opts.samplesPerFrame > 0))
      throw new RangeError('clockRateHz and samplesPerFrame must be positive');
    checkJitterDelays('jitter', opts);
    if (opts.targetLateShare !== undefined && !(opts.targetLateShare > 0 && opts.targetLateShare < 1))
      throw new RangeError('targetLateShare must be between 0 and 1');
    if (opts.targetStepMs !== undefined && !(opts.targetStepMs > 0))
      throw new RangeError('targetStepMs must be positive');
    this.#clockRateHz = opts.clockRateHz;
    this.#spf = opts.samplesPerFrame;
    this.#frameMs = (1000 * opts.samplesPerFrame) / opts.clockRateHz;
    this.#minDelayMs = opts.minDelayMs ?? 20;
    this.#maxDelayMs = Math.max(this.#minDelayMs, opts.maxDelayMs ?? 200);
    this.#startDelayMs = clamp(opts.startDelayMs ?? 40, this.#minDelayMs, this.#maxDelayMs);
    this.#fixedCapacity = opts.maxPackets !== undefined;
    this.#capacity = opts.maxPackets ?? this.#packetsFor(this.#frameMs);
    this.maxPayloadBytes = opts.maxPayloadBytes ?? 1280;
    this.#maxConceal = opts.maxConcealFrames ?? 10;
    this.#talkspurtEndFrames = Math.min(TALKSPURT_END_FRAMES, this.#maxConceal);
    this.#lateShare = opts.targetLateShare ?? 0.03;
    this.#stepMs = opts.targetStepMs ?? 5;
    this.#windowMs = opts.transitWindowMs ?? 10_000;
    this.#adjustFrames = opts.adjustIntervalFrames ?? 8;
    this.#resetJumpMs = opts.resetJumpMs ?? 1000;
    // Room for the whole packet: the payload and a header with CSRCs and an extension.
    this.#slotBytes = this.maxPayloadBytes + PACKET_HEADROOM_BYTES;
    this.#allocateSlots();
    this.#jitterQuantileMs = this.#startDelayMs;
    this.#seen.fill(-1);
  }

  /** Packets held at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Packets of `packetMs` that span twice the longest playout delay, with room (at least 16). */
  #packetsFor(packetMs: number): number {
    return Math.max(16, Math.ceil((2 * this.#maxDelayMs) / packetMs) + 4);
  }

  #allocateSlots(): void {
    this.#meta = new Float64Array(this.#capacity * META_STRIDE);
    this.#emptySlots();
    this.#slotViews = new Array<Uint8Array | undefined>(this.#capacity).fill(undefined);
    this.#store = new Uint8Array(this.#capacity * this.#slotBytes);
  }

  /** Target playout delay now, in ms: the jitter percentile, plus the reader's read-ahead (`setFormat`). */
  get targetDelayMs(): number {
    return this.#jitterQuantileMs + this.#readAheadMs;
  }

  /** Playout delay D of the last frame (see the file comment): how long after it arrived (at the base transit) it was played. */
  get currentDelayMs(): number {
    return this.#currentDelayMs;
  }

  /**
   * The payload the last `pop` returned does not follow the audio played before it: frames were
   * skipped in between. Its start wants cross-fading from what was played (assembly/plc.ts).
   * False after FRAME_LOST, FRAME_STOPPED or FRAME_SILENT: concealment continues what was played anyway.
   */
  get frameFollowsSkip(): boolean {
    return this.#followsSkip;
  }

  /**
   * Bytes of skipped payload the last `pop` wrote into its target after the frame's own (at the
   * byte count it returned): packets skipped just before the frame, in order, for a stateful
   * decoder to run first and discard. 0 unless `keepSkippedPayload` is on.
   */
  get frameSkippedBytes(): number {
    return this.#frameSkippedBytes;
  }

  /**
   * Keeps up to `maxBytes` of the payload of skipped packets for the decoder of a codec that carries
   * state (see the file comment); 0 (the default) keeps none. More skipped in a row than that, or
   * a frame whose target has no room for them after its payload, and they are dropped as before.
   */
  keepSkippedPayload(maxBytes: number): void {
    if (maxBytes > this.#skipped.length) this.#skipped = new Uint8Array(maxBytes);
    this.#keepBytes = maxBytes;
    this.#skippedBytes = 0;
  }

  get bufferedPackets(): number {
    return this.#count;
  }

  /** Packets dropped for arriving after their playout time (the cheap part of `stats()`). */
  get packetsLate(): number {
    return this.#stats.packetsLate;
  }

  /**
   * Re-INVITE codec change, or the caller's packet time: new frame size or clock; the stream
   * restarts. `readAheadMs`: a reader that cuts packets into frames of another size asks for a
   * packet up to this long before its playout time (the `nowMs` it passes `pop`), so the packet
   * has had that much less time to arrive than its delay says: the target grows by it.
   */
  setFormat(clockRateHz: number, samplesPerFrame: number, readAheadMs = 0): void {
    this.#readAheadMs = readAheadMs;
    this.#clockRateHz = clockRateHz;
    this.#spf = samplesPerFrame;
    this.#frameMs = (1000 * samplesPerFrame) / clockRateHz;
    // Sized in packets: 5 ms packets in slots counted for 20 ms ones held a quarter of the delay,
    // and a stream whose target passed it overflowed (79 % of frames concealed over 150 ms of
    // jitter). Only grown, so a caller alternating sizes allocates once.
    const needed = this.#packetsFor(this.#frameMs);
    if (!this.#fixedCapacity && needed > this.#capacity) {
      this.#capacity = needed;
      this.#allocateSlots();
    }
    this.reset(true);
  }

  /**
   * Bytes of one packet at the packet time the reader takes (InboundFraming). A packet of another
   * size is then played on its own timeline: a longer one a packet time at a time, the rest left
   * due next; a shorter one moves the playout point on by the samples it holds. Before, a 40 ms
   * packet among 20 ms ones lost its second half and the frame after it was concealed, and a 10 ms
   * one made the next packet late. `readAheadMs` as `setFormat`'s: the reader that now cuts such
   * a stream into frames asks for packets that much before they play.
   */
  setPacketBytes(bytes: number, readAheadMs = this.#readAheadMs): void {
    this.#packetBytes = bytes;
    this.#readAheadMs = readAheadMs;
  }

  /**
   * Adds one packet: `bytes` holds the whole packet (or at least its payload), and the payload is
   * `bytes[packet.payloadOffset, + packet.payloadLength)`. Copied into a preallocated slot, so the
   * caller may reuse its buffer. Never throws on packet contents. `silence`: a comfort noise
   * packet (RFC 3389), which holds its place in the stream and plays as silence.
   */
  push(packet: ReceivedRtp, bytes: Uint8Array, silence = false): JitterPushResult {
    const sequenceNumber = packet.sequenceNumber;
    const timestamp = packet.timestamp;
    const ssrc = packet.ssrc;
    const offset = packet.payloadOffset;
    const length = packet.payloadLength;
    const arrivalMs = packet.arrivalMs;
    if (length > this.maxPayloadBytes || length < 0) {
      this.#stats.packetsDiscarded++;
      return 'discarded';
    }
    if (this.#seqs.started && ssrc !== this.#ssrc) this.reset(true); // new source: start over
    if (this.#seqs.started) {
      const timeline = this.#timelineOf(packet);
      if (timeline === NEW_TIMELINE) {
        // A pause longer than resetJumpMs starts a new timeline; its numbers still tell loss from a pause.
        this.#settleTail(sequenceNumber);
        this.reset(false);
      } else if (timeline === RESTART_UNCONFIRMED) {
        this.#stats.packetsDiscarded++;
        return 'discarded';
      }
    }
    if (!this.#seqs.started) this.#ssrc = ssrc;
    const seq = this.#seqs.unwrap(sequenceNumber);
    const ts = this.#timestamps.unwrap(timestamp);

    const seenIndex = seq % DUP_HISTORY;
    if (this.#seen[seenIndex] === seq) {
      if (this.#endsRunBehind(sequenceNumber)) return this.#restartOn(packet, bytes);
      this.#stats.packetsDuplicate++;
      return 'duplicate';
    }
    this.#seen[seenIndex] = seq;
    this.#observeTransit(ts, arrivalMs);

    const lateBySeq = this.#hasPlayed && seq < this.#nextSeq;
    if (lateBySeq && this.#endsRunBehind(sequenceNumber)) return this.#restartOn(packet, bytes);
    if (!lateBySeq) this.#behindRun = 0;
    if (lateBySeq || (this.#hasPlayed && ts < this.#playoutTs - this.#spf / 2)) {
      this.#stats.packetsLate++;
      return 'late';
    }
    if (this.#count === 0) {
      this.#lowSeq = this.#hasPlayed ? Math.min(this.#nextSeq, seq) : seq;
      this.#highSeq = Math.max(this.#highSeq, seq);
    } else if (seq < this.#lowSeq) {
      if (this.#highSeq - seq >= this.#capacity) {
        this.#stats.packetsDiscarded++;
        return 'discarded';
      }
      this.#lowSeq = seq;
    }
    // Bounded: make room by skipping the oldest held packets (and the playout point with them).
    while (seq - this.#lowSeq >= this.#capacity) {
      if (this.#count === 0) this.#lowSeq = seq;
      else this.#dropLowest();
    }
    if (seq > this.#highSeq || this.#count === 0) {
      this.#highSeq = seq;
      this.#highTs = ts;
    }

    const slot = seq % this.#capacity;
    const m = slot * META_STRIDE;
    const meta = this.#meta;
    meta[m + M_SEQ] = seq;
    meta[m + M_TS] = ts;
    meta[m + M_ARRIVAL] = arrivalMs;
    meta[m + M_LENGTH] = length;
    meta[m + M_MARKER] = packet.marker ? 1 : 0;
    meta[m + M_SILENCE] = silence ? 1 : 0;
    // The whole packet in one native copy (a sixth of the time of a byte loop over 160 bytes,
    // and no view to allocate); only a packet with an outsized header has its payload cut out.
    const base = slot * this.#slotBytes;
    if (bytes.length <= this.#slotBytes) {
      this.#store.set(bytes, base);
      meta[m + M_PAYLOAD_AT] = offset;
    } else {
      this.#store.set(bytes.subarray(offset, offset + length), base);
      meta[m + M_PAYLOAD_AT] = 0;
    }
    this.#count++;
    this.#stats.packetsStored++;
    if (this.#state === 'empty') this.#state = 'buffering';
    return 'stored';
  }

  /**
   * The frame due now: copies its payload into `target` and returns the byte count, or returns
   * FRAME_LOST (conceal), FRAME_STOPPED or FRAME_SILENT; `frameFollowsSkip` tells whether frames were skipped
   * before it. Allocates nothing.
   */
  pop(target: Uint8Array, nowMs: number): number {
    this.#frameSkippedBytes = 0;
    const result = this.#nextFrame(target, nowMs);
    this.#followsSkip = this.#skipPending && result > 0;
    this.#skipPending = false;
    return result;
  }

  #nextFrame(target: Uint8Array, nowMs: number): number {
    if (this.#state === 'empty') return this.#notStarted();
    if (this.#state === 'buffering') {
      let head = this.#lowestSlot(this.#lowSeq);
      if (head < 0) return this.#notStarted();
      const delay = this.#delayOf(this.#tsOf(head), nowMs);
      if (delay < this.targetDelayMs) return this.#notStarted();
      this.#settleTail(this.#seqOf(head) & 0xffff);
      head = this.#startingSlot(head, nowMs);
      this.#bridgeFrames = 0;
      this.#state = 'playing';
      this.#playoutTs = this.#tsOf(head);
      this.#nextSeq = this.#seqOf(head);
      this.#hasPlayed = true;
      this.#concealRun = 0;
      this.#sinceAdjust = 0;
    }

    const target_ = this.targetDelayMs;
    const delay = this.#delayOf(this.#playoutTs, nowMs);
    this.#currentDelayMs = delay;
    this.#sinceAdjust++;
    if (delay < target_) {
      // Playing too early for the jitter we see: stretch by one concealed frame.
      this.#stats.framesExpanded++;
      this.#sinceAdjust = 0;
      return FRAME_LOST;
    }
    if (delay > target_ + SKIP_ABOVE_FRAMES * this.#frameMs && this.#sinceAdjust >= this.#adjustFrames) {
      // More delay than needed: skip one frame (its packet, if held).
      const head = this.#lowestSlot(this.#nextSeq);
      if (head >= 0 && Math.abs(this.#tsOf(head) - this.#playoutTs) < this.#spf / 2) {
        this.#nextSeq = this.#seqOf(head) + 1;
        this.#keepSkipped(head);
        this.#remove(head);
      }
      this.#playoutTs += this.#spf;
      this.#skipPending = true;
      this.#stats.framesSkipped++;
      this.#sinceAdjust = 0;
    }

    for (;;) {
      const head = this.#lowestSlot(this.#nextSeq);
      if (head < 0) break;
      const dts = this.#tsOf(head) - this.#playoutTs;
      if (dts <= -this.#spf / 2) {
        // Older than the playout point (timestamps overlapping): too late to play.
        this.#nextSeq = this.#seqOf(head) + 1;
        this.#remove(head);
        this.#stats.packetsLate++;
        continue;
      }
      if (dts < this.#spf / 2) {
        if (this.#meta[head * META_STRIDE + M_SILENCE] === 1) return this.#playSilence(head);
        this.#settleTail(this.#seqOf(head) & 0xffff);
        // Back after the silence of a stopped stream, not at a talkspurt's start: fade in from the
        // silence as after a skip (concealment would have, had it not stopped).
        this.#skipPending ||= this.#stopped;
        this.#stopped = false;
        return this.#play(head, target, nowMs);
      }
      if (this.#meta[head * META_STRIDE + M_MARKER] === 1) {
        // §5.1 marker: the next packet starts a talkspurt, so the gap is silence, not loss.
        this.#settleTail(this.#seqOf(head) & 0xffff);
        this.#stopped = false;
        this.#playoutTs += this.#spf;
        this.#concealRun = 0;
        return FRAME_SILENT;
      }
      break;
    }
    this.#playoutTs += this.#spf;
    if (++this.#concealRun > this.#maxConceal) {
      // Give up concealing: wait for the stream to come back and resynchronise on it.
      this.#state = this.#count === 0 ? 'empty' : 'buffering';
      // Not below what is held: making room may have moved lowSeq past nextSeq (a sequence jump),
      // and packets under lowSeq are never looked for.
      this.#lowSeq = Math.max(this.#nextSeq, this.#lowSeq);
      this.#concealRun = 0;
      this.#stopped = false;
      this.#stats.resyncs++;
      return FRAME_SILENT;
    }
    if (this.#stopped || (this.#count === 0 && this.#concealRun > this.#talkspurtEndFrames)) {
      // The stream stopped (a talkspurt ended): silence, still on its timeline, so that a talkspurt
      // after a short pause, or the stream back from an outage, plays where it belongs.
      this.#stopped = true;
      return FRAME_STOPPED;
    }
    if (this.#count === 0) {
      if (this.#tailFrames === 0) this.#tailSeq = this.#nextSeq & 0xffff;
      this.#tailFrames++;
    } else this.#stats.framesConcealed++;
    return FRAME_LOST;
  }

  /**
   * The stream goes on with `sequenceNumber` after frames concealed while nothing was held: they
   * were loss if numbers are missing before it, else the sender paused (silence suppression).
   */
  #settleTail(sequenceNumber: number): void {
    if (this.#tailFrames === 0) return;
    if (sequenceNumber !== this.#tailSeq) this.#stats.framesConcealed += this.#tailFrames;
    this.#tailFrames = 0;
  }

  /**
   * A comfort noise packet is due (RFC 3389): the talkspurt ended. Its frame is silence, and the
   * buffer waits for the next packets as after a resync, without concealing the frames between.
   */
  #playSilence(slot: number): number {
    this.#settleTail(this.#seqOf(slot) & 0xffff);
    this.#nextSeq = this.#seqOf(slot) + 1;
    this.#playoutTs = this.#tsOf(slot) + this.#spf;
    // Whether the sender's encoder ran through the silence is not known: nothing skipped after it is kept.
    this.#skippedBytes = 0;
    this.#decoderNextSeq = -1;
    this.#remove(slot);
    this.#state = this.#count === 0 ? 'empty' : 'buffering';
    this.#concealRun = 0;
    this.#stopped = false;
    return FRAME_SILENT;
  }

  /**
   * A frame before the stream starts: silence, unless a stream that replaced a playing one (a new
   * SSRC, a new timeline) is filling up to its delay. Its gap is concealed, as a stretch is: the
   * audio fades out and the new stream is cross-faded in. As silence it had been cut to zero and
   * back mid-word, two clicks around a 40 ms hole.
   */
  #notStarted(): number {
    if (this.#bridgeFrames === 0) return FRAME_SILENT;
    this.#bridgeFrames--;
    this.#stats.framesConcealed++;
    return FRAME_LOST;
  }

  /**
   * Whether a packet of the source the buffer follows goes on with its stream, starts a new
   * timeline, or may start one that the next packet confirms. Silence between talkspurts moves
   * the timestamp on by itself; a gap longer than resetJumpMs, or a sequence jump beyond any
   * reordering, is a new timeline. So is a later packet whose timestamp is more than two frames
   * before the newest one's: a source switched behind the sender's numbering, whose packets all
   * came late for 2-3 s until the playout point had passed them by. (Not measured against the
   * sequence numbers: RFC 4733 events and comfort noise use them up between two audio packets,
   * at any pace.) Then the restarts the file comment lists.
   */
  #timelineOf(packet: ReceivedRtp): Timeline {
    // The packet, not its numbers, is passed in: a double (a timestamp over 2^31, an arrival
    // time) passed to a call V8 does not inline is boxed, and this runs for every packet.
    const sequenceNumber = packet.sequenceNumber;
    const dSeq = this.#seqs.peek(sequenceNumber) - this.#highSeq;
    const ts = this.#timestamps.peek(packet.timestamp);
    const dTsMs = ((ts - this.#highTs) * 1000) / this.#clockRateHz;
    if (
      Math.abs(dTsMs - dSeq * this.#frameMs) > this.#resetJumpMs ||
      Math.abs(dSeq) > 3000 ||
      (dSeq > 0 && dTsMs < -2 * this.#frameMs)
    )
      return NEW_TIMELINE;
    if (dSeq < -MAX_MISORDER) {
      if (sequenceNumber === this.#restartSeq) return NEW_TIMELINE;
      this.#restartSeq = (sequenceNumber + 1) & 0xffff;
      return RESTART_UNCONFIRMED;
    }
    // Later than the longest playout delay, and not half a frame less late than the last such
    // (a backlog's packets each come a frame less late; a paused clock's, as late, give or take
    // the path's jitter): a run of a paused clock.
    const excess = this.#delayOf(ts, packet.arrivalMs);
    if (!(excess > this.#maxDelayMs + 2 * this.#frameMs)) {
      this.#lateRun = 0;
      return SAME_TIMELINE;
    }
    const steady = excess - this.#lateRunExcess > -this.#frameMs / 2;
    this.#lateRun = this.#lateRun > 0 && steady ? this.#lateRun + 1 : 1;
    this.#lateRunExcess = excess;
    return this.#lateRun >= RESTART_RUN ? NEW_TIMELINE : SAME_TIMELINE;
  }

  /**
   * Called for a packet already held or played past (a duplicate, or late by its number): whether
   * it is the RESTART_RUN-th in a row of such packets each following the one before. Then the
   * sender started over less than MAX_MISORDER behind (SIPp looping a short recording), and every
   * packet after would be dropped. A network's duplicates come between the originals, which
   * `push` counts as breaking the run.
   */
  #endsRunBehind(sequenceNumber: number): boolean {
    this.#behindRun = this.#behindRun > 0 && sequenceNumber === this.#behindNext ? this.#behindRun + 1 : 1;
    this.#behindNext = (sequenceNumber + 1) & 0xffff;
    return this.#behindRun >= RESTART_RUN;
  }

  /** The stream started over on this packet: a new timeline, and the packet its first. */
  #restartOn(packet: ReceivedRtp, bytes: Uint8Array): JitterPushResult {
    this.reset(false);
    return this.push(packet, bytes);
  }

  /** Drops everything; `full` also forgets the jitter estimate (new source). */
  reset(full = true): void {
    // A reset while the format settles (InboundFraming's first packet) keeps a bridge begun.
    if (this.#state === 'playing') this.#bridgeFrames = Math.max(0, this.#maxConceal - this.#concealRun);
    this.#emptySlots();
    this.#seen.fill(-1);
    this.#count = 0;
    this.#state = 'empty';
    this.#hasPlayed = false;
    this.#concealRun = 0;
    this.#tailFrames = 0;
    this.#stopped = false;
    this.#skipPending = this.#followsSkip = false;
    this.#skippedBytes = 0;
    this.#decoderNextSeq = -1;
    this.#seqs.reset();
    this.#timestamps.reset();
    this.#restartSeq = NO_RESTART;
    this.#behindRun = 0;
    this.#lateRun = 0;
    this.#highSeq = 0;
    this.#highTs = 0;
    this.#buckets = this.#bucketNext = 0;
    this.#curMinTransit = this.#closedIntercept = this.#baseIntercept = Infinity;
    this.#drift = 0;
    if (full) this.#jitterQuantileMs = this.#startDelayMs;
    this.#stats.resets++;
  }

  // Field by field: a spread with extra keys takes V8's slow path (3.5 µs and a dictionary-mode
  // object per call).
  stats(): JitterBufferStats {
    const s = this.#stats;
    return {
      packetsStored: s.packetsStored,
      packetsDuplicate: s.packetsDuplicate,
      packetsLate: s.packetsLate,
      packetsDiscarded: s.packetsDiscarded,
      packetsOverflow: s.packetsOverflow,
      framesConcealed: s.framesConcealed,
      framesExpanded: s.framesExpanded,
      framesSkipped: s.framesSkipped,
      framesPlayed: s.framesPlayed,
      resets: s.resets,
      resyncs: s.resyncs,
      bufferedPackets: this.#count,
      targetDelayMs: this.targetDelayMs,
      currentDelayMs: this.#currentDelayMs,
      meanPlayoutDelayMs:
        this.#stats.framesPlayed === 0 ? 0 : this.#playoutDelaySumMs / this.#stats.framesPlayed
    };
  }

  #play(slot: number, target: Uint8Array, nowMs: number): number {
    const m = slot * META_STRIDE;
    const meta = this.#meta;
    const unit = this.#packetBytes;
    const held = meta[m + M_LENGTH];
    if (unit > 0 && held > unit && unit <= target.length) return this.#playPart(slot, unit, target, nowMs);
    const length = Math.min(held, target.length);
    const start = slot * this.#slotBytes + meta[m + M_PAYLOAD_AT];
    let view = this.#slotViews[slot];
    if (view === undefined || view.byteOffset !== start || view.length !== length) {
      view = this.#slotViews[slot] = this.#store.subarray(start, start + length);
    }
    target.set(view);
    this.#handOnSkipped(meta[m + M_SEQ], target, length, meta[m + M_SEQ] + 1);
    this.#nextSeq = meta[m + M_SEQ] + 1;
    const short = unit > 0 && length > 0 && length < unit;
    this.#playoutTs = meta[m + M_TS] + (short ? Math.round((this.#spf * length) / unit) : this.#spf);
    this.#concealRun = 0;
    this.#stats.framesPlayed++;
    this.#playoutDelaySumMs += nowMs - meta[m + M_ARRIVAL];
    this.#remove(slot);
    // A zero-length payload is still a frame; report it as silence rather than "0 bytes".
    return length;
  }

  /** Plays the first packet time of a longer packet; the rest stays in its slot, due next. */
  #playPart(slot: number, unit: number, target: Uint8Array, nowMs: number): number {
    const m = slot * META_STRIDE;
    const meta = this.#meta;
    const start = slot * this.#slotBytes + meta[m + M_PAYLOAD_AT];
    target.set(this.#store.subarray(start, start + unit));
    // The rest of the packet, still held, is what the decoder takes next.
    this.#handOnSkipped(meta[m + M_SEQ], target, unit, meta[m + M_SEQ]);
    meta[m + M_PAYLOAD_AT] += unit;
    meta[m + M_LENGTH] -= unit;
    meta[m + M_TS] += this.#spf;
    this.#nextSeq = meta[m + M_SEQ];
    this.#playoutTs = meta[m + M_TS];
    this.#concealRun = 0;
    this.#stats.framesPlayed++;
    this.#playoutDelaySumMs += nowMs - meta[m + M_ARRIVAL];
    return unit;
  }

  /**
   * Keeps a skipped packet's payload (what is left of it) for the decoder, if it goes on from what
   * the decoder was given; else that is lost anyway, and so is what was kept.
   */
  #keepSkipped(slot: number): void {
    if (this.#keepBytes === 0) return;
    const m = slot * META_STRIDE;
    const meta = this.#meta;
    const length = meta[m + M_LENGTH];
    const at = this.#skippedBytes;
    if (
      meta[m + M_SEQ] !== this.#decoderNextSeq ||
      meta[m + M_SILENCE] === 1 ||
      at + length > this.#keepBytes
    ) {
      this.#skippedBytes = 0;
      this.#decoderNextSeq = -1;
      return;
    }
    // Byte by byte: a subarray to copy from would be an object per skip.
    const store = this.#store;
    const skipped = this.#skipped;
    const start = slot * this.#slotBytes + meta[m + M_PAYLOAD_AT];
    for (let i = 0; i < length; i++) skipped[at + i] = store[start + i];
    this.#skippedBytes = at + length;
    this.#decoderNextSeq = meta[m + M_SEQ] + 1;
  }

  /**
   * The packet `seq` is played, its first `length` bytes in `target`: the skipped payloads kept go
   * after them if it follows them and they fit. The decoder then goes on at `nextSeq`.
   */
  #handOnSkipped(seq: number, target: Uint8Array, length: number, nextSeq: number): void {
    const kept = this.#skippedBytes;
    if (kept > 0 && seq === this.#decoderNextSeq && length + kept <= target.length) {
      const skipped = this.#skipped;
      for (let i = 0; i < kept; i++) target[length + i] = skipped[i];
      this.#frameSkippedBytes = kept;
    }
    this.#skippedBytes = 0;
    this.#decoderNextSeq = nextSeq;
  }

  #seqOf(slot: number): number {
    return this.#meta[slot * META_STRIDE + M_SEQ];
  }

  #tsOf(slot: number): number {
    return this.#meta[slot * META_STRIDE + M_TS];
  }

  #emptySlots(): void {
    for (let slot = 0; slot < this.#capacity; slot++) this.#meta[slot * META_STRIDE + M_SEQ] = -1;
  }

  /**
   * Packets held while no frame was taken (an answered call waiting for its ACK, a stream back
   * after an outage) would start playout far behind, and skipping one frame in eight takes
   * seconds to catch up (500 ms held: 465 ms of delay, 45 ms only 200 frames later). Playout
   * starts instead at the first held packet within the skip threshold, or the last one due:
   * nothing has been played yet that the cut could click against.
   */
  #startingSlot(head: number, nowMs: number): number {
    const limit = this.targetDelayMs + SKIP_ABOVE_FRAMES * this.#frameMs;
    while (this.#delayOf(this.#tsOf(head), nowMs) > limit) {
      const next = this.#lowestSlot(this.#seqOf(head) + 1);
      if (next < 0 || this.#delayOf(this.#tsOf(next), nowMs) < this.targetDelayMs) break;
      this.#keepSkipped(head);
      this.#meta[head * META_STRIDE + M_SEQ] = -1;
      this.#count--;
      this.#lowSeq = this.#seqOf(next);
      this.#stats.packetsDiscarded++;
      head = next;
    }
    return head;
  }

  /** Slot of the held packet with the lowest sequence number ≥ from, or -1. */
  #lowestSlot(from: number): number {
    if (this.#count === 0) return -1;
    const end = Math.min(this.#highSeq, from + this.#capacity - 1);
    for (let seq = Math.max(from, this.#lowSeq); seq <= end; seq++) {
      const slot = seq % this.#capacity;
      if (this.#seqOf(slot) === seq) return slot;
    }
    return -1;
  }

  #remove(slot: number): void {
    this.#meta[slot * META_STRIDE + M_SEQ] = -1;
    this.#count--;
    this.#lowSeq = this.#hasPlayed ? this.#nextSeq : this.#lowSeq;
  }

  #dropLowest(): void {
    const slot = this.#lowestSlot(this.#lowSeq);
    if (slot < 0) {
      // The count says packets are held, yet none is where they are looked for: forget them
      // rather than look again. The loop making room in `push` relies on this to end.
      this.#emptySlots();
      this.#count = 0;
      this.#lowSeq = this.#highSeq + 1;
      return;
    }
    const seq = this.#seqOf(slot);
    if (this.#hasPlayed && seq >= this.#nextSeq) {
      this.#keepSkipped(slot);
      this.#nextSeq = seq + 1;
      this.#playoutTs = Math.max(this.#playoutTs, this.#tsOf(slot) + this.#spf);
      this.#skipPending = true;
    }
    this.#meta[slot * META_STRIDE + M_SEQ] = -1;
    this.#count--;
    this.#lowSeq = seq + 1;
    this.#stats.packetsOverflow++;
  }

  /**
   * Base transit and jitter. The base is the least transit of the window, followed along its
   * drift: a sender whose clock is slow (or fast) makes every transit rise (or fall) steadily, and
   * a plain windowed minimum would lag that by up to the window, so the buffer would think it
   * holds more audio than it does and stretch only once packets were already late. The window is
   * TRANSIT_BUCKETS buckets; the drift is the least-squares slope of their minima, and the base
   * now is the lowest of those minima carried forward along it.
   */
  #observeTransit(ts: number, arrivalMs: number): void {
    const transit = arrivalMs - (ts * 1000) / this.#clockRateHz;
    if (this.#curMinTransit === Infinity) this.#bucketStartMs = arrivalMs;
    else if (arrivalMs - this.#bucketStartMs >= this.#windowMs / TRANSIT_BUCKETS) {
      this.#bucketStartMs = arrivalMs;
      this.#closeBucket();
    }
    if (transit < this.#curMinTransit) {
      this.#curMinTransit = transit;
      this.#curMinAt = arrivalMs;
    }
    this.#baseIntercept = Math.min(this.#closedIntercept, this.#curMinTransit - this.#drift * this.#curMinAt);
    const excess = transit - (this.#drift * arrivalMs + this.#baseIntercept);
    // Stochastic percentile: up by step·(1 − share) when a packet comes later than the target,
    // down by step·share when not, so it settles where a `share` of packets is later.
    const step = (this.#stepMs * this.#frameMs) / 20;
    const q =
      this.#jitterQuantileMs +
      (excess > this.#jitterQuantileMs ? step * (1 - this.#lateShare) : -step * this.#lateShare);
    this.#jitterQuantileMs = clamp(q, this.#minDelayMs, this.#maxDelayMs);
  }

  /**
   * Closes the bucket as a new one starts at #bucketStartMs. No time is passed as an argument: a
   * fractional one is boxed into a new heap number when the call is not inlined (once per bucket).
   */
  #closeBucket(): void {
    const at = this.#bucketNext;
    this.#bucketMin[at] = this.#curMinTransit;
    this.#bucketAt[at] = this.#curMinAt;
    this.#bucketNext = (at + 1) % TRANSIT_BUCKETS;
    this.#buckets = Math.min(this.#buckets + 1, TRANSIT_BUCKETS);
    this.#curMinTransit = Infinity;
    let n = 0;
    let meanT = 0;
    let meanV = 0;
    for (let k = 0; k < this.#buckets; k++) {
      if (!this.#inWindow(k)) continue;
      n++;
      meanT += this.#bucketAt[k];
      meanV += this.#bucketMin[k];
    }
    let drift = 0;
    if (n >= MIN_DRIFT_BUCKETS) {
      meanT /= n;
      meanV /= n;
      let stt = 0;
      let stv = 0;
      for (let k = 0; k < this.#buckets; k++) {
        if (!this.#inWindow(k)) continue;
        const dt = this.#bucketAt[k] - meanT;
        stt += dt * dt;
        stv += dt * (this.#bucketMin[k] - meanV);
      }
      if (stt > 0) drift = clamp(stv / stt, -MAX_DRIFT, MAX_DRIFT);
    }
    this.#drift = drift;
    let intercept = Infinity;
    for (let k = 0; k < this.#buckets; k++) {
      if (!this.#inWindow(k)) continue;
      intercept = Math.min(intercept, this.#bucketMin[k] - drift * this.#bucketAt[k]);
    }
    this.#closedIntercept = intercept;
  }

  /**
   * Buckets older than the window (after a long pause) no longer say anything about the path.
   * Measured from #bucketStartMs, the start of the bucket that follows them.
   */
  #inWindow(bucket: number): boolean {
    return this.#bucketStartMs - this.#bucketAt[bucket] <= this.#windowMs + this.#windowMs / TRANSIT_BUCKETS;
  }

  #delayOf(ts: number, nowMs: number): number {
    return nowMs - ((ts * 1000) / this.#clockRateHz + this.#drift * nowMs + this.#baseIntercept);
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
