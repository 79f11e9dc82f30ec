/**
 * A fake clock for SIP transaction tests: timers fire only when the test advances time,
 * in deadline order, so retransmission schedules are checked without sleeping.
 */
import type { Clock, TimerHandle } from '../../sip/transaction/timers.js';

interface Pending {
  id: number;
  at: number;
  callback: () => void;
}

export class FakeClock implements Clock {
  nowMs = 0;
  private nextId = 1;
  private pending: Pending[] = [];

  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.nowMs + delayMs, callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Moves time forward, firing due timers in order (timers they start fire too if due). */
  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      let next: Pending | undefined;
      for (const p of this.pending)
        if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) break;
      this.pending = this.pending.filter((p) => p !== next);
      this.nowMs = next.at;
      next.callback();
    }
    this.nowMs = target;
  }
}
