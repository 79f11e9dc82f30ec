/** When a failed session refresh is sent again (RFC 4028 §10, RFC 3261 §14.1): the waits, with a seeded random. */
import { describe, expect, it } from 'vitest';
import { SipResponse } from '../../sip/message/message.js';
import {
  FIRST_RETRY_MS,
  MAX_REFRESH_RETRIES,
  refreshRetryDelayMs,
  retryAfterSeconds
} from '../../sip/session/refresh-retry.js';
import { mulberry32 } from '../support/sip-prng.js';

const context = (overrides: Partial<Parameters<typeof refreshRetryDelayMs>[1]> = {}) => ({
  attempt: 1,
  ownsCallId: false,
  random: mulberry32(4028),
  ...overrides
});

describe('refreshRetryDelayMs', () => {
  it('waits 2.1-4 s after a 491 when we own the Call-ID, 0-2 s when the peer does, in 10 ms units (§14.1)', () => {
    for (const [ownsCallId, lowest, highest] of [
      [true, 2100, 4000],
      [false, 0, 2000]
    ] as const) {
      const random = mulberry32(491);
      const waits = Array.from({ length: 500 }, () =>
        refreshRetryDelayMs({ status: 491 }, context({ ownsCallId, random }))
      ) as number[];
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(lowest);
      expect(Math.max(...waits)).toBeLessThanOrEqual(highest);
      expect(waits.every((ms) => ms % 10 === 0)).toBe(true);
      expect(new Set(waits).size).toBeGreaterThan(100);
      // The ends of the range are reachable.
      expect(refreshRetryDelayMs({ status: 491 }, context({ ownsCallId, random: () => 0 }))).toBe(lowest);
      expect(refreshRetryDelayMs({ status: 491 }, context({ ownsCallId, random: () => 0.99999 }))).toBe(
        highest
      );
    }
  });

  it('honours Retry-After (at least 1 s), else waits 4 s doubling; gives up after MAX_REFRESH_RETRIES', () => {
    expect(refreshRetryDelayMs({ status: 503, retryAfterSeconds: 7 }, context())).toBe(7000);
    expect(refreshRetryDelayMs({ status: 500, retryAfterSeconds: 0 }, context())).toBe(1000);
    expect(refreshRetryDelayMs({ status: 500 }, context())).toBe(FIRST_RETRY_MS);
    expect(refreshRetryDelayMs({ status: 488 }, context({ attempt: 3 }))).toBe(4 * FIRST_RETRY_MS);
    expect(
      refreshRetryDelayMs({ status: 500 }, context({ attempt: MAX_REFRESH_RETRIES + 1 }))
    ).toBeUndefined();
    expect(
      refreshRetryDelayMs({ status: 491 }, context({ attempt: MAX_REFRESH_RETRIES + 1 }))
    ).toBeUndefined();
  });

  it('never retries after a 408 or a 481: the session has ended (RFC 4028 §10)', () => {
    expect(refreshRetryDelayMs({ status: 408 }, context())).toBeUndefined();
    expect(refreshRetryDelayMs({ status: 481, retryAfterSeconds: 1 }, context())).toBeUndefined();
  });
});

describe('retryAfterSeconds', () => {
  it('reads the delta-seconds before a comment or parameters (§20.33), nothing from garbage', () => {
    const with503 = (value?: string) => {
      const response = new SipResponse(503, 'Service Unavailable');
      if (value !== undefined) response.add('Retry-After', value);
      return retryAfterSeconds(response);
    };
    expect(with503('18000;duration=3600')).toBe(18000);
    expect(with503('120 (I am in a meeting)')).toBe(120);
    expect(with503('soon')).toBeUndefined();
    expect(with503()).toBeUndefined();
  });
});
