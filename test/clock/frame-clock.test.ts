import { describe, it, expect, afterEach } from 'vitest';
import dgram from 'node:dgram';
import { once } from 'node:events';
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
    // No skipping here (that is the next test's subject): a loaded host may stall the loop for
    // longer than the default five catch-up periods, and every missed tick must still run.
    const clock = make({ periodMs: 10, maxCatchUpTicks: 1000 });
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

  it('reads what arrived during a stall before it runs the ticks the stall delayed', async () => {
    // A datagram sent while the event loop is blocked waits in the socket; the late ticks must
    // not run (and conceal its frame) before the poll phase has delivered it.
    const receiver = dgram.createSocket('udp4');
    const sender = dgram.createSocket('udp4');
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    let received = false;
    receiver.on('message', () => (received = true));
    try {
      const clock = make({ periodMs: 10, maxCatchUpTicks: 20 });
      const seenAtTick: boolean[] = [];
      clock.on('tick', (i) => {
        seenAtTick[i] = received;
        if (i === 1) {
          sender.send(Buffer.from('frame'), receiver.address().port, '127.0.0.1');
          const until = Date.now() + 60;
          while (Date.now() < until) {
            /* stall the event loop for 6 periods, with the datagram waiting in the socket */
          }
        }
      });
      clock.start();
      await waitTicks(clock, 6);
      expect(seenAtTick[1]).toBe(false);
      expect(seenAtTick[2]).toBe(true);
    } finally {
      receiver.close();
      sender.close();
    }
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
