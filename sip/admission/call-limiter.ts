/**
 * Ceilings on incoming calls, checked before a call gets a channel or a port: calls up at once
 * (in total and per source address) and new calls per second (in total and per source).
 *
 * The answers: over the total ceilings the engine as a whole is full, so 503 with Retry-After
 * (RFC 3261 §21.5.4); a proxy in front then tries another engine. Over the per-source call
 * ceiling the engine is fine but this source holds its share, so 486 Busy Here (§21.4.24): a
 * 503 would make a proxy in front mark the whole engine down. Over the per-source rate the
 * source is flooding, so 503 with Retry-After: it tells the sender when to come back.
 */
import { serviceUnavailable, type Refusal } from './refusal.js';
import { KeyedTokenBuckets, TokenBucket, type RateOptions } from './token-bucket.js';

export interface CallLimitOptions {
  /** Incoming calls up at once, in total. */
  maxCalls?: number;
  /** Incoming calls up at once from one source (an IPv4 address or an IPv6 /64: source-key.ts). */
  maxCallsPerSource?: number;
  /** New incoming calls per second, in total (burst: one second's worth unless given). */
  callsPerSecond?: number | RateOptions;
  /** New incoming calls per second from one source (an IPv4 address or an IPv6 /64). */
  callsPerSecondPerSource?: number | RateOptions;
  /** Retry-After of the 503s for the call ceilings (default 5 s); rate refusals say when a token is back. */
  retryAfterSeconds?: number;
}

export class CallLimiter {
  readonly #options: CallLimitOptions;
  readonly #rate: TokenBucket | undefined;
  readonly #ratePerSource: KeyedTokenBuckets | undefined;
  readonly #callsBySource = new Map<string, number>();
  readonly #now: () => number;
  #calls = 0;

  constructor(options: CallLimitOptions, now: () => number = () => performance.now()) {
    this.#options = options;
    this.#now = now;
    checkedCount(options.maxCalls, 'maxCalls');
    checkedCount(options.maxCallsPerSource, 'maxCallsPerSource');
    if (options.retryAfterSeconds !== undefined && !(options.retryAfterSeconds >= 1)) {
      throw new RangeError(`retryAfterSeconds must be at least 1, got ${options.retryAfterSeconds}`);
    }
    const rateOf = (value: number | RateOptions): RateOptions =>
      typeof value === 'number' ? { ratePerSecond: value } : value;
    if (options.callsPerSecond !== undefined)
      this.#rate = new TokenBucket(rateOf(options.callsPerSecond), now());
    if (options.callsPerSecondPerSource !== undefined)
      this.#ratePerSource = new KeyedTokenBuckets(rateOf(options.callsPerSecondPerSource));
  }

  /** Incoming calls admitted and not yet ended. */
  get calls(): number {
    return this.#calls;
  }

  callsFrom(source: string): number {
    return this.#callsBySource.get(source) ?? 0;
  }

  /** The refusal a new call from `source` gets now, or undefined when it may come in. Takes nothing. */
  check(source: string): Refusal | undefined {
    const full = this.checkTotal();
    if (full) return full;
    const o = this.#options;
    if (o.maxCallsPerSource !== undefined && this.callsFrom(source) >= o.maxCallsPerSource) {
      return { cause: 'calls_per_source', status: 486, reason: 'Busy Here' };
    }
    const now = this.#now();
    if (this.#ratePerSource && !this.#ratePerSource.has(source, now)) {
      return serviceUnavailable('rate_per_source', this.#ratePerSource.secondsUntilToken(source, now));
    }
    return undefined;
  }

  /** The refusal any new call gets now, whoever sends it: the total ceilings. Takes nothing. */
  checkTotal(): Refusal | undefined {
    const o = this.#options;
    if (o.maxCalls !== undefined && this.#calls >= o.maxCalls)
      return serviceUnavailable('calls_total', o.retryAfterSeconds ?? 5);
    const now = this.#now();
    if (this.#rate && !this.#rate.has(now))
      return serviceUnavailable('rate_total', this.#rate.secondsUntilToken(now));
    return undefined;
  }

  /** Counts a call from `source` as admitted; the returned function, called once, counts it ended. */
  admit(source: string): () => void {
    const now = this.#now();
    this.#rate?.take(now);
    this.#ratePerSource?.take(source, now);
    this.#calls++;
    this.#callsBySource.set(source, this.callsFrom(source) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#calls--;
      const left = this.callsFrom(source) - 1;
      if (left <= 0) this.#callsBySource.delete(source);
      else this.#callsBySource.set(source, left);
    };
  }
}

function checkedCount(value: number | undefined, name: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw new RangeError(`${name} must be a whole number of calls (0 or more), got ${String(value)}`);
  }
}
