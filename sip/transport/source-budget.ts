/**
 * The messages per second one source may hand to the SIP stack over all its connections and UDP
 * together (ConnectionLimits.maxMessagesPerSecondPerSource): a token bucket per source, and the
 * connections waiting for its tokens in turn. Each waiting connection polling the bucket on a
 * timer of its own woke 64 times for each token a source of 64 connections got; here one timer
 * per source wakes the longest waiting one, which goes to the back when it has to wait again.
 */
import { KeyedTokenBuckets, type RateOptions } from '../admission/token-bucket.js';

export class SourceBudget {
  readonly buckets: KeyedTokenBuckets;
  readonly #waiting = new Map<string, Array<() => void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(
    rate: RateOptions,
    private readonly now: () => number = () => performance.now()
  ) {
    this.buckets = new KeyedTokenBuckets(rate);
  }

  /** Takes a token of `source`'s if there is one. */
  take(source: string): boolean {
    return this.buckets.tryTake(source, this.now());
  }

  /** Calls `wake` once `source` has a token again, after those already waiting; returns a cancel. */
  wait(source: string, wake: () => void): () => void {
    let queue = this.#waiting.get(source);
    if (queue === undefined) this.#waiting.set(source, (queue = []));
    queue.push(wake);
    this.#schedule(source);
    return () => {
      const at = queue.indexOf(wake);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0 && this.#waiting.get(source) === queue) this.#forget(source);
    };
  }

  #schedule(source: string): void {
    if (this.#timers.has(source)) return;
    const delayMs = Math.max(1, Math.ceil(this.buckets.secondsUntilToken(source, this.now()) * 1000));
    this.#timers.set(
      source,
      setTimeout(() => {
        this.#timers.delete(source);
        this.#waiting.get(source)?.shift()?.();
        // After the woken one took what it could (and maybe queued again at the back).
        if ((this.#waiting.get(source)?.length ?? 0) === 0) this.#forget(source);
        else this.#schedule(source);
      }, delayMs)
    );
  }

  #forget(source: string): void {
    this.#waiting.delete(source);
    clearTimeout(this.#timers.get(source));
    this.#timers.delete(source);
  }
}
