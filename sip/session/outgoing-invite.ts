/**
 * An outgoing INVITE and the call it may become (RFC 3261 §13.2, UAC side): provisional
 * and early-media responses, ACK for 2xx (§13.2.2.4), digest authentication on 401/407
 * (§22.2, §22.3), and CANCEL (§9.1, sent only once a provisional response arrived).
 */
import { randomBytes } from 'node:crypto';
import { ChallengeAnswers, type ClientCredentials } from '../auth/challenge-answers.js';
import { Dialog } from '../dialog/dialog.js';
import { SipError } from '../errors.js';
import { SipRequest, type SipResponse } from '../message/message.js';
import { formatNameAddr } from '../message/name-addr.js';
import { sessionDescriptionOf } from '../message/session-body.js';
import { buildCancel } from '../transaction/invite-client.js';
import type { ClientAttempt } from '../transaction/target-failover.js';
import type { TimerHandle } from '../transaction/timers.js';
import type { MessageSource, TransportProtocol } from '../transport/transport.js';
import { ALLOWED_METHODS } from '../uas-checks.js';
import { InviteSessionBase, type TerminationReason } from './invite-session.js';
import type { SessionHost } from './session-host.js';
import { intervalFromAnswer, minSeFrom422 } from './session-timer.js';

export interface OutgoingInviteOptions {
  /** SDP offer. */
  body: string;
  /** From URI (default sip:uasmedia@<local host>). */
  from?: string;
  displayName?: string;
  headers?: Record<string, string>;
  /** Credentials for a 401/407; with `realm`, only a challenge of that realm is answered. */
  auth?: ClientCredentials;
  transport?: 'udp' | 'tcp' | 'tls';
  signal?: AbortSignal;
  /**
   * The dialog takes its requests only from where its 2xx came (transport, address and port), and
   * sends its own there: for a callee known to send from one place (a cluster node's trunk leg),
   * so that a BYE forged from anywhere else cannot end the call (481).
   */
  pinToAnswer?: boolean;
}

/** Dialogs of a forked INVITE answered after the first, each ACKed and ended with BYE. */
const MAX_FORKED_DIALOGS = 8;

export class OutgoingInvite extends InviteSessionBase {
  readonly established: Promise<{ answerSdp: string }>;
  /**
   * The address the dialog's 2xx came from, set by the user agent as it hands the 2xx over (so
   * before `established` settles for whoever awaits it): where the callee's media may come from
   * when its SDP names another of its interfaces.
   */
  /**
   * The address the dialog's 2xx came from, known once the user agent hands the 2xx over (so
   * before `established` settles for whoever awaits it): where the callee's media may come from
   * when its SDP names another of its interfaces.
   */
  get answeredFrom(): string | undefined {
    return this.answerSource?.host;
  }
  private answerSource: MessageSource | undefined;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteUri: string;
  readonly requestUri: string;
  private invite: SipRequest;
  private tx?: ClientAttempt;
  private ack?: SipRequest;
  /** To tag → our ACK, of each 2xx a forking proxy brought from another UAS after the first. */
  private readonly forkedAcks = new Map<string, SipRequest>();
  /** A forked 2xx was dropped for MAX_FORKED_DIALOGS (logged once). */
  private forkLimitLogged = false;
  private provisionalSeen = false;
  private cancelRequested = false;
  private cancelSent = false;
  /** §9.1: gives the INVITE up 64·T1 after its CANCEL if no final response has come. */
  private cancelGiveUp: TimerHandle | undefined;
  /** Every challenge the INVITE met so far (§22.3), answered again in each retry. */
  private readonly challengeAnswers: ChallengeAnswers | undefined;
  private intervalRetried = false;
  private settle?: { resolve: (v: { answerSdp: string }) => void; reject: (e: Error) => void };
  private readonly abortListener = () => this.cancel();

  constructor(
    host: SessionHost,
    target: string,
    private readonly options: OutgoingInviteOptions,
    protocol: TransportProtocol
  ) {
    super(host, protocol);
    this.callId = `${randomBytes(12).toString('hex')}@${host.localHost}`;
    this.localTag = randomBytes(6).toString('hex');
    this.remoteUri = target;
    this.requestUri = target;
    this.established = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    // The application may only listen to events; never let this promise go unhandled.
    this.established.catch(() => {});
    this.localSdp = options.body;
    this.challengeAnswers = options.auth && new ChallengeAnswers(options.auth);

    const invite = new SipRequest('INVITE', target);
    const fromUri = options.from ?? `sip:uasmedia@${host.localHost}`;
    invite.add('Max-Forwards', '70');
    invite.add(
      'From',
      formatNameAddr({
        displayName: options.displayName,
        uri: fromUri,
        params: new Map([['tag', this.localTag]])
      })
    );
    invite.add('To', `<${target}>`);
    invite.add('Call-ID', this.callId);
    invite.add('CSeq', '1 INVITE');
    invite.add('Contact', host.contact(protocol));
    invite.add('Allow', ALLOWED_METHODS.join(', '));
    const timer = host.sessionTimer;
    if (timer) {
      // RFC 4028 §7.1: we support timers and ask for our interval; the UAS picks the refresher.
      invite.add('Supported', 'timer');
      invite.add('Session-Expires', String(timer.expiresSeconds));
      invite.add('Min-SE', String(timer.minSeSeconds));
    }
    for (const [name, value] of Object.entries(options.headers ?? {})) invite.set(name, value);
    if (options.body.length > 0) {
      invite.set('Content-Type', 'application/sdp');
      invite.body = Buffer.from(options.body, 'utf8');
    }
    this.invite = invite;
  }

  protected override get credentials(): ClientCredentials | undefined {
    return this.options.auth;
  }

  get remoteDisplayName(): string | undefined {
    return undefined;
  }

  protected get ownsCallId(): boolean {
    return true;
  }

  /** Where the dialog's first 2xx came from (the user agent tells, before the session takes it). */
  answeredBy(source: MessageSource): void {
    if (this.answerSource !== undefined) return;
    this.answerSource = source;
    if (this.options.pinToAnswer === true) this.bindFlow(source);
  }

  /** Sends the INVITE (called by the user agent right after construction). */
  start(): void {
    const signal = this.options.signal;
    if (signal?.aborted) {
      this.fail(new SipError('ERR_SIP_CANCELLED', 'aborted before sending', 487), 'cancel');
      return;
    }
    signal?.addEventListener('abort', this.abortListener, { once: true });
    // RFC 7118 §5: a WebSocket client is reached only over the connection it opened. The call
    // stays on the one its INVITE goes over (its retries, CANCEL, ACK, BYE and refreshes too,
    // whatever host a Contact names), and ends when that closes.
    this.bindFlow(this.host.flowFor(this.invite, this.protocol));
    this.send();
  }

  private send(): void {
    this.tx = this.host.sendInvite(
      this.invite,
      {
        response: (r) => this.onResponse(r),
        timeout: () => this.onTimeout(),
        mayRetry: () => !this.terminated && !this.cancelRequested,
        transportError: (error) =>
          this.fail(
            new SipError(
              'ERR_SIP_TRANSPORT',
              `cannot send INVITE to ${this.requestUri}: ${error.message}`,
              503,
              'Service Unavailable'
            ),
            'error'
          )
      },
      this.sendOptions
    );
  }

  /** §9.1: CANCEL the INVITE; before any provisional response it waits for one. */
  cancel(): void {
    if (this.terminated || this.dialog) return;
    this.cancelRequested = true;
    if (this.provisionalSeen) this.sendCancel();
  }

  protected override abandon(): void {
    this.cancel();
  }

  private sendCancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    this.host.sendRequest(buildCancel(this.invite), { ...this.sendOptions, keepVia: true }).catch(() => {});
    // After a provisional response the INVITE transaction has no timer of its own (Timer B
    // stopped): a callee that went silent would keep the call being placed for good.
    this.cancelGiveUp = this.host.clock.setTimeout(() => {
      this.cancelGiveUp = undefined;
      if (this.terminated || this.dialog) return;
      this.fail(
        new SipError(
          'ERR_SIP_CANCELLED',
          `no final response to the cancelled INVITE ${this.requestUri}`,
          487
        ),
        'cancel'
      );
      if (this.tx && !this.tx.terminated) this.tx.terminate();
    }, 64 * this.host.timers.t1Ms);
  }

  private onResponse(response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      this.provisionalSeen = true;
      const body = sessionDescriptionOf(response);
      if (body !== undefined) this.remoteSdp = body;
      // 100 Trying is hop-by-hop (§8.1.3.2): it ends retransmissions but is no call progress.
      if (status > 100) this.safeEmit('progress', { status, reason: response.reason, body });
      if (this.cancelRequested) this.sendCancel();
      return;
    }
    if (status < 300) {
      this.on2xx(response);
      return;
    }
    if ((status === 401 || status === 407) && this.retryWithCredentials(response)) return;
    if (status === 422 && this.retryWithLongerInterval(response)) return;
    const cancelled = this.cancelRequested && status === 487;
    this.fail(
      new SipError(
        'ERR_SIP_REJECTED',
        `INVITE ${this.requestUri} failed: ${status} ${response.reason}`,
        status,
        response.reason
      ),
      cancelled ? 'cancel' : 'rejected'
    );
  }

  private on2xx(response: SipResponse): void {
    if (this.dialog) {
      this.onLater2xx(response, this.dialog);
      return;
    }
    const dialog = Dialog.asUac(this.invite, response);
    dialog.confirmed = true;
    this.dialog = dialog;
    this.host.addDialog(dialog, this);
    const ack = this.createAck(dialog);
    this.ack = ack;
    this.host.sendAck(ack, this.sendOptions, (error) => this.ackUnsent(error));
    if (this.ended) return;
    const answerSdp = sessionDescriptionOf(response) ?? '';
    if (answerSdp.length > 0) this.remoteSdp = answerSdp;
    this.options.signal?.removeEventListener('abort', this.abortListener);
    if (this.cancelRequested) {
      // The 2xx crossed our CANCEL (§9.1): the call was wanted gone, so hang it up.
      this.fail(new SipError('ERR_SIP_CANCELLED', 'call answered after CANCEL; hung up', 487), 'cancel');
      this.sendInDialog(dialog, dialog.createRequest('BYE')).catch(() => {});
      return;
    }
    if (this.host.sessionTimer) {
      const asked = Number(this.invite.get('Session-Expires') ?? this.host.sessionTimer.expiresSeconds);
      const settled = intervalFromAnswer(response, asked, this.host.sessionTimer.minSeSeconds);
      this.startSessionTimer({ seconds: settled.seconds, weRefresh: settled.refresher === 'uac' });
    }
    this.settle?.resolve({ answerSdp });
    this.settle = undefined;
  }

  /**
   * §13.2.2.4: every 2xx is ACKed, a retransmission again. We keep the first dialog only: a 2xx
   * from another UAS (the INVITE forked, another To tag) is ACKed and its dialog ended with BYE.
   */
  private onLater2xx(response: SipResponse, dialog: Dialog): void {
    const toTag = response.toTag ?? '';
    if (toTag === dialog.state.remoteTag) {
      if (this.ack !== undefined) this.host.sendAck(this.ack, { ...this.sendOptions, keepVia: true });
      return;
    }
    this.endUnwanted2xx(response);
  }

  /** Whether a 2xx made this call's dialog: one that ended without has none to take a late 2xx. */
  get wasAnswered(): boolean {
    return this.dialog !== undefined;
  }

  /**
   * A 2xx that came after this INVITE ended unanswered (the user agent keeps it a while for that,
   * UnansweredInvites): nobody wants the call any more, so its dialog is ACKed and ended with BYE.
   */
  endLate2xx(response: SipResponse): void {
    if (this.dialog === undefined && response.status >= 200 && response.status < 300)
      this.endUnwanted2xx(response);
  }

  /** ACKs a 2xx of a dialog we do not keep and ends it with BYE; its retransmissions are ACKed again. */
  private endUnwanted2xx(response: SipResponse): void {
    const toTag = response.toTag ?? '';
    const sent = this.forkedAcks.get(toTag);
    if (sent !== undefined) {
      this.host.sendAck(sent, { ...this.sendOptions, keepVia: true });
      return;
    }
    // Each new To tag costs an ACK and a BYE transaction sent where its Contact says: bounded,
    // so a peer inventing tags cannot make us send without end. One it drops retransmits its
    // 2xx for 64·T1, then ends its dialog itself (§13.3.1.4).
    if (this.forkedAcks.size >= MAX_FORKED_DIALOGS) {
      if (!this.forkLimitLogged)
        this.host.logger.warn(
          { callId: this.callId, limit: MAX_FORKED_DIALOGS },
          'forked 2xx beyond the limit dropped unanswered'
        );
      this.forkLimitLogged = true;
      return;
    }
    const forked = Dialog.asUac(this.invite, response);
    const ack = this.createAck(forked);
    this.host.sendAck(ack, this.sendOptions);
    this.forkedAcks.set(toTag, ack);
    this.host.logger.info({ callId: this.callId, toTag }, 'ending the dialog of an unwanted 2xx with BYE');
    this.sendInDialog(forked, forked.createRequest('BYE')).catch(() => {});
  }

  /** The ACK of a 2xx (§13.2.2.4), with the INVITE's credentials (§22.1). */
  private createAck(dialog: Dialog): SipRequest {
    const ack = dialog.createRequest('ACK', this.invite.cseq.seq);
    for (const name of ['Authorization', 'Proxy-Authorization']) {
      const value = this.invite.get(name);
      if (value !== undefined) ack.add(name, value);
    }
    return ack;
  }

  /** RFC 4028 §7.3: after 422, ask again with the UAS's Min-SE (once). */
  private retryWithLongerInterval(response: SipResponse): boolean {
    const minSe = minSeFrom422(response);
    if (
      minSe === undefined ||
      this.intervalRetried ||
      this.cancelRequested ||
      !this.invite.has('Session-Expires')
    )
      return false;
    this.intervalRetried = true;
    this.resend((next) => {
      next.set('Session-Expires', String(minSe));
      next.set('Min-SE', String(minSe));
    });
    return true;
  }

  /** The INVITE again, as a new transaction (CSeq + 1, new branch), with `change` applied. */
  private resend(change: (next: SipRequest) => void): void {
    const next = new SipRequest('INVITE', this.invite.uri);
    next.headers = this.invite.headers.filter((h) => h.name !== 'Via').map((h) => ({ ...h }));
    next.body = this.invite.body;
    next.set('CSeq', `${this.invite.cseq.seq + 1} INVITE`);
    change(next);
    this.invite = next;
    this.provisionalSeen = false;
    this.send();
  }

  override handleStrayResponse(response: SipResponse): void {
    if (response.cseq.seq !== this.invite.cseq.seq) super.handleStrayResponse(response);
    else if (response.status >= 200 && response.status < 300 && response.cseq.method === 'INVITE')
      this.on2xx(response);
  }

  /** §22.2: answer a digest challenge with a new INVITE (CSeq + 1, new branch). */
  private retryWithCredentials(response: SipResponse): boolean {
    if (!this.challengeAnswers || this.cancelRequested) return false;
    let authorizations: Array<[string, string]> | undefined;
    try {
      const request = { method: 'INVITE', uri: this.invite.uri, body: this.invite.bodyText };
      authorizations = this.challengeAnswers.answer(response, request);
    } catch (error) {
      this.host.logger.warn({ callId: this.callId, err: String(error) }, 'cannot answer digest challenge');
      return false;
    }
    if (!authorizations) return false;
    this.resend((next) => {
      next.remove('Authorization').remove('Proxy-Authorization');
      for (const [header, value] of authorizations) next.add(header, value);
    });
    return true;
  }

  private onTimeout(): void {
    this.fail(
      new SipError(
        'ERR_SIP_TIMEOUT',
        `no response to INVITE ${this.requestUri} (timer B)`,
        408,
        'Request Timeout'
      ),
      'timeout'
    );
  }

  /**
   * The ACK for the 2xx could not go: its remote target names port 0, a sips: URI we have no TLS
   * for, or a family we cannot reach (§13.2.2.4). The callee never hears that its answer was
   * taken and will give the call up, so it is not taken here either: reported answered, it was
   * one the application thought connected while the callee retransmitted its 200 into the void.
   */
  private ackUnsent(error: Error): void {
    if (this.ended) return;
    const failure = new SipError('ERR_SIP_TRANSPORT', `cannot send the ACK for the 2xx: ${error.message}`);
    if (this.settle) this.fail(failure, 'error');
    else this.terminate('error');
  }

  private fail(error: SipError, reason: TerminationReason): void {
    this.settle?.reject(error);
    this.settle = undefined;
    this.terminate(reason);
  }

  protected override onTerminate(reason: TerminationReason): void {
    this.options.signal?.removeEventListener('abort', this.abortListener);
    if (this.cancelGiveUp !== undefined) this.host.clock.clearTimeout(this.cancelGiveUp);
    this.cancelGiveUp = undefined;
    if (this.settle) {
      this.settle.reject(
        new SipError(SipError.codeOfTermination(reason), `call ended (${reason}) before it was answered`)
      );
      this.settle = undefined;
    }
    // Given up, or its connection gone (no response can come, no CANCEL can go): the INVITE
    // transaction ends with it, or it would wait for a final response for good.
    if (!this.dialog && this.tx && !this.tx.terminated && (reason === 'local' || reason === 'error'))
      this.tx.terminate();
  }
}
