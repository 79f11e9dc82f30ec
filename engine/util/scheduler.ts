/**
 * The timer seam for pure logic (transfer waits, digit collection): code takes a
 * `Scheduler` instead of calling `setTimeout` directly, so tests can drive time and the
 * engine can run timers off its own clock. The default uses the global timers, which
 * `vi.useFakeTimers()` replaces.
 */

export interface TimerHandle {
  /** Cancels the timer; calling it again, or after the timer fired, does nothing. */
  cancel(): void;
}

export interface Scheduler {
  /** Runs `callback` once after `delayMs` milliseconds. */
  schedule(delayMs: number, callback: () => void): TimerHandle;
}

export const globalScheduler: Scheduler = {
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, delayMs);
    return { cancel: () => clearTimeout(timer) };
  }
};
