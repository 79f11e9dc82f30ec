/**
 * The per-source budget that a source's connections share (source-budget.ts), with fake timers:
 * tokens at the source's rate, waiting connections woken one at a time in turn by one timer per
 * source, and a cancelled wait leaves no timer behind.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SourceBudget } from '../../../sip/transport/source-budget.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('SourceBudget', () => {
  it('wakes the connections waiting for one source in turn, with one timer for them all', () => {
    const budget = new SourceBudget({ ratePerSecond: 10, burst: 2 }, () => Date.now());
    expect([budget.take('a'), budget.take('a'), budget.take('a')]).toEqual([true, true, false]);
    expect(budget.take('b')).toBe(true);
    const woken: number[] = [];
    // Each woken connection takes a token and, like a pacer with more to send, waits again.
    const waiter = (n: number): void => {
      budget.wait('a', () => {
        woken.push(n);
        if (budget.take('a') && woken.length < 9) waiter(n);
      });
    };
    for (let n = 0; n < 3; n++) waiter(n);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(woken).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(woken).toEqual([0]);
    vi.advanceTimersByTime(500);
    expect(woken).toEqual([0, 1, 2, 0, 1, 2]);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('forgets a cancelled wait, and its timer with the last one', () => {
    const budget = new SourceBudget({ ratePerSecond: 1, burst: 1 }, () => Date.now());
    budget.take('a');
    const wake = vi.fn();
    const cancelFirst = budget.wait('a', wake);
    const cancelSecond = budget.wait('a', wake);
    cancelFirst();
    expect(vi.getTimerCount()).toBe(1);
    cancelSecond();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(5000);
    expect(wake).not.toHaveBeenCalled();
  });
});
