/**
 * One re-INVITE of ours (RFC 3261 §14.1) and its client transaction: every 2xx ACKed
 * (§13.2.2.4), a challenge answered with the call's credentials (§22.2: a carrier that challenged
 * our session refresh ended every call at expiry), and cancelled when answered only
 * provisionally for 64*T1. Timer B stops at a provisional response, and nothing else ends the
 * transaction: every offer of the peer's met 491 until the session expired (868 s by default),
 * or for good without a session timer. §9.1 lets a re-INVITE be cancelled; the session stays as
 * it was.
 */
import type { ChallengeAnswers } from '../auth/challenge-answers.js';
import type { Dialog } from '../dialog/dialog.js';
import { SipError } from '../errors.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { sessionDescriptionOf } from '../message/session-body.js';
import { buildCancel } from '../transaction/invite-client.js';
import type { ClientAttempt } from '../transaction/target-failover.js';
import type { TimerHandle } from '../transaction/timers.js';
import { authorizedRetry } from './challenged-request.js';
import type { SendOptions, SessionHost } from './session-host.js';

/** How a re-INVITE of ours ended: the 2xx and its answer, or the error (with the response, if one came). */
export type ReinviteOutcome =
  { answer: string; response: SipResponse } | { error: SipError; response?: SipResponse };

/** What the re-INVITE needs of its session. */
export interface ReinviteSession {
  readonly host: SessionHost;
  readonly dialog: Dialog;
  readonly sendOptions: SendOptions;
  readonly answers: ChallengeAnswers | undefined;
  /** Whether the session has ended meanwhile. */
  ended(): boolean;
  /** The 2xx's answer to our offer (empty: none), told before the outcome settles. */
  answered(answer: string): void;
  /** §12.2.1.2, RFC 4028 §10: a 481 or 408 ends the dialog (BYE); no answer at all, too. */
  endAfter(failure: 'rejected' | 'timeout'): void;
}

export class OutgoingReinvite {
  readonly outcome: Promise<ReinviteOutcome>;
  #settled = false;
  #cancelled = false;
  #attempt: ClientAttempt | undefined;
  #wait: TimerHandle | undefined;
  #current: SipRequest;
  #resolve!: (outcome: ReinviteOutcome) => void;

  constructor(
    private readonly session: ReinviteSession,
    request: SipRequest
  ) {
    this.#current = request;
    this.outcome = new Promise<ReinviteOutcome>((resolve) => (this.#resolve = resolve));
    this.#send(request);
  }

  /** The session ended: its transaction is given up 64*T1 from now (a 2xx crossing the end is still ACKed). */
  sessionEnded(): void {
    this.#stopWait();
    this.#attempt?.giveUpAfter?.(64 * this.session.host.timers.t1Ms);
  }

  get #waitMs(): number {
    return 64 * this.session.host.timers.t1Ms;
  }

  #finish(outcome: ReinviteOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#attempt = undefined;
    this.#stopWait();
    this.#resolve(outcome);
  }

  #stopWait(): void {
    if (this.#wait !== undefined) this.session.host.clock.clearTimeout(this.#wait);
    this.#wait = undefined;
  }

  #cancelledOutcome(): ReinviteOutcome {
    return {
      error: new SipError(
        'ERR_SIP_CANCELLED',
        `re-INVITE answered only provisionally for ${this.#waitMs} ms: cancelled`,
        487
      )
    };
  }

  #cancelUnanswered(): void {
    this.#wait = undefined;
    const attempt = this.#attempt;
    const { host, sendOptions } = this.session;
    if (this.#settled || this.session.ended() || !attempt) return;
    this.#cancelled = true;
    host.sendRequest(buildCancel(this.#current), { ...sendOptions, keepVia: true }).catch(() => {});
    // No 487 to the CANCEL within 64*T1 either: the transaction is given up, the call goes on.
    attempt.giveUpAfter?.(this.#waitMs);
  }

  #send(sent: SipRequest): void {
    this.#current = sent;
    const { host, sendOptions } = this.session;
    const seq = sent.cseq.seq;
    // A send that throws (a remote target we cannot reach) must not leave the re-INVITE pending:
    // every later re-INVITE, ours or the peer's, would meet 491.
    try {
      const attempt = host.sendInvite(
        sent,
        {
          response: (response) => this.#onResponse(sent, seq, response),
          timeout: () => {
            if (this.#cancelled) return this.#finish(this.#cancelledOutcome());
            this.#finish({ error: new SipError('ERR_SIP_TIMEOUT', 'no response to re-INVITE', 408) });
            this.session.endAfter('timeout');
          }
        },
        sendOptions
      );
      if (!this.#settled) this.#attempt = attempt;
    } catch (error) {
      this.#finish({
        error: new SipError('ERR_SIP_TRANSPORT', `cannot send re-INVITE: ${(error as Error).message}`, 503)
      });
    }
  }

  #onResponse(sent: SipRequest, seq: number, response: SipResponse): void {
    const { host, dialog, sendOptions } = this.session;
    if (response.status < 200) {
      if (!this.#settled && !this.#cancelled)
        this.#wait ??= host.clock.setTimeout(() => this.#cancelUnanswered(), this.#waitMs);
      return;
    }
    if (response.status < 300) {
      // Every 2xx (first and retransmitted) is ACKed (§13.2.2.4).
      host.sendAck(dialog.createRequest('ACK', seq), sendOptions);
      if (this.#settled) return;
      dialog.refreshTarget(response);
      const answer = sessionDescriptionOf(response) ?? '';
      this.session.answered(answer);
      this.#finish({ answer, response });
      return;
    }
    if (this.#cancelled && response.status === 487) {
      this.#finish({ ...this.#cancelledOutcome(), response });
      return;
    }
    const retry =
      this.#settled || this.#cancelled
        ? undefined
        : authorizedRetry(dialog, sent, response, this.session.answers, host.logger);
    if (retry && !this.session.ended()) {
      this.#stopWait();
      this.#send(retry);
      return;
    }
    this.#finish({
      error: new SipError(
        'ERR_SIP_REJECTED',
        `re-INVITE failed: ${response.status} ${response.reason}`,
        response.status,
        response.reason
      ),
      response
    });
    if (response.status === 481 || response.status === 408) this.session.endAfter('rejected');
  }
}
