import { describe, expect, it } from 'vitest';
import { DigitRateLimit, resolveDigitRateLimit } from '../../engine/dtmf/digit-rate-limit.js';

/** How many of `count` digits, all at `atMs`, the limit lets through. */
function through(limit: DigitRateLimit, count: number, atMs: number): number {
  let passed = 0;
  for (let i = 0; i < count; i++) if (limit.take(atMs)) passed++;
  return passed;
}

describe('DigitRateLimit', () => {
  it('lets a burst through at once, then one digit per 1/digitsPerSecond', () => {
    const limit = new DigitRateLimit();
    expect([limit.digitsPerSecond, limit.burstDigits]).toEqual([20, 10]);
    expect(through(limit, 500, 0)).toBe(10);
    expect(through(limit, 10, 49)).toBe(0);
    expect(through(limit, 10, 50)).toBe(1);
    expect(through(limit, 10, 150)).toBe(2);
    // A sender keying as fast as Q.24 allows (a 40 ms tone and a 40 ms pause) is never touched.
    const keypad = new DigitRateLimit();
    let passed = 0;
    for (let i = 0; i < 1000; i++) if (keypad.take(i * 80)) passed++;
    expect(passed).toBe(1000);
  });

  it('counts the digits dropped since it was last full: 1 is the first drop of a burst', () => {
    const limit = new DigitRateLimit({ digitsPerSecond: 10, burstDigits: 2 });
    expect(through(limit, 2, 0)).toBe(2);
    expect(limit.droppedSinceFull).toBe(0);
    expect(limit.take(0)).toBe(false);
    expect(limit.droppedSinceFull).toBe(1);
    // A digit let through mid-flood does not end the burst...
    expect(limit.take(100)).toBe(true);
    expect(limit.take(100)).toBe(false);
    expect(limit.droppedSinceFull).toBe(2);
    // ...a quiet spell long enough to fill the bucket does.
    expect(limit.take(300)).toBe(true);
    expect(limit.droppedSinceFull).toBe(0);
  });

  it('refills nothing when the clock steps back', () => {
    const limit = new DigitRateLimit({ digitsPerSecond: 1, burstDigits: 1 });
    expect(limit.take(5000)).toBe(true);
    expect(limit.take(1000)).toBe(false);
    expect(limit.take(5999)).toBe(false);
    expect(limit.take(6000)).toBe(true);
  });

  it('refuses a rate that is not a positive number and a burst that is not a whole digit', () => {
    expect(resolveDigitRateLimit(undefined)).toEqual({ digitsPerSecond: 20, burstDigits: 10 });
    expect(resolveDigitRateLimit({ digitsPerSecond: 2.5 })).toEqual({
      digitsPerSecond: 2.5,
      burstDigits: 10
    });
    expect(() => resolveDigitRateLimit({ digitsPerSecond: 0 })).toThrow(
      'dtmfRateLimit.digitsPerSecond must be a positive number, got 0'
    );
    expect(() => resolveDigitRateLimit({ digitsPerSecond: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => resolveDigitRateLimit({ burstDigits: 0.5 })).toThrow(RangeError);
    expect(() => resolveDigitRateLimit({ burstDigits: '5' as unknown as number })).toThrow(TypeError);
    expect(() => resolveDigitRateLimit(7 as never)).toThrow(TypeError);
  });
});
