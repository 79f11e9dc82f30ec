/**
 * The `secondsTimeout` option of the channel's waits: a number of seconds > 0 that a Node
 * timer can hold, or `null` for no limit.
 */
import { InvalidArgumentError } from '../errors.js';

/** Node's longest timer delay (2^31-1 ms); beyond it, as at 0, NaN or below, the timer fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Throws unless `secondsTimeout` is null or a number of seconds > 0 and at most Node's longest timer. */
export function checkSecondsTimeout(operation: string, secondsTimeout: unknown): void {
  if (secondsTimeout === null) return;
  if (
    typeof secondsTimeout === 'number' &&
    Number.isFinite(secondsTimeout) &&
    secondsTimeout > 0 &&
    secondsTimeout * 1000 <= MAX_TIMER_MS
  )
    return;
  throw new InvalidArgumentError(
    'secondsTimeout',
    `${operation}: secondsTimeout must be a number of seconds > 0 and at most ${MAX_TIMER_MS / 1000}, ` +
      `or null for no limit; got ${String(secondsTimeout)}`
  );
}
