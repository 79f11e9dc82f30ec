/**
 * The timeouts of the public API given in seconds (`secondsTimeout` and its kin): null means no
 * limit; a number must be one a Node timer can hold. Past 2^31-1 ms, as at NaN or below 0, Node's
 * timer fires at once: a call would end NOANSWER, a transfer time out, before anything happened.
 * Errors follow errors.ts: TypeError for what is not a number, RangeError for a number out of range.
 */
import { MAX_TIMER_MS } from '../../sip/index.js';

/** Node's longest timer delay (about 24.8 days), in seconds. */
const MAX_TIMEOUT_SECONDS = MAX_TIMER_MS / 1000;

/**
 * Throws unless `seconds` is null, undefined (the caller's default applies) or a number of seconds
 * from 0 (`allowZero`: "only if it is so already") or above 0, up to MAX_TIMEOUT_SECONDS.
 */
export function checkSecondsTimeout(name: string, seconds: unknown, allowZero: boolean): void {
  if (seconds === null || seconds === undefined) return;
  if (typeof seconds !== 'number')
    throw new TypeError(`${name} must be a number of seconds or null, got ${typeof seconds}`);
  const aboveMinimum = allowZero ? seconds >= 0 : seconds > 0;
  if (!aboveMinimum || !(seconds <= MAX_TIMEOUT_SECONDS)) {
    throw new RangeError(
      `${name} must be ${allowZero ? 'at least 0' : 'more than 0'} and at most ${MAX_TIMEOUT_SECONDS} seconds ` +
        `(Node's longest timer), or null for no limit; got ${String(seconds)}`
    );
  }
}
