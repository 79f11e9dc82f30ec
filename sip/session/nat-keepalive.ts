/**
 * A phone behind NAT over UDP hears our requests only while its NAT keeps the mapping its
 * INVITE opened (nat-peer.ts), and home routers drop an idle UDP mapping after 30 s to a few
 * minutes. A conference call sends no SIP for far longer, so its BYE at the end was lost. As
 * Kamailio's nathelper does for such dialogs, an OPTIONS goes in the dialog every interval while
 * the call lasts; the phone's answer keeps the mapping open. A 481 says the phone has forgotten
 * the call (it restarted, say): the call ends then, with nobody to tell.
 */
import type { SipResponse } from '../message/message.js';
import type { Clock, TimerHandle } from '../transaction/timers.js';

export class NatKeepalive {
  #timer: TimerHandle | undefined;
  #stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    /** Sends the OPTIONS in the dialog; resolves with its final response (408 when unanswered). */
    private readonly ping: () => Promise<SipResponse>,
    /** The phone answered 481: it has no such call any more. */
    private readonly forgotten: () => void
  ) {}

  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = this.clock.setTimeout(() => this.#send(), this.intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #send(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    this.ping().then(
      (response) => {
        if (this.#stopped) return;
        if (response.status === 481) {
          this.forgotten();
          return;
        }
        this.start();
      },
      () => this.start()
    );
  }
}
