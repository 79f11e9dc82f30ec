/**
 * The receiver's replay list (RFC 3711 §3.3.2): a sliding window of the last `WINDOW` packet
 * indexes below the highest one received. An index at or below the window's floor, or one
 * already seen inside it, is a replay. Indexes are 48-bit (SRTP) or 31-bit (SRTCP) numbers,
 * exact in a double.
 */

/** Window size; RFC 3711 asks for at least 64. */
export const REPLAY_WINDOW = 128;

export class ReplayWindow {
  /** Highest index accepted, -1 before the first. */
  #highest = -1;
  /** Bit (index mod WINDOW) is set when that index was seen. */
  readonly #seen = new Uint32Array(REPLAY_WINDOW / 32);

  get highest(): number {
    return this.#highest;
  }

  /** True when `index` is new: above the highest, or inside the window and not seen yet. */
  isFresh(index: number): boolean {
    const highest = this.#highest;
    if (index > highest) return true;
    if (highest - index >= REPLAY_WINDOW) return false;
    const bit = index % REPLAY_WINDOW;
    return (this.#seen[bit >>> 5] & (1 << (bit & 31))) === 0;
  }

  /** Records an authenticated index (call only after `isFresh` said yes). */
  accept(index: number): void {
    const highest = this.#highest;
    if (index > highest) {
      if (highest < 0 || index - highest >= REPLAY_WINDOW) this.#seen.fill(0);
      else for (let i = highest + 1; i < index; i++) this.#clear(i % REPLAY_WINDOW);
      this.#highest = index;
    }
    const bit = index % REPLAY_WINDOW;
    this.#seen[bit >>> 5] |= 1 << (bit & 31);
  }

  #clear(bit: number): void {
    this.#seen[bit >>> 5] &= ~(1 << (bit & 31));
  }
}
