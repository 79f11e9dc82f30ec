/**
 * INVITEs we sent that ended without a 2xx (given up after a CANCEL the callee ignored, or Timer B),
 * kept for 64·T1 by Call-ID and From tag: a 2xx that comes after is ACKed and its dialog ended
 * with BYE (§13.2.2.4). Dropped, the callee retransmitted it for 32 s while whoever had picked up
 * heard silence. Bounded: the oldest goes first.
 */
import type { SipResponse } from '../message/message.js';
import type { Clock, TimerHandle } from '../transaction/timers.js';
import type { OutgoingInvite } from './outgoing-invite.js';

const MAX_KEPT = 1024;

export class UnansweredInvites {
  readonly #kept = new Map<string, { session: OutgoingInvite; timer: TimerHandle }>();

  constructor(
    private readonly clock: Clock,
    private readonly keepMs: () => number
  ) {}

  remember(session: OutgoingInvite): void {
    const key = `${session.callId}|${session.localTag}`;
    if (this.#kept.has(key)) return;
    if (this.#kept.size >= MAX_KEPT) {
      const [oldest] = this.#kept.keys();
      this.forget(oldest);
    }
    const timer = this.clock.setTimeout(() => this.#kept.delete(key), this.keepMs());
    this.#kept.set(key, { session, timer });
  }

  /** The ended INVITE a 2xx answers, if it is one of ours kept here. */
  find(response: SipResponse): OutgoingInvite | undefined {
    return this.#kept.get(`${response.callId}|${response.fromTag ?? ''}`)?.session;
  }

  clear(): void {
    for (const key of [...this.#kept.keys()]) this.forget(key);
  }

  private forget(key: string): void {
    const kept = this.#kept.get(key);
    if (kept) this.clock.clearTimeout(kept.timer);
    this.#kept.delete(key);
  }
}
