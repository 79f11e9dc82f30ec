/**
 * How many digits a call may hand the application (`EngineOptions.dtmfRateLimit`): a token
 * bucket that holds `burstDigits` and refills at `digitsPerSecond`. A digit that finds it empty
 * is dropped.
 *
 * A person keys at most about 12 digits a second (ITU-T Q.24: a 40 ms tone and a 40 ms pause),
 * so the defaults (20 a second, 10 at once) never touch a real keypad or an IVR dialling at full
 * speed. A peer that sends an RFC 4733 event with a new timestamp in every packet makes each
 * packet a digit: without the bound, 50 to thousands a second, each a 'dtmf' event and an entry
 * in the digit buffer.
 *
 * No clock and no timer of its own: the caller says what time it is. The bucket is the call
 * limiter's (sip/admission/token-bucket.ts).
 */
import { TokenBucket } from '../../sip/index.js';

export interface DigitRateLimitOptions {
  /** Digits per second let through, sustained (default 20). */
  digitsPerSecond?: number;
  /** Digits let through at once after a quiet spell (default 10). */
  burstDigits?: number;
}

export const DIGIT_RATE_LIMIT_DEFAULTS: Readonly<Required<DigitRateLimitOptions>> = {
  digitsPerSecond: 20,
  burstDigits: 10
};

/** The limit with its defaults filled in; a TypeError or RangeError naming `name` if it is wrong. */
export function resolveDigitRateLimit(
  options: DigitRateLimitOptions | undefined,
  name = 'dtmfRateLimit'
): Required<DigitRateLimitOptions> {
  if (options === undefined) return { ...DIGIT_RATE_LIMIT_DEFAULTS };
  if (options === null || typeof options !== 'object') throw new TypeError(`${name} must be an object`);
  const {
    digitsPerSecond = DIGIT_RATE_LIMIT_DEFAULTS.digitsPerSecond,
    burstDigits = DIGIT_RATE_LIMIT_DEFAULTS.burstDigits
  } = options;
  if (typeof digitsPerSecond !== 'number' || typeof burstDigits !== 'number')
    throw new TypeError(`${name}.digitsPerSecond and ${name}.burstDigits must be numbers`);
  if (!Number.isFinite(digitsPerSecond) || digitsPerSecond <= 0)
    throw new RangeError(`${name}.digitsPerSecond must be a positive number, got ${digitsPerSecond}`);
  if (!Number.isInteger(burstDigits) || burstDigits < 1)
    throw new RangeError(`${name}.burstDigits must be an integer of at least 1, got ${burstDigits}`);
  return { digitsPerSecond, burstDigits };
}

export class DigitRateLimit {
  readonly digitsPerSecond: number;
  readonly burstDigits: number;
  /** Made at the first digit: the caller's clock starts there. */
  #bucket: TokenBucket | undefined;
  #droppedSinceFull = 0;

  constructor(options?: DigitRateLimitOptions) {
    const { digitsPerSecond, burstDigits } = resolveDigitRateLimit(options);
    this.digitsPerSecond = digitsPerSecond;
    this.burstDigits = burstDigits;
  }

  /**
   * Digits dropped since the bucket was last full: 1 on the first drop of a burst, back to 0
   * once the sender has been quiet long enough to refill it.
   */
  get droppedSinceFull(): number {
    return this.#droppedSinceFull;
  }

  /** Lets one digit through at `nowMs` (true), or drops it (false). A clock that steps back refills nothing. */
  take(nowMs: number): boolean {
    const bucket = (this.#bucket ??= new TokenBucket(
      { ratePerSecond: this.digitsPerSecond, burst: this.burstDigits },
      nowMs
    ));
    if (bucket.full(nowMs)) this.#droppedSinceFull = 0;
    if (!bucket.has(nowMs)) {
      this.#droppedSinceFull++;
      return false;
    }
    bucket.take(nowMs);
    return true;
  }
}
