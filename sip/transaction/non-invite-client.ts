/**
 * Non-INVITE client transaction (RFC 3261 §17.1.2): timer E retransmits the request over
 * unreliable transports (T1 doubling up to T2; every T2 once a provisional arrived), timer F
 * times out after 64*T1, timer K absorbs retransmitted final responses (T4).
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type TransactionContext } from './transaction.js';

export interface NonInviteClientUser {
  response(response: SipResponse): void;
  timeout(): void;
  /** The transport could not send the request (§8.1.3.1: like a 503); defaults to timeout(). */
  transportError?(error: Error): void;
}

export class NonInviteClientTransaction extends Transaction {
  private retransmitMs: number;

  constructor(
    key: string,
    readonly request: SipRequest,
    context: TransactionContext,
    private readonly user: NonInviteClientUser
  ) {
    super(key, context, 'trying');
    this.retransmitMs = context.timers.t1Ms;
  }

  start(): void {
    this.context.send(this.request);
    if (!this.context.reliable) this.timers.start('E', this.retransmitMs, () => this.timerE());
    this.timers.start('F', this.timeout64, () => this.timerF());
  }

  private timerE(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.context.send(this.request);
    this.retransmitMs =
      this.state === 'proceeding'
        ? this.context.timers.t2Ms
        : Math.min(this.retransmitMs * 2, this.context.timers.t2Ms);
    this.timers.start('E', this.retransmitMs, () => this.timerE());
  }

  private timerF(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    const heardNothing = this.state === 'trying';
    this.terminate();
    if (heardNothing) this.context.unanswered?.();
    this.user.timeout();
  }

  /** The request could not be sent at all: the transaction ends and the TU is told. */
  transportError(error: Error): void {
    if (this.state !== 'calling' && this.state !== 'trying' && this.state !== 'proceeding') return;
    const heardNothing = this.state !== 'proceeding';
    this.terminate();
    if (heardNothing) this.context.unanswered?.();
    if (this.user.transportError) this.user.transportError(error);
    else this.user.timeout();
  }

  receive(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    if (response.status < 200) {
      this.state = 'proceeding';
      this.user.response(response);
      return;
    }
    this.state = 'completed';
    this.timers.stop('E');
    this.timers.stop('F');
    this.timers.start('K', this.context.reliable ? 0 : this.context.timers.t4Ms, () => this.terminate());
    this.user.response(response);
  }
}
