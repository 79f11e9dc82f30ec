/**
 * The waiting part of `transferToConferenceRoom`: the outbound leg "will ring until the
 * conference is started; or until timeout expires or the original call hangs up" (spec).
 * The party has already joined the room (it must, for its `startOnEntry` to count) and
 * hears ringback meanwhile; this resolves with how the wait ended. The timer and every
 * listener are released in `finally`, whichever way it ends.
 */
import type { Scheduler, TimerHandle } from '../util/scheduler.js';
import { globalScheduler } from '../util/scheduler.js';
import type { Party } from './party.js';
import { checkSecondsTimeout } from '../util/seconds-timeout.js';
import type { ConferenceRoom } from './room.js';

/**
 * - 'started': the room has started (or had already); answer the leg, the party is in.
 * - 'timeout': `secondsTimeout` expired first.
 * - 'aborted': `signal` aborted first (the original call hung up, the app gave up).
 * - 'left': the party left the room first (e.g. a `destroyOnExit` party left, so the room
 *   was destroyed, or its leg hung up); it can no longer enter.
 */
export type RoomStartOutcome = 'started' | 'timeout' | 'aborted' | 'left';

export interface WaitForRoomStartOptions {
  /** Seconds to wait; `null` waits without a limit. */
  secondsTimeout: number | null;
  signal?: AbortSignal;
  scheduler?: Scheduler;
}

export async function waitForRoomStart(
  room: ConferenceRoom,
  party: Party,
  options: WaitForRoomStartOptions
): Promise<RoomStartOutcome> {
  const { secondsTimeout, signal, scheduler = globalScheduler } = options;
  checkSecondsTimeout('secondsTimeout', secondsTimeout, true);
  if (signal?.aborted) return 'aborted';
  if (!room.has(party)) return 'left';
  if (room.started) return 'started';

  let timer: TimerHandle | undefined;
  let onStarted: (() => void) | undefined;
  let onPartyLeft: ((event: { party: Party }) => void) | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<RoomStartOutcome>((resolve) => {
      onStarted = () => resolve('started');
      onPartyLeft = (event) => {
        if (event.party === party) resolve('left');
      };
      onAbort = () => resolve('aborted');
      room.on('started', onStarted);
      room.on('partyLeft', onPartyLeft);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (secondsTimeout !== null)
        timer = scheduler.schedule(secondsTimeout * 1000, () => resolve('timeout'));
    });
  } finally {
    timer?.cancel();
    if (onStarted !== undefined) room.off('started', onStarted);
    if (onPartyLeft !== undefined) room.off('partyLeft', onPartyLeft);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
