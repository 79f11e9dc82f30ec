import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConferenceRoom } from '../../engine/conference/room.js';
import { waitForRoomStart } from '../../engine/conference/transfer-wait.js';
import { ConferenceLifetimeControl } from '../../engine/settings/conference-lifetime-control.js';
import type { Scheduler } from '../../engine/util/scheduler.js';

const waiter = () => new ConferenceLifetimeControl({ startOnEntry: false });

/** A room with one waiting party, as the transfer leaves it while the leg rings. */
function ringing() {
  const room = new ConferenceRoom('r1');
  const party = room.join({ lifetime: waiter() });
  return { room, party };
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  expect(vi.getTimerCount()).toBe(0);
  vi.useRealTimers();
});

describe('waitForRoomStart', () => {
  it('resolves started when the room starts, leaving no timer or listener', async () => {
    const { room, party } = ringing();
    const listenersBefore = room.totalListenerCount();
    const wait = waitForRoomStart(room, party, { secondsTimeout: 120 });
    expect(vi.getTimerCount()).toBe(1);
    room.join();
    await expect(wait).resolves.toBe('started');
    expect(room.totalListenerCount()).toBe(listenersBefore);
  });

  it('resolves started at once when the room has already started', async () => {
    const room = new ConferenceRoom('r1');
    room.join();
    const party = room.join();
    await expect(waitForRoomStart(room, party, { secondsTimeout: 120 })).resolves.toBe('started');
    expect(room.totalListenerCount()).toBe(0);
  });

  it('resolves timeout after secondsTimeout and not before', async () => {
    const { room, party } = ringing();
    let outcome: string | undefined;
    void waitForRoomStart(room, party, { secondsTimeout: 120 }).then((o) => (outcome = o));
    await vi.advanceTimersByTimeAsync(119_999);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toBe('timeout');
    expect(room.totalListenerCount()).toBe(0);
  });

  it('waits without a limit when secondsTimeout is null', async () => {
    const { room, party } = ringing();
    const wait = waitForRoomStart(room, party, { secondsTimeout: null });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * 3600_000);
    room.join();
    await expect(wait).resolves.toBe('started');
  });

  it('resolves aborted when the signal aborts, removing its abort listener', async () => {
    const { room, party } = ringing();
    const controller = new AbortController();
    const added = vi.spyOn(controller.signal, 'addEventListener');
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const wait = waitForRoomStart(room, party, { secondsTimeout: 120, signal: controller.signal });
    controller.abort();
    await expect(wait).resolves.toBe('aborted');
    expect(added).toHaveBeenCalledTimes(1);
    expect(removed).toHaveBeenCalledWith('abort', added.mock.calls[0][1]);
    expect(room.totalListenerCount()).toBe(0);
  });

  it('resolves aborted at once for an already aborted signal', async () => {
    const { room, party } = ringing();
    await expect(
      waitForRoomStart(room, party, { secondsTimeout: 120, signal: AbortSignal.abort() })
    ).resolves.toBe('aborted');
  });

  it('removes its abort listener on the started path too', async () => {
    const { room, party } = ringing();
    const controller = new AbortController();
    const removed = vi.spyOn(controller.signal, 'removeEventListener');
    const wait = waitForRoomStart(room, party, { secondsTimeout: 120, signal: controller.signal });
    room.join();
    await wait;
    expect(removed).toHaveBeenCalledTimes(1);
  });

  it('resolves left when the room is destroyed before it starts', async () => {
    const room = new ConferenceRoom('r1');
    const chair = room.join({
      lifetime: new ConferenceLifetimeControl({ startOnEntry: false, destroyOnExit: true })
    });
    const party = room.join({ lifetime: waiter() });
    const wait = waitForRoomStart(room, party, { secondsTimeout: 120 });
    room.leave(chair, 'hangup');
    await expect(wait).resolves.toBe('left');
  });

  it('ignores other parties leaving', async () => {
    const { room, party } = ringing();
    const other = room.join({ lifetime: waiter() });
    const wait = waitForRoomStart(room, party, { secondsTimeout: 1 });
    room.leave(other, 'hangup');
    await vi.advanceTimersByTimeAsync(1000);
    await expect(wait).resolves.toBe('timeout');
  });

  it('resolves left at once for a party no longer in the room', async () => {
    const { room, party } = ringing();
    room.join({ lifetime: waiter() });
    room.leave(party, 'hangup');
    await expect(waitForRoomStart(room, party, { secondsTimeout: 120 })).resolves.toBe('left');
  });

  // 2_147_483.648 s is past Node's longest timer (2^31-1 ms): it would time out at once.
  it.each([-1, Number.NaN, Infinity, 2_147_483.648])(
    'rejects secondsTimeout %s with RangeError',
    async (secondsTimeout) => {
      const { room, party } = ringing();
      await expect(waitForRoomStart(room, party, { secondsTimeout })).rejects.toThrow(RangeError);
    }
  );

  it('uses an injected scheduler and cancels its timer', async () => {
    const { room, party } = ringing();
    const cancel = vi.fn();
    const scheduler: Scheduler = { schedule: vi.fn(() => ({ cancel })) };
    const wait = waitForRoomStart(room, party, { secondsTimeout: 30, scheduler });
    expect(scheduler.schedule).toHaveBeenCalledWith(30_000, expect.any(Function));
    room.join();
    await wait;
    expect(cancel).toHaveBeenCalledTimes(1);
  });
});
