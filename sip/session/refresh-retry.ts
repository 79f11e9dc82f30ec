/**
 * When a failed session refresh is sent again (RFC 4028 §10). A session lasts until its expiry
 * whatever its refresh met, so a refresh that failed for a passing reason (glare, a busy or
 * overloaded peer) is tried again before then; only a 408, a 481 or no response at all end the
 * session at once (RFC 3261 §12.2.1.2), and the caller of the refresh does that.
 */
import type { SipResponse } from '../message/message.js';

export interface RefreshFailure {
  /** Final status of the refresh re-INVITE (408 too when nothing answered). */
  status: number;
  /** The response's Retry-After (§20.33), if it had one. */
  retryAfterSeconds?: number;
}

export interface RefreshRetryContext {
  /** 1 for the first retry of this refresh, 2 for the next ... */
  attempt: number;
  /** We chose the dialog's Call-ID (we sent its initial INVITE): §14.1's longer 491 wait. */
  ownsCallId: boolean;
  /** Uniform in [0, 1). */
  random: () => number;
}

/** Retries of one refresh; after them the expiry is left to end a session the peer keeps refusing. */
export const MAX_REFRESH_RETRIES = 6;
/** First wait after a failure that names none (a 500 without Retry-After), doubled for each retry. */
export const FIRST_RETRY_MS = 4000;

/** How long to wait before sending a failed refresh again, or undefined for no retry. */
export function refreshRetryDelayMs(
  failure: RefreshFailure,
  context: RefreshRetryContext
): number | undefined {
  if (failure.status === 408 || failure.status === 481) return undefined;
  if (context.attempt > MAX_REFRESH_RETRIES) return undefined;
  if (failure.status === 491) {
    // RFC 3261 §14.1: a random time in units of 10 ms, 2.1-4 s for the owner of the Call-ID, else 0-2 s.
    const [lowest, highest] = context.ownsCallId ? [210, 400] : [0, 200];
    return 10 * (lowest + Math.floor(context.random() * (highest - lowest + 1)));
  }
  // §21.5.1, §21.5.4: a 500 or 503 (or any answer) may say when to come back; at least a second.
  if (failure.retryAfterSeconds !== undefined) return Math.max(1, failure.retryAfterSeconds) * 1000;
  return FIRST_RETRY_MS * 2 ** (context.attempt - 1);
}

/** Retry-After's delta-seconds (§20.33: `120 (in a meeting);duration=3600`), if it has one. */
export function retryAfterSeconds(response: SipResponse): number | undefined {
  const value = response.get('Retry-After');
  if (value === undefined) return undefined;
  let end = 0;
  while (end < value.length && end < 10 && value.charCodeAt(end) >= 0x30 && value.charCodeAt(end) <= 0x39)
    end++;
  return end > 0 ? Number(value.slice(0, end)) : undefined;
}
