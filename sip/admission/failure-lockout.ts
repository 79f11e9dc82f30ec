/**
 * Failures per key (a source address, a room) and the lock they lead to: `failures` in
 * `windowMs` lock the key for `lockMs`. What a locked key may still do is the caller's to decide;
 * failures while locked are not counted, so a lock lapses on time whatever is still sent.
 *
 * Memory is bounded by `maxKeys`: keys are added only by a failure, and when the table is full
 * lapsed locks go first, then the least recently failed unlocked key (the ones with nothing left
 * in the window come first in that order), and the lock nearest its end only when every key is
 * locked. A flood from many addresses can thus cut short a count, and a lock only when it holds
 * more locks than `maxKeys`. Making room takes constant time (amortised) however full the table:
 * a flood does not make each failure dearer (bench/suites/door-flood.ts).
 */

export interface FailureLockoutLimits {
  /** Failures within the window that lock the key. */
  failures: number;
  windowMs: number;
  lockMs: number;
}

export class FailureLockout {
  readonly limits: FailureLockoutLimits;
  /** key → when its failures of the current window happened, oldest first; least recently failed key first. */
  readonly #failing = new Map<string, number[]>();
  /** key → when its lock lapses; every lock is as long, so the first to lapse comes first. */
  readonly #locks = new Map<string, number>();
  readonly #now: () => number;
  readonly #maxKeys: number;

  /** `now` is monotonic by default: a step of the wall clock (NTP, a VM resumed) neither lifts a lock nor lengthens it. */
  constructor(limits: FailureLockoutLimits, now: () => number = () => performance.now(), maxKeys = 100_000) {
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
    return this.#failing.size + this.#locks.size;
  }

  locked(key: string): boolean {
    const until = this.#locks.get(key);
    return until !== undefined && this.#now() < until;
  }

  /** Counts a failure of `key`; true when it locked the key (once per lock). */
  fail(key: string): boolean {
    const now = this.#now();
    const until = this.#locks.get(key);
    if (until !== undefined) {
      if (now < until) return false;
      this.#locks.delete(key);
    }
    let failedAt = this.#failing.get(key);
    if (failedAt === undefined) {
      if (this.size >= this.#maxKeys) this.#evict(now);
      failedAt = [];
    }
    // Most recently failed last, so eviction meets the quiet ones first.
    this.#failing.delete(key);
    const windowMs = this.limits.windowMs;
    failedAt = failedAt.filter((at) => now - at < windowMs);
    failedAt.push(now);
    if (failedAt.length < this.limits.failures) {
      this.#failing.set(key, failedAt);
      return false;
    }
    this.#locks.set(key, now + this.limits.lockMs);
    return true;
  }

  /** Locks `key` from now as its failures would have (a lock counted elsewhere); false when it was locked. */
  lock(key: string): boolean {
    if (this.locked(key)) return false;
    const now = this.#now();
    this.#failing.delete(key);
    this.#locks.delete(key);
    if (this.size >= this.#maxKeys) this.#evict(now);
    this.#locks.set(key, now + this.limits.lockMs);
    return true;
  }

  /** Makes room for one key, in constant time (amortised): a flood must not make each failure dearer. */
  #evict(now: number): void {
    for (const [key, until] of this.#locks) {
      if (now < until) break;
      this.#locks.delete(key);
    }
    if (this.size < this.#maxKeys) return;
    const quietest = this.#failing.keys().next();
    if (!quietest.done) this.#failing.delete(quietest.value);
    else this.#locks.delete(this.#locks.keys().next().value as string);
  }
}
