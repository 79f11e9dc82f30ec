/**
 * INVITE server transaction (RFC 3261 §17.2.1, with the Accepted state of RFC 6026 §7.1).
 * Retransmitted INVITEs are absorbed and answered with the last response; a non-2xx final
 * response is retransmitted by timer G (T1 doubling up to T2) until the ACK arrives or
 * timer H (64*T1) fires; timer I absorbs ACK retransmissions. After a 2xx the transaction
 * waits in Accepted for timer L absorbing INVITE retransmissions: 2xx retransmission until
 * ACK is the TU's job (§13.3.1.4).
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type TransactionContext } from './transaction.js';

export interface InviteServerUser {
  /** Timer H fired: the ACK for our non-2xx final response never came. */
  timeout(): void;
}

export class InviteServerTransaction extends Transaction {
  private lastResponse?: SipResponse;
  private retransmitMs: number;

  constructor(
    key: string,
    readonly request: SipRequest,
    context: TransactionContext,
    private readonly user: InviteServerUser
  ) {
    super(key, context, 'proceeding');
    this.retransmitMs = context.timers.t1Ms;
  }

  get finalStatus(): number | undefined {
    return this.lastResponse && this.lastResponse.status >= 200 ? this.lastResponse.status : undefined;
  }

  /** Whether any response has been sent (100 Trying included). */
  get answered(): boolean {
    return this.lastResponse !== undefined;
  }

  /**
   * §17.2.1: sends `trying` (100 Trying) unless a response is sent within `ms` (the RFC's 200 ms):
   * a request refused at once is answered without it, and statelessly (user-agent.ts).
   */
  tryingUnlessAnsweredWithin(ms: number, trying: () => void): void {
    this.timers.start('100', ms, () => {
      if (this.state === 'proceeding' && !this.answered) trying();
    });
  }

  /** The To tag of the responses sent so far (none before the first response past 100 Trying). */
  get responseToTag(): string | undefined {
    return this.lastResponse?.toTag;
  }

  /** A request that matched this transaction: an INVITE retransmission or the ACK. */
  receive(request: SipRequest): void {
    if (request.method === 'INVITE') {
      // §17.2.1: in Proceeding and Completed, resend the most recent response.
      if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
        this.context.send(this.lastResponse);
      }
      return;
    }
    if (request.method === 'ACK' && this.state === 'completed') {
      this.state = 'confirmed';
      this.timers.stop('G');
      this.timers.stop('H');
      this.timers.start('I', this.context.reliable ? 0 : this.context.timers.t4Ms, () => this.terminate());
    }
  }

  respond(response: SipResponse): void {
    if (this.state !== 'proceeding') return;
    this.lastResponse = response;
    this.context.send(response);
    if (response.status < 200) return;
    if (response.status < 300) {
      this.state = 'accepted';
      this.timers.start('L', this.timeout64, () => this.terminate());
      return;
    }
    this.state = 'completed';
    if (!this.context.reliable) this.timers.start('G', this.retransmitMs, () => this.timerG());
    this.timers.start('H', this.timeout64, () => this.timerH());
  }

  /**
   * Sends a response along this transaction's path without touching its state: the TU's own
   * retransmissions of a 2xx until the ACK arrives (§13.3.1.4).
   */
  retransmit(response: SipResponse): void {
    this.context.send(response);
  }

  get reliable(): boolean {
    return this.context.reliable;
  }

  private timerG(): void {
    if (this.state !== 'completed' || !this.lastResponse) return;
    this.context.send(this.lastResponse);
    this.retransmitMs = Math.min(this.retransmitMs * 2, this.context.timers.t2Ms);
    this.timers.start('G', this.retransmitMs, () => this.timerG());
  }

  private timerH(): void {
    if (this.state !== 'completed') return;
    this.terminate();
    this.user.timeout();
  }
}
