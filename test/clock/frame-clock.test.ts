import { describe, it, expect, afterEach } from 'vitest';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { sleep, waitFor } from '../support/wait.js';

const clocks: FrameClock[] = [];
const sockets: dgram.Socket[] = [];
afterEach(() => {
  for (const c of clocks.splice(0)) c.stop();
  for (const s of sockets.splice(0)) s.close();
});

/** A bound receiver on loopback and a way to send datagrams to it; both close after the test. */
async function datagrams(): Promise<{ receiver: dgram.Socket; send: (data: string | Buffer) => void }> {
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  sockets.push(receiver, sender);
  receiver.bind(0, '127.0.0.1');
  await once(receiver, 'listening');
  return { receiver, send: (data) => sender.send(data, receiver.address().port, '127.0.0.1') };
}

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
    const { receiver, send } = await datagrams();
    let received = false;
    const clock = make({ periodMs: 10, maxCatchUpTicks: 20 });
    receiver.on('message', () => {
      // As RTP sessions do; here first, so that a late tick it wrongly ran would not see the datagram.
      clock.runIfDue();
      received = true;
    });
    const seenAtTick: boolean[] = [];
    clock.on('tick', (i) => {
      seenAtTick[i] = received;
      if (i === 1) {
        send('frame');
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
  });

  it('runs a tick that comes due during a burst of packets between two of them, not after the burst', async () => {
    // 32 datagrams wait in one socket; libuv reads them in one go, 1.5 ms of handler each: the
    // 48 ms burst spans at least one deadline of the 40 ms clock. A timer alone runs only after
    // the burst; a handler calling runIfDue lets the tick in as soon as it is due.
    const { receiver, send } = await datagrams();
    const clock = make({ periodMs: 40 });
    const log: string[] = [];
    let handled = 0;
    const done = new Promise<void>((resolve) => {
      receiver.on('message', () => {
        const until = performance.now() + 1.5;
        while (performance.now() < until) {
          /* a handler's work */
        }
        log.push('packet');
        clock.runIfDue();
        if (++handled === 32) resolve();
      });
    });
    clock.on('tick', (i) => {
      log.push('tick');
      if (i === 1) for (let k = 0; k < 32; k++) send(Buffer.alloc(20));
    });
    clock.start();
    await done;
    const burst = log.slice(log.indexOf('packet'), log.lastIndexOf('packet') + 1);
    expect(burst.filter((e) => e === 'packet')).toHaveLength(32);
    expect(burst).toContain('tick');
  });

  it('lets a tick that runIfDue finds late by over half a period read what waits first', async () => {
    // Three datagrams wait in one socket: the first one's handler stalls the loop for 6 periods,
    // the second asks runIfDue, the third is the frame the delayed ticks must see.
    const { receiver, send } = await datagrams();
    const clock = make({ periodMs: 10, maxCatchUpTicks: 20 });
    let frameRead = false;
    receiver.on('message', (msg) => {
      const kind = msg.toString();
      if (kind === 'stall') {
        const until = Date.now() + 60;
        while (Date.now() < until) {
          /* a long callback that is not a tick */
        }
      } else if (kind === 'probe') clock.runIfDue();
      else frameRead = true;
    });
    const seenAtTick: boolean[] = [];
    clock.on('tick', (i) => {
      seenAtTick[i] = frameRead;
      if (i === 1) for (const kind of ['stall', 'probe', 'frame']) send(kind);
    });
    clock.start();
    await waitTicks(clock, 6);
    expect(seenAtTick[1]).toBe(false);
    expect(seenAtTick[2]).toBe(true);
  });

  it('never starts a tick from inside a tick', async () => {
    const clock = make({ periodMs: 10 });
    let depth = 0;
    let deepest = 0;
    clock.on('tick', () => {
      depth++;
      deepest = Math.max(deepest, depth);
      clock.runIfDue();
      depth--;
    });
    clock.start();
    await waitTicks(clock, 5);
    expect(deepest).toBe(1);
  });

  it('runIfDue runs only a due tick, and nothing once stopped', () => {
    const clock = make({ periodMs: 1000 });
    clock.runIfDue();
    expect(clock.stats().ticks).toBe(0);
    clock.start();
    // Tick 0 is due at the start; tick 1 a second later.
    clock.runIfDue();
    expect(clock.stats().ticks).toBe(1);
    clock.runIfDue();
    expect(clock.stats().ticks).toBe(1);
    clock.stop();
    clock.runIfDue();
    expect(clock.stats().ticks).toBe(1);
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

  // An idle engine ticked 50 times a second for nothing (about 3 % of a core): with no room to
  // mix, the clock sleeps, and wakes when one comes.
  it('sleeps while idle, and woken runs its next tick at once: due then, not late, nothing caught up', async () => {
    // No skipping (a loaded host may stall the loop): every tick a woken clock ran is in `seen`.
    const clock = make({ periodMs: 10, maxCatchUpTicks: 1000 });
    const seen: number[] = [];
    clock.on('tick', (index) => {
      seen.push(index);
      // As a frame loop whose last room leaves during a tick.
      if (index === 2) clock.setIdle(true);
    });
    clock.start();
    await waitFor(() => seen.length === 3);
    expect(clock.isTicking).toBe(false);
    // Ten periods asleep: not one tick, and packets' runIfDue runs none either.
    await sleep(100);
    clock.runIfDue();
    expect(seen).toEqual([0, 1, 2]);
    expect(clock.stats().ticks).toBe(3);
    const wokenAtMs = performance.now();
    clock.setIdle(false);
    expect(clock.isTicking).toBe(true);
    await waitFor(() => seen.length >= 6);
    expect(seen.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    // Tick 3 had been due 70 ms before: run as due then, it would have been late (the overload
    // guard reads lateness) and the ticks since would have run back to back to catch up.
    expect(clock.tickTimeMs(3)).toBeGreaterThanOrEqual(wokenAtMs - 1e-6);
    expect(clock.tickTimeMs(4) - clock.tickTimeMs(3)).toBeCloseTo(10, 9);
  });

  it('started idle, it does not tick until something needs frames', async () => {
    const clock = make({ periodMs: 10, maxCatchUpTicks: 1000 });
    const seen: number[] = [];
    clock.on('tick', (index) => seen.push(index));
    clock.setIdle(true);
    clock.start();
    expect(clock.isRunning).toBe(true);
    await sleep(50);
    clock.runIfDue();
    expect(seen).toEqual([]);
    const wokenAtMs = performance.now();
    clock.setIdle(false);
    await waitFor(() => seen.length >= 2);
    expect(seen.slice(0, 2)).toEqual([0, 1]);
    expect(clock.tickTimeMs(0)).toBeGreaterThanOrEqual(wokenAtMs - 1e-6);
  });

  it('rejects a nonsensical period', () => {
    expect(() => new FrameClock({ periodMs: 0 })).toThrow(RangeError);
  });
});
