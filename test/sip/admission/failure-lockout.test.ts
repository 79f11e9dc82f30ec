import { afterEach, describe, it, expect, vi } from 'vitest';
import { sleep } from '../../support/wait.js';
import { FailureLockout } from '../../../sip/admission/failure-lockout.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('FailureLockout', () => {
  it('on its own clock, a step of the wall clock neither lifts a lock nor holds it past its time', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const lockout = new FailureLockout({ failures: 1, windowMs: 1000, lockMs: 300 });
    expect(lockout.fail('stepped-forward')).toBe(true);
    vi.setSystemTime(Date.now() + 3_600_000); // NTP steps the clock an hour on
    expect(lockout.locked('stepped-forward')).toBe(true);
    expect(lockout.fail('stepped-back')).toBe(true);
    vi.setSystemTime(Date.now() - 7_200_000); // and two hours back
    await sleep(400);
    expect(lockout.locked('stepped-forward')).toBe(false);
    expect(lockout.locked('stepped-back')).toBe(false);
  });

  it('locks a key after its failures in the window, once, and ignores failures while locked', () => {
    let now = 0;
    const lockout = new FailureLockout({ failures: 2, windowMs: 1000, lockMs: 5000 }, () => now);
    expect(lockout.fail('a')).toBe(false);
    expect(lockout.fail('a')).toBe(true);
    expect(lockout.locked('a')).toBe(true);
    // Failures while locked neither lock again nor lengthen the lock.
    now = 4000;
    expect(lockout.fail('a')).toBe(false);
    expect(lockout.fail('a')).toBe(false);
    now = 5000;
    expect(lockout.locked('a')).toBe(false);
    expect(lockout.fail('a')).toBe(false);
  });

  it('keeps at most maxKeys keys: quiet ones go first, then counting ones, a lock last', () => {
    let now = 0;
    const lockout = new FailureLockout({ failures: 2, windowMs: 1000, lockMs: 60_000 }, () => now, 3);
    lockout.fail('quiet');
    lockout.fail('locked');
    expect(lockout.fail('locked')).toBe(true);
    now = 2000; // 'quiet' has left the window
    lockout.fail('counting');
    lockout.fail('spray-0');
    expect(lockout.size).toBe(3);
    for (let i = 1; i < 10; i++) lockout.fail(`spray-${i}`);
    expect(lockout.size).toBe(3);
    expect(lockout.locked('locked')).toBe(true);
    expect(lockout.fail('spray-9')).toBe(true);
  });

  it('rejects limits that would never lock or never unlock', () => {
    expect(() => new FailureLockout({ failures: 0, windowMs: 1, lockMs: 1 })).toThrow(RangeError);
    expect(() => new FailureLockout({ failures: 1.5, windowMs: 1, lockMs: 1 })).toThrow(RangeError);
    expect(() => new FailureLockout({ failures: 1, windowMs: 0, lockMs: 1 })).toThrow(/windowMs/);
    expect(() => new FailureLockout({ failures: 1, windowMs: 1, lockMs: Infinity })).toThrow(/lockMs/);
  });
});
