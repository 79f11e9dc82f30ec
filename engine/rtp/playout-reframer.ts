/**
 * Frames of the engine's size from a stream packetized otherwise. The jitter buffer plays whole
 * packets on the stream's own timeline; a caller whose packets carry 10, 30 or 40 ms (its
 * `a=ptime`, or what it sends whatever we asked for) needs its audio cut into the frame clock's
 * 20 ms frames. The reframer takes packets from the buffer as its queue runs short and hands out
 * one frame at a time: the audio in order, a frame touching a packet the buffer concealed as
 * FRAME_LOST, a frame of nothing but silence as FRAME_SILENT (FRAME_STOPPED if any of it is a
 * stopped stream's), and silence between a talkspurt's
 * end and the next one filled with the codec's silence byte.
 *
 * Each packet is asked for at the time its first sample will be played (now plus what the queue
 * already holds), so the buffer's delay and its late-packet rule keep meaning what they do for
 * 20 ms packets. A packet the buffer played after skipping starts a frame of its own, flagged as
 * following a skip: the core cross-fades only at a frame's start. Allocates nothing per frame: the
 * queue is preallocated.
 */
import { FRAME_LOST, FRAME_SILENT, FRAME_STOPPED, type JitterBuffer } from './jitter-buffer.js';

const AUDIO = 0;
const LOST = 1;
const SILENT = 2;
const STOPPED = 3;
/** Queued runs at most: a frame's worth of 5 ms packets plus the one that overflows it, with room. */
const MAX_RUNS = 16;

export interface ReframedFormat {
  /** Bytes in one of the engine's frames (samples per frame × bytes per sample). */
  frameBytes: number;
  /** Bytes in one packet of the stream. */
  packetBytes: number;
  bytesPerSample: number;
  clockRateHz: number;
  /** The codec's encoded silence (0xff μ-law, 0xd5 A-law, 0 linear). */
  silenceByte: number;
}

export class PlayoutReframer {
  readonly #format: ReframedFormat;
  readonly #jitter: JitterBuffer;
  /** Queued bytes, from 0; silence bytes where a run is lost or silent. */
  readonly #queue: Uint8Array;
  /** The queue's first frame, where every frame is read from (the queue shifts down after each). */
  readonly #frontFrame: Uint8Array;
  readonly #packet: Uint8Array;
  #queued = 0;
  /** Runs of the queue, oldest first: their kinds and lengths in bytes. */
  readonly #runKinds = new Uint8Array(MAX_RUNS);
  readonly #runBytes = new Int32Array(MAX_RUNS);
  #runs = 0;
  /** The queue starts with a packet the buffer played after skipping. */
  #startsAfterSkip = false;
  #followsSkip = false;

  constructor(jitter: JitterBuffer, format: ReframedFormat) {
    this.#jitter = jitter;
    this.#format = format;
    this.#queue = new Uint8Array(format.frameBytes + format.packetBytes);
    this.#frontFrame = this.#queue.subarray(0, format.frameBytes);
    this.#packet = new Uint8Array(format.packetBytes);
  }

  /** The frame `read` returned last starts a packet the jitter buffer played after skipping (JitterBuffer.frameFollowsSkip). */
  get frameFollowsSkip(): boolean {
    return this.#followsSkip;
  }

  /** The frame due at `nowMs`: its byte length copied into `target`, FRAME_LOST, FRAME_STOPPED or FRAME_SILENT (as JitterBuffer.pop). */
  read(target: Uint8Array, nowMs: number): number {
    const { frameBytes, bytesPerSample, clockRateHz } = this.#format;
    while (this.#queued < frameBytes) {
      const queuedMs = (this.#queued / bytesPerSample / clockRateHz) * 1000;
      this.#append(this.#jitter.pop(this.#packet, nowMs + queuedMs));
    }
    let kinds = 0; // a bit per kind met in the frame
    let left = frameBytes;
    let consumed = 0;
    while (left > 0) {
      const take = Math.min(left, this.#runBytes[consumed]);
      kinds |= 1 << this.#runKinds[consumed];
      left -= take;
      if (take === this.#runBytes[consumed]) consumed++;
      else this.#runBytes[consumed] -= take;
    }
    this.#followsSkip = this.#startsAfterSkip;
    this.#startsAfterSkip = false;
    let result: number;
    if ((kinds & (1 << LOST)) !== 0) result = FRAME_LOST;
    else if ((kinds & (1 << AUDIO)) === 0)
      result = (kinds & (1 << STOPPED)) !== 0 ? FRAME_STOPPED : FRAME_SILENT;
    else {
      target.set(this.#frontFrame);
      result = frameBytes;
    }
    this.#shift(frameBytes, consumed);
    return result;
  }

  /** Forgets what is queued (the jitter buffer was reset, or the stream's format changed). */
  clear(): void {
    this.#queued = 0;
    this.#runs = 0;
    this.#startsAfterSkip = false;
    this.#followsSkip = false;
  }

  #append(popped: number): void {
    const { packetBytes, silenceByte } = this.#format;
    if (popped > 0 && this.#jitter.frameFollowsSkip) {
      // A packet played after the buffer skipped starts a frame, where the core cross-fades into
      // it: the part frame queued before it (under 20 ms) is dropped with what was skipped.
      this.#queued = 0;
      this.#runs = 0;
      this.#startsAfterSkip = true;
    }
    const at = this.#queued;
    // A packet shorter than the packet time (a stream whose sizes vary) is queued as it is: the
    // jitter buffer moved its timeline on by just its samples (JitterBuffer.setPacketBytes).
    const bytes = popped > 0 ? Math.min(popped, packetBytes) : packetBytes;
    if (popped > 0) {
      this.#queue.set(bytes === packetBytes ? this.#packet : this.#packet.subarray(0, bytes), at);
      this.#addRun(AUDIO, bytes);
    } else {
      this.#queue.fill(silenceByte, at, at + bytes);
      this.#addRun(popped === FRAME_LOST ? LOST : popped === FRAME_STOPPED ? STOPPED : SILENT, bytes);
    }
    this.#queued = at + bytes;
  }

  #addRun(kind: number, bytes: number): void {
    const last = this.#runs - 1;
    if (last >= 0 && this.#runKinds[last] === kind) {
      this.#runBytes[last] += bytes;
      return;
    }
    this.#runKinds[this.#runs] = kind;
    this.#runBytes[this.#runs] = bytes;
    this.#runs++;
  }

  /** Drops the frame just read from the front of the queue and of its runs. */
  #shift(bytes: number, consumedRuns: number): void {
    this.#queue.copyWithin(0, bytes, this.#queued);
    this.#queued -= bytes;
    if (consumedRuns > 0) {
      this.#runKinds.copyWithin(0, consumedRuns, this.#runs);
      this.#runBytes.copyWithin(0, consumedRuns, this.#runs);
      this.#runs -= consumedRuns;
    }
  }
}
