import { describe, it, expect, afterEach } from 'vitest';
import { FrameClock } from '../../engine/clock/frame-clock.js';

const clocks: FrameClock[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) c.stop();
});

function make(options?: ConstructorParameters<typeof FrameClock>[0]): FrameClock {
  const c = new FrameClock(options);
  clocks.push(c);
  return c;
}

function waitTicks(clock: FrameClock, n: number): Promise<number[]> {
  return new Promise((resolve) => {
    const seen: number[] = [];
    const onTick = (i: number): void => {
      seen.push(i);
      if (seen.length === n) {
        clock.off('tick', onTick);
        resolve(seen);
      }
    };
    clock.on('tick', onTick);
  });
}

describe('FrameClock', () => {
  it('ticks with consecutive indexes and does not drift over 50 periods', async () => {
    const clock = make({ periodMs: 10 });
    const t0 = process.hrtime.bigint();
    clock.start();
    const seen = await waitTicks(clock, 51);
    const elapsedMs = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(seen).toEqual(Array.from({ length: 51 }, (_, i) => i));
    // Tick 50 is due at 500 ms; a drifting clock (period + timer slack per tick) would be far later.
    expect(elapsedMs).toBeGreaterThanOrEqual(499);
    expect(clock.stats().ticks).toBe(51);
  });

  it('runs missed ticks back to back after a stall, then skips beyond the catch-up limit', async () => {
    const clock = make({ periodMs: 10, maxCatchUpTicks: 3 });
    let blocked = false;
    clock.on('tick', () => {
      if (!blocked) {
        blocked = true;
        const until = Date.now() + 100;
        while (Date.now() < until) {
          /* stall the event loop for 10 periods */
        }
      }
    });
    clock.start();
    await waitTicks(clock, 10);
    const s = clock.stats();
    expect(s.skippedTicks).toBeGreaterThan(0);
    expect(s.lateTicks).toBeGreaterThan(0);
    expect(s.latenessMsMax).toBeGreaterThan(50);
  });

  it('keeps ticking when a listener throws and reports the error', async () => {
    const clock = make({ periodMs: 5 });
    const errors: unknown[] = [];
    clock.on('listenerError', ({ error }) => errors.push(error));
    clock.on('tick', (i) => {
      if (i === 1) throw new Error('boom');
    });
    clock.start();
    await waitTicks(clock, 4);
    expect(errors).toHaveLength(1);
    expect(clock.isRunning).toBe(true);
  });

  it('stops cleanly and can be restarted', async () => {
    const clock = make({ periodMs: 5 });
    clock.start();
    await waitTicks(clock, 2);
    clock.stop();
    const before = clock.stats().ticks;
    await new Promise((r) => setTimeout(r, 30));
    expect(clock.stats().ticks).toBe(before);
    clock.start();
    const seen = await waitTicks(clock, 2);
    expect(seen[0]).toBe(0);
  });

  it('rejects a nonsensical period', () => {
    expect(() => new FrameClock({ periodMs: 0 })).toThrow(RangeError);
  });
});
