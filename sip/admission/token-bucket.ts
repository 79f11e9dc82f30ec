/**
 * Token buckets for call rates: `ratePerSecond` tokens flow in per second up to `burst`; a new
 * call takes one. Per-source buckets live in a map bounded by `maxSources`, so a flood from
 * many (possibly spoofed) addresses costs bounded memory: a bucket that has refilled completely
 * holds no information and is the first to go.
 */

export interface RateOptions {
  ratePerSecond: number;
  /** Calls allowed back to back (default: one second's worth, at least 1). */
  burst?: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #bucket: Bucket;

  constructor(options: RateOptions, nowMs: number) {
    this.ratePerSecond = checkedRate(options.ratePerSecond, 'ratePerSecond');
    this.burst =
      options.burst === undefined
        ? Math.max(1, Math.ceil(this.ratePerSecond))
        : checkedRate(options.burst, 'burst');
    this.#bucket = { tokens: this.burst, updatedMs: nowMs };
  }

  /** Whether a token is there now (takes nothing). */
  has(nowMs: number): boolean {
    return refill(this.#bucket, this.ratePerSecond, this.burst, nowMs) >= 1;
  }

  take(nowMs: number): void {
    refill(this.#bucket, this.ratePerSecond, this.burst, nowMs);
    this.#bucket.tokens = Math.max(0, this.#bucket.tokens - 1);
  }

  /** Whether the bucket is full now: nothing taken that has not flowed back in. */
  full(nowMs: number): boolean {
    return refill(this.#bucket, this.ratePerSecond, this.burst, nowMs) >= this.burst;
  }

  /** Seconds until a token is there (0 if one is). */
  secondsUntilToken(nowMs: number): number {
    return this.secondsUntil(1, nowMs);
  }

  /** Seconds until `count` tokens are there (0 if they are). */
  secondsUntil(count: number, nowMs: number): number {
    const tokens = refill(this.#bucket, this.ratePerSecond, this.burst, nowMs);
    return tokens >= count ? 0 : (count - tokens) / this.ratePerSecond;
  }
}

export class KeyedTokenBuckets {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly #buckets = new Map<string, Bucket>();
  readonly #maxKeys: number;

  constructor(options: RateOptions, maxKeys = 100_000) {
    this.ratePerSecond = checkedRate(options.ratePerSecond, 'ratePerSecond');
    this.burst =
      options.burst === undefined
        ? Math.max(1, Math.ceil(this.ratePerSecond))
        : checkedRate(options.burst, 'burst');
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#buckets.size;
  }

  has(key: string, nowMs: number): boolean {
    const bucket = this.#buckets.get(key);
    return bucket === undefined || refill(bucket, this.ratePerSecond, this.burst, nowMs) >= 1;
  }

  /** Takes a token of `key`'s if there is one; whether it did. */
  tryTake(key: string, nowMs: number): boolean {
    if (!this.has(key, nowMs)) return false;
    this.take(key, nowMs);
    return true;
  }

  take(key: string, nowMs: number): void {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(nowMs);
      bucket = { tokens: this.burst, updatedMs: nowMs };
      this.#buckets.set(key, bucket);
    } else {
      refill(bucket, this.ratePerSecond, this.burst, nowMs);
      // Most recently used last, so eviction meets the idle ones first.
      this.#buckets.delete(key);
      this.#buckets.set(key, bucket);
    }
    bucket.tokens = Math.max(0, bucket.tokens - 1);
  }

  secondsUntilToken(key: string, nowMs: number): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return 0;
    const tokens = refill(bucket, this.ratePerSecond, this.burst, nowMs);
    return tokens >= 1 ? 0 : (1 - tokens) / this.ratePerSecond;
  }

  /**
   * Drops the least recently used buckets that have filled up again, then, if none had, the least
   * recently used one. Stops at the first that is not full: in constant time (amortised) however
   * many keys are held, so a flood from new sources does not make each call dearer.
   */
  #evict(nowMs: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (refill(bucket, this.ratePerSecond, this.burst, nowMs) < this.burst) break;
      this.#buckets.delete(key);
    }
    if (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}

function refill(bucket: Bucket, ratePerSecond: number, burst: number, nowMs: number): number {
  const elapsedMs = nowMs - bucket.updatedMs;
  if (elapsedMs > 0) {
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsedMs * ratePerSecond) / 1000);
    bucket.updatedMs = nowMs;
  }
  return bucket.tokens;
}

function checkedRate(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
