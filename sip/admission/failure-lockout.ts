/**
 * Failures per key (a source address, a room) and the lock they lead to: `failures` in
 * `windowMs` lock the key for `lockMs`. What a locked key may still do is the caller's to decide;
 * failures while locked are not counted, so a lock lapses on time whatever is still sent.
 *
 * Memory is bounded by `maxKeys`: keys are added only by a failure, and when the table is full
 * the keys with nothing left in the window go first, then the least recently failed unlocked
 * key, and a lock only when every key is locked. A flood from many addresses can thus cut short
 * a count, and a lock only when it holds more locks than `maxKeys`.
 */

export interface FailureLockoutLimits {
  /** Failures within the window that lock the key. */
  failures: number;
  windowMs: number;
  lockMs: number;
}

interface Entry {
  /** When the failures of the current window happened, oldest first. */
  failedAt: number[];
  lockedUntil: number;
}

export class FailureLockout {
  readonly limits: FailureLockoutLimits;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #maxKeys: number;

  constructor(limits: FailureLockoutLimits, now: () => number = () => Date.now(), maxKeys = 100_000) {
    if (!(Number.isInteger(limits.failures) && limits.failures >= 1))
      throw new RangeError(`failures must be a whole number of at least 1, got ${String(limits.failures)}`);
    for (const name of ['windowMs', 'lockMs'] as const) {
      const value = limits[name];
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
        throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
    }
    this.limits = { ...limits };
    this.#now = now;
    this.#maxKeys = maxKeys;
  }

  /** Keys with failures or a lock remembered (for leak checks). */
  get size(): number {
    return this.#entries.size;
  }

  locked(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && this.#now() < entry.lockedUntil;
  }

  /** Counts a failure of `key`; true when it locked the key (once per lock). */
  fail(key: string): boolean {
    const now = this.#now();
    let entry = this.#entries.get(key);
    if (entry !== undefined && now < entry.lockedUntil) return false;
    if (entry === undefined) {
      if (this.#entries.size >= this.#maxKeys) this.#evict(now);
      entry = { failedAt: [], lockedUntil: 0 };
    }
    // Most recently failed last, so eviction meets the quiet ones first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    entry.failedAt = entry.failedAt.filter((at) => now - at < this.limits.windowMs);
    entry.failedAt.push(now);
    if (entry.failedAt.length < this.limits.failures) return false;
    entry.failedAt = [];
    entry.lockedUntil = now + this.limits.lockMs;
    return true;
  }

  #evict(now: number): void {
    for (const [key, entry] of this.#entries) {
      const last = entry.failedAt.at(-1);
      if (now >= entry.lockedUntil && (last === undefined || now - last >= this.limits.windowMs))
        this.#entries.delete(key);
    }
    if (this.#entries.size < this.#maxKeys) return;
    for (const [key, entry] of this.#entries) {
      if (now >= entry.lockedUntil) {
        this.#entries.delete(key);
        return;
      }
    }
    const oldest = this.#entries.keys().next();
    if (!oldest.done) this.#entries.delete(oldest.value);
  }
}
