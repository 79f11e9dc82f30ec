/**
 * Non-INVITE server transaction (RFC 3261 §17.2.2): retransmitted requests are absorbed in
 * Trying and answered with the last response in Proceeding/Completed; timer J (64*T1 over
 * unreliable transports) keeps the final response for retransmissions.
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { Transaction, type TransactionContext } from './transaction.js';

export class NonInviteServerTransaction extends Transaction {
  private lastResponse?: SipResponse;

  constructor(
    key: string,
    readonly request: SipRequest,
    context: TransactionContext
  ) {
    super(key, context, 'trying');
  }

  get finalStatus(): number | undefined {
    return this.lastResponse && this.lastResponse.status >= 200 ? this.lastResponse.status : undefined;
  }

  receive(_request: SipRequest): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse) {
      this.context.send(this.lastResponse);
    }
  }

  respond(response: SipResponse): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.lastResponse = response;
    this.context.send(response);
    if (response.status < 200) {
      this.state = 'proceeding';
      return;
    }
    this.state = 'completed';
    this.timers.start('J', this.context.reliable ? 0 : this.timeout64, () => this.terminate());
  }
}
