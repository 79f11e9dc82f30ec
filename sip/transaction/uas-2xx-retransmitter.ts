/**
 * The UAS core's retransmission of a 2xx to INVITE until the ACK arrives (RFC 3261
 * §13.3.1.4): at T1, then doubling up to T2, over TCP, TLS and WebSocket too ("independent of
 * whatever transport protocols are used": the 2xx goes end to end, and a proxy between may
 * carry it on over UDP, where only our retransmissions make up for its loss); after 64*T1
 * without ACK the dialog must be ended with BYE (`onTimeout`). The first transmission goes
 * out through the INVITE server transaction; this only repeats it.
 */
import type { SipResponse } from '../message/message.js';
import { TimerSet, type Clock, type TimerValues } from './timers.js';

export class Uas2xxRetransmitter {
  private readonly timers: TimerSet;
  private intervalMs: number;
  private done = false;

  constructor(
    private readonly response: SipResponse,
    private readonly clock: Clock,
    private readonly values: TimerValues,
    private readonly send: (response: SipResponse) => void,
    private readonly onTimeout: () => void
  ) {
    this.timers = new TimerSet(clock);
    this.intervalMs = values.t1Ms;
  }

  start(): void {
    this.timers.start('retransmit', this.intervalMs, () => this.retransmit());
    this.timers.start('timeout', 64 * this.values.t1Ms, () => {
      this.stop();
      this.onTimeout();
    });
  }

  private retransmit(): void {
    if (this.done) return;
    this.send(this.response);
    this.intervalMs = Math.min(this.intervalMs * 2, this.values.t2Ms);
    this.timers.start('retransmit', this.intervalMs, () => this.retransmit());
  }

  /** The ACK arrived (or the dialog ended): stop retransmitting. Idempotent. */
  stop(): void {
    this.done = true;
    this.timers.clearAll();
  }
}
