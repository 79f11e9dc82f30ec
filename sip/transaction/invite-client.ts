/**
 * INVITE client transaction (RFC 3261 §17.1.1, with the Accepted state of RFC 6026 §7.2).
 * Timer A retransmits the INVITE over unreliable transports (T1, 2T1, 4T1 ...), timer B
 * gives up after 64*T1 without a response, timer D absorbs retransmitted final responses,
 * timer M keeps the transaction to forward retransmitted 2xx to the TU (which re-sends ACK).
 */
import { SipRequest, type SipResponse } from '../message/message.js';
import { Transaction, type TransactionContext } from './transaction.js';

export interface InviteClientUser {
  /** Every response the TU must see: 1xx, the first non-2xx final, each 2xx. */
  response(response: SipResponse): void;
  /** Timer B fired: no response at all (§17.1.1.2, treat as 408). */
  timeout(): void;
  /** The transport could not send the request (§8.1.3.1: like a 503); defaults to timeout(). */
  transportError?(error: Error): void;
}

export class InviteClientTransaction extends Transaction {
  private retransmitMs: number;

  constructor(
    key: string,
    readonly request: SipRequest,
    context: TransactionContext,
    private readonly user: InviteClientUser
  ) {
    super(key, context, 'calling');
    this.retransmitMs = context.timers.t1Ms;
  }

  start(): void {
    this.context.send(this.request);
    if (!this.context.reliable) this.timers.start('A', this.retransmitMs, () => this.timerA());
    this.timers.start('B', this.timeout64, () => this.timerB());
  }

  private timerA(): void {
    if (this.state !== 'calling') return;
    this.context.send(this.request);
    this.retransmitMs *= 2;
    this.timers.start('A', this.retransmitMs, () => this.timerA());
  }

  private timerB(): void {
    if (this.state !== 'calling') return;
    this.terminate();
    this.context.unanswered?.();
    this.user.timeout();
  }

  /**
   * The TU gave the request up (its session ended) while nothing may ever end the transaction: a
   * provisional response stopped timer B. A final response may still come within `ms` (a 2xx
   * crossing the session's end is ACKed by the TU, a 487 here); then the transaction ends and the
   * TU hears of a timeout.
   */
  giveUpAfter(ms: number): void {
    if (this.state !== 'calling' && this.state !== 'proceeding') return;
    this.timers.start('give-up', ms, () => {
      if (this.state !== 'calling' && this.state !== 'proceeding') return;
      this.terminate();
      this.user.timeout();
    });
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
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (status < 200) {
          this.state = 'proceeding';
          this.timers.stop('A');
          this.timers.stop('B');
          this.user.response(response);
        } else if (status < 300) {
          this.state = 'accepted';
          this.timers.clearAll();
          this.timers.start('M', this.timeout64, () => this.terminate());
          this.user.response(response);
        } else {
          this.state = 'completed';
          this.timers.clearAll();
          this.context.send(buildNon2xxAck(this.request, response));
          this.timers.start('D', this.context.reliable ? 0 : Math.max(32_000, this.timeout64), () =>
            this.terminate()
          );
          this.user.response(response);
        }
        break;
      case 'accepted':
        if (status >= 200 && status < 300) this.user.response(response);
        break;
      case 'completed':
        // §17.1.1.2: a retransmitted final response is answered with the ACK again.
        if (status >= 300) this.context.send(buildNon2xxAck(this.request, response));
        break;
      default:
        break;
    }
  }
}

/**
 * §17.1.1.3: the ACK for a non-2xx final response belongs to the INVITE transaction: same
 * Request-URI, Call-ID, From, CSeq number and top Via as the INVITE, To from the response,
 * and the INVITE's Route headers.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const ack = new SipRequest('ACK', invite.uri);
  ack.add('Via', invite.getList('Via')[0] ?? '');
  for (const route of invite.getAll('Route')) ack.add('Route', route);
  ack.add('Max-Forwards', '70');
  ack.add('From', invite.get('From') ?? '');
  ack.add('To', response.get('To') ?? invite.get('To') ?? '');
  ack.add('Call-ID', invite.callId);
  ack.add('CSeq', `${invite.cseq.seq} ACK`);
  return ack;
}

/**
 * §9.1: the CANCEL of an INVITE (an initial one or a re-INVITE) has the INVITE's Request-URI,
 * Call-ID, From, To, CSeq number, Route headers and top Via; it is sent with that Via kept.
 */
export function buildCancel(invite: SipRequest): SipRequest {
  const cancel = new SipRequest('CANCEL', invite.uri);
  cancel.add('Via', invite.getList('Via')[0] ?? '');
  for (const route of invite.getAll('Route')) cancel.add('Route', route);
  cancel.add('Max-Forwards', '70');
  cancel.add('From', invite.get('From') ?? '');
  cancel.add('To', invite.get('To') ?? '');
  cancel.add('Call-ID', invite.callId);
  cancel.add('CSeq', `${invite.cseq.seq} CANCEL`);
  return cancel;
}
