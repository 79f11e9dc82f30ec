/**
 * Sequence-number and timestamp arithmetic for RTP, in ONE place (STYLE.md: Pion's jitter buffer
 * once could never pop 65535). RTP sequence numbers are 16-bit and timestamps 32-bit counters
 * that wrap (RFC 3550 §5.1); every comparison in engine/rtp goes through these helpers.
 */

const MOD16 = 0x10000;
const MOD32 = 0x100000000;
/** First extended timestamp (see WrapUnwrapper): 2^24 ticks of room for reordering before it. */
const TIMESTAMP_ORIGIN = 0x1000000;

/** Signed distance a − b of two 16-bit sequence numbers, in [-32768, 32767]: 0 − 65535 = 1. */
export function seqDiff16(a: number, b: number): number {
  const d = (a - b) & 0xffff;
  return d >= 0x8000 ? d - MOD16 : d;
}

/** Signed distance a − b of two 32-bit timestamps, in [-2^31, 2^31): 0 − (2^32 − 1) = 1. */
export function tsDiff32(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d >= 0x80000000 ? d - MOD32 : d;
}

/** Whether 16-bit sequence number a comes after b (modulo wrap). */
export function seqAfter16(a: number, b: number): boolean {
  return seqDiff16(a, b) > 0;
}

/** a + n modulo 2^16. */
export function seqAdd16(a: number, n: number): number {
  return (a + n) & 0xffff;
}

/** a + n modulo 2^32 (as an unsigned number). */
export function tsAdd32(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * Turns a wrapping 16- or 32-bit counter into a monotonic "extended" number (like RFC 3550's
 * extended highest sequence number, A.1): each value is placed at the signed distance from the
 * last one seen, so reordered packets get their true (smaller) extended value and a wrap
 * 65535 → 0 continues at 65536. Only differences between extended values mean anything.
 * Numbers stay exact in a double for far longer than any call.
 */
export class WrapUnwrapper {
  readonly #bits: 16 | 32;
  #lastRaw = 0;
  #lastExtended = 0;
  #started = false;

  constructor(bits: 16 | 32) {
    this.#bits = bits;
  }

  get started(): boolean {
    return this.#started;
  }

  /** Extended value of `raw`; the reference moves forward only (reordered packets don't move it back). */
  unwrap(raw: number): number {
    if (!this.#started) {
      this.#started = true;
      this.#lastRaw = raw;
      this.#lastExtended = this.#firstExtended(raw);
      return this.#lastExtended;
    }
    const d = this.#bits === 16 ? seqDiff16(raw, this.#lastRaw) : tsDiff32(raw, this.#lastRaw);
    const extended = this.#lastExtended + d;
    if (d > 0) {
      this.#lastRaw = raw;
      this.#lastExtended = extended;
    }
    return extended;
  }

  /** Extended value `raw` would get, without moving the reference. */
  peek(raw: number): number {
    if (!this.#started) return this.#firstExtended(raw);
    const d = this.#bits === 16 ? seqDiff16(raw, this.#lastRaw) : tsDiff32(raw, this.#lastRaw);
    return this.#lastExtended + d;
  }

  /**
   * Where the count starts, high enough that a packet reordered before the first one still gets
   * a positive value: a sequence number one cycle up; a timestamp at TIMESTAMP_ORIGIN, not at its
   * own value (up to 2^32), so that extended timestamps stay small integers (V8 Smis, below 2^31)
   * for the first 2^31 − 2^24 clock ticks (74 h at 8 kHz, 12 h at 48 kHz). A double would be
   * boxed into a new heap object by every call V8 does not inline that returns it.
   */
  #firstExtended(raw: number): number {
    return this.#bits === 16 ? raw + MOD16 : TIMESTAMP_ORIGIN;
  }

  reset(): void {
    this.#started = false;
    this.#lastRaw = 0;
    this.#lastExtended = 0;
  }
}
