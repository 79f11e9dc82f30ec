/**
 * The pacer alone, with an injected clock and fake timers: a turn's budget, the token bucket,
 * pause and resume of reading, one report per rate-limit episode, nothing left after stop().
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MESSAGES_PER_TURN, MessagePacer, type SharedBudget } from '../../../sip/transport/message-pacer.js';
import { SourceBudget } from '../../../sip/transport/source-budget.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function pacer(rate: { perSecond: number; burst: number }, shared?: SharedBudget) {
  const delivered: number[] = [];
  const events: string[] = [];
  const p = new MessagePacer<number>(
    rate,
    {
      deliver: (n) => delivered.push(n),
      pause: () => events.push('pause'),
      resume: () => events.push('resume'),
      rateLimited: () => events.push('limited')
    },
    () => Date.now(),
    shared
  );
  return { p, delivered, events };
}

const range = (n: number, from = 0): number[] => Array.from({ length: n }, (_, i) => from + i);

describe('MessagePacer', () => {
  it("holds the connections of one source to the source's rate together, not to each its own", () => {
    const budget = new SourceBudget({ ratePerSecond: 10, burst: 6 }, () => Date.now());
    const own = { perSecond: 1000, burst: 1000 };
    const a = pacer(own, { budget, source: '192.0.2.7' });
    const b = pacer(own, { budget, source: '192.0.2.7' });
    const elsewhere = pacer(own, { budget, source: '192.0.2.8' });
    a.p.push(...range(5));
    b.p.push(...range(5));
    elsewhere.p.push(...range(5));
    vi.advanceTimersByTime(0);
    expect(a.delivered.length + b.delivered.length).toBe(6);
    expect(elsewhere.delivered).toHaveLength(5);
    expect(b.events).toEqual(['pause', 'limited']);
    // Ten a second for both together: the four left need 400 ms.
    vi.advanceTimersByTime(250);
    expect(a.delivered.length + b.delivered.length).toBeLessThan(10);
    vi.advanceTimersByTime(500);
    expect(a.delivered).toEqual(range(5));
    expect(b.delivered).toEqual(range(5));
    expect(b.events).toEqual(['pause', 'limited', 'resume']);
  });

  it("delivers one turn's budget at once, the rest on later turns, pausing reading until all are out", () => {
    const { p, delivered, events } = pacer({ perSecond: 1_000_000, burst: 1_000_000 });
    p.push(...range(20));
    expect(delivered).toEqual(range(MESSAGES_PER_TURN));
    expect(events).toEqual(['pause']);
    vi.advanceTimersToNextTimer();
    expect(delivered).toEqual(range(2 * MESSAGES_PER_TURN));
    vi.advanceTimersToNextTimer();
    expect(delivered).toEqual(range(20));
    expect(events).toEqual(['pause', 'resume']);
  });

  it('holds messages past the burst until tokens come back at the rate, reporting the episode once', () => {
    const { p, delivered, events } = pacer({ perSecond: 10, burst: 4 });
    p.push(...range(4));
    vi.runOnlyPendingTimers();
    expect(delivered).toHaveLength(4);
    p.push(...range(6, 4));
    expect(delivered).toHaveLength(4);
    expect(events).toEqual(['pause', 'limited']);
    vi.advanceTimersByTime(99);
    expect(delivered).toHaveLength(4);
    vi.advanceTimersByTime(500);
    vi.runOnlyPendingTimers();
    expect(delivered).toHaveLength(10);
    expect(delivered).toEqual(range(10));
    expect(events.filter((e) => e === 'limited')).toHaveLength(1);
    expect(events.at(-1)).toBe('resume');
    // Quiet until the bucket is full again: the next excess is a new episode.
    vi.advanceTimersByTime(1000);
    p.push(...range(6, 10));
    vi.runOnlyPendingTimers();
    expect(events.filter((e) => e === 'limited')).toHaveLength(2);
  });

  it('drops what waits and leaves no timer when stopped', () => {
    const { p, delivered } = pacer({ perSecond: 1, burst: 1 });
    p.push(1, 2, 3);
    p.stop();
    p.push(4);
    vi.runAllTimers();
    expect(delivered).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
