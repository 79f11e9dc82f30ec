/**
 * Our audio in packets of the time the peer asked for (its `a=ptime`, RFC 4566 §6): the frame
 * clock makes 20 ms frames, a trunk that asks for 30 ms gets a packet of 30 ms every 30 ms (one
 * and a half frames each), one that asks for 40 or 60 ms two or three frames a packet. Frames
 * wait here, payload only, until a packet's worth has come; a frame that does not follow the
 * waiting audio (a new talkspurt, a skipped tick) sends what waits first, shorter. Buffers are
 * made once: packing a frame allocates nothing.
 */
import { RTP_HEADER_BYTES } from './rtp-packet.js';

/** The frame clock's frame: every packet time is a whole number of its halves. */
const FRAME_MS = 20;
/** The longest packet sent, whatever is asked: each ms of it is a ms before the peer hears the first sample. */
const MAX_PACKET_MS = 60;
/** Packets held at once: one may wait in the send batch while the next is made. */
const RING = 2;

/**
 * The packet time we send with for a peer's `a=ptime` (already capped by its `a=maxptime`): a
 * multiple of 10 ms from 20 to MAX_PACKET_MS, with at most `maxPayloadBytes` of a frame of
 * `frameBytes`. Shorter than 20 ms stays 20: the frame clock makes no less.
 */
export function packetMsFor(ptimeMs: number, frameBytes: number, maxPayloadBytes: number): number {
  if (!Number.isFinite(ptimeMs) || ptimeMs < FRAME_MS + 10) return FRAME_MS;
  const longest = Math.floor((maxPayloadBytes * FRAME_MS) / frameBytes / 10) * 10;
  return Math.max(FRAME_MS, Math.min(Math.floor(ptimeMs / 10) * 10, MAX_PACKET_MS, longest));
}

export class OutboundPacking {
  readonly packetMs: number;
  readonly #pending: Buffer;
  #pendingBytes = 0;
  /** RTP timestamp of the first waiting byte's sample (signed 32-bit, as the packetizer keeps it). */
  #pendingTs = 0;
  #pendingMarker = false;
  /** Timestamp the next frame has when it follows the waiting audio. */
  #endTs = 0;
  #samplesPerByte = 1;
  readonly #ring: Buffer[];
  /** Per ring slot, the last view of a packet's exact length: full packets all reuse theirs. */
  readonly #views: Buffer[];
  #next = 0;
  /** Timestamp and marker of the packet `take` made last. */
  takenTs = 0;
  takenMarker = false;

  constructor(packetMs: number, maxPayloadBytes: number) {
    this.packetMs = packetMs;
    // A packet's worth plus the frame that completes it.
    this.#pending = Buffer.alloc(2 * maxPayloadBytes);
    this.#ring = Array.from({ length: RING }, () => Buffer.alloc(RTP_HEADER_BYTES + maxPayloadBytes));
    this.#views = this.#ring.map((buffer) => buffer.subarray(0, 0));
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Bytes of a full packet, for frames of `frameBytes`. */
  packetBytes(frameBytes: number): number {
    return (frameBytes * this.packetMs) / FRAME_MS;
  }

  /** Whether a frame at `ts` (starting a talkspurt if `marker`) goes on from the waiting audio. */
  continues(ts: number, marker: boolean): boolean {
    return this.#pendingBytes === 0 || (!marker && ts === this.#endTs);
  }

  /** Adds a frame's payload, `bytes` from `src[offset]`, of `samples` samples from timestamp `ts`. */
  append(src: Buffer, offset: number, bytes: number, samples: number, ts: number, marker: boolean): void {
    if (this.#pendingBytes === 0) {
      this.#pendingTs = ts;
      this.#pendingMarker = marker;
    }
    this.#samplesPerByte = samples / bytes;
    src.copy(this.#pending, this.#pendingBytes, offset, offset + bytes);
    this.#pendingBytes += bytes;
    this.#endTs = (ts + samples) | 0;
  }

  /**
   * A packet of the first `bytes` waiting: a buffer of exactly its length with the payload at
   * RTP_HEADER_BYTES (the header is the caller's to write, with `takenTs` and `takenMarker`). The
   * rest waits on.
   */
  take(bytes: number): Buffer {
    const slot = this.#next;
    this.#next = (slot + 1) % RING;
    let out = this.#views[slot];
    if (out.length !== RTP_HEADER_BYTES + bytes)
      out = this.#views[slot] = this.#ring[slot].subarray(0, RTP_HEADER_BYTES + bytes);
    this.#pending.copy(out, RTP_HEADER_BYTES, 0, bytes);
    this.takenTs = this.#pendingTs;
    this.takenMarker = this.#pendingMarker;
    this.#pending.copyWithin(0, bytes, this.#pendingBytes);
    this.#pendingBytes -= bytes;
    this.#pendingTs = (this.#pendingTs + bytes * this.#samplesPerByte) | 0;
    this.#pendingMarker = false;
    return out;
  }

  /** Drops what waits (sending stopped: hold, or a new format). */
  clear(): void {
    this.#pendingBytes = 0;
  }
}
