/**
 * Timer values and the injectable clock of the transaction layer (RFC 3261 §17, Table 4 in
 * Appendix A). Transactions never call setTimeout themselves, so tests drive them with a
 * fake clock.
 */

export interface TimerValues {
  /** RTT estimate, default 500 ms (§17.1.1.1). */
  t1Ms: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s. */
  t2Ms: number;
  /** Maximum time a message stays in the network, default 5 s. */
  t4Ms: number;
}

export const DEFAULT_TIMERS: TimerValues = { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 };

/** The longest delay Node's timers take (2^31-1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export type TimerHandle = unknown;

export interface Clock {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Node's timers, with delays capped at {@link MAX_TIMER_MS}: beyond it Node fires at once, and a
 * peer's Session-Expires or a registrar's grant of 3 000 000 s hung a call up a millisecond after
 * answering it, or had us REGISTER 400 times a second.
 */
export const systemClock: Clock = {
  setTimeout: (callback, delayMs) => setTimeout(callback, Math.min(MAX_TIMER_MS, delayMs)),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>)
};

/** Named one-shot timers owned by one transaction; `clearAll()` leaves nothing behind. */
export class TimerSet {
  private readonly handles = new Map<string, TimerHandle>();
  constructor(private readonly clock: Clock) {}

  start(name: string, delayMs: number, callback: () => void): void {
    this.stop(name);
    const handle = this.clock.setTimeout(() => {
      this.handles.delete(name);
      callback();
    }, delayMs);
    this.handles.set(name, handle);
  }

  stop(name: string): void {
    const handle = this.handles.get(name);
    if (handle !== undefined) {
      this.clock.clearTimeout(handle);
      this.handles.delete(name);
    }
  }

  has(name: string): boolean {
    return this.handles.has(name);
  }

  clearAll(): void {
    for (const handle of this.handles.values()) this.clock.clearTimeout(handle);
    this.handles.clear();
  }
}
