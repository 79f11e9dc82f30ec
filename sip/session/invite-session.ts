/**
 * What both directions of an INVITE session share once a dialog exists (RFC 3261 §12-§15):
 * in-dialog requests (BYE, INFO, OPTIONS, re-INVITE with offer/answer), 2xx retransmission
 * until ACK for re-INVITEs (§13.3.1.4), BYE and INFO from our side, and one 'terminated'.
 */
import { NatKeepalive } from './nat-keepalive.js';
import { movedNatPeer } from './nat-peer.js';
import { ChallengeAnswers, type ClientCredentials } from '../auth/challenge-answers.js';
import type { Dialog } from '../dialog/dialog.js';
import { SipError } from '../errors.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import { createResponse, warningHeaders, warningValue } from '../message/responses.js';
import { sessionDescriptionOf } from '../message/session-body.js';
import { describesChange } from '../sdp/description-change.js';
import { ALLOWED_METHODS, capabilityHeaders } from '../uas-checks.js';
import type { InviteServerTransaction } from '../transaction/invite-server.js';
import type { ServerTransaction } from '../transaction/layer.js';
import { Uas2xxRetransmitter } from '../transaction/uas-2xx-retransmitter.js';
import type { TimerHandle } from '../transaction/timers.js';
import type { MessageSource, TransportProtocol } from '../transport/transport.js';
import { SafeEmitter } from '../safe-emitter.js';
import { sendAnsweringChallenges } from './challenged-request.js';
import { OutgoingReinvite, type ReinviteOutcome } from './outgoing-reinvite.js';
import { DTMF_INFO_TYPES, parseDtmfInfo, type DtmfInfo } from './dtmf-info.js';
import { earlyUpdateResponse } from './early-update.js';
import type { DialogUser, SendOptions, SessionHost } from './session-host.js';
import { retryAfterSeconds } from './refresh-retry.js';
import {
  SessionTimer,
  formatSessionExpires,
  intervalFromAnswer,
  minSeFrom422,
  negotiateAsUas,
  type ArmedInterval,
  type RefreshOutcome,
  type SessionInterval
} from './session-timer.js';

/** 'expired': no session refresh came in time (RFC 4028 §10); we sent BYE. */
export type TerminationReason = 'bye' | 'cancel' | 'timeout' | 'expired' | 'error' | 'rejected' | 'local';

export interface InfoEvent {
  contentType: string;
  body: string;
  dtmf?: DtmfInfo;
}

export interface ProgressEvent {
  status: number;
  reason: string;
  body?: string;
}

export type InviteSessionEvents = {
  /** UAS: our 2xx to the INVITE went out; its ACK is awaited. */
  accepted: [];
  /** UAS: the ACK for our 2xx arrived, the dialog is confirmed. */
  ack: [];
  /** The remote side hung up (we already answered 200). */
  bye: [];
  info: [InfoEvent];
  /** A re-INVITE changed the session: the new remote and local descriptions. */
  reinvite: [{ remoteSdp: string; localSdp: string }];
  terminated: [{ reason: TerminationReason }];
  /** UAC: a provisional response (183 with a body = early media). */
  progress: [ProgressEvent];
  /** UAS: CANCEL received; we answered 200 to it and 487 to the INVITE. */
  cancel: [];
  /**
   * UAS: a caller behind NAT now sends from another host (it changed networks): the address it
   * came from, or the one a trusted proxy in front names. Its media comes from there too.
   */
  callerMoved: [address: string];
  /** A caller behind NAT is reached at `peer` now (a new UDP mapping, or a new TCP or TLS connection). */
  natPeerMoved: [peer: MessageSource];
};

/** Thrown by an offerHandler to reject a re-INVITE with a status (e.g. 488), and why (RFC 3261 §20.43). */
export interface OfferRejection extends Error {
  status?: number;
  warning?: { code: number; text: string };
}

/**
 * Our answer to a peer's offer in a re-INVITE or UPDATE; a promise for one that takes time (a
 * browser's ICE restart: its peer connection gathers anew), while which the request waits.
 */
export type OfferHandler = (offerSdp: string) => string | Promise<string>;
/**
 * Applies the answer an ACK carried to the offer of our 2xx (an INVITE or re-INVITE that had
 * none); `undefined` when the ACK carried none. Throwing ends the session with BYE.
 */
export type AnswerHandler = (answerSdp: string | undefined) => void;

const SDP = 'application/sdp';
/** The longest session interval a peer's 422 may ask our refreshes for (RFC 4028 §7.4). */
const MAX_MIN_SE_SECONDS = 86_400;
/**
 * How long an offerHandler's promise may take before the peer's re-INVITE or UPDATE is refused
 * (500, Retry-After) and the dialog takes offers again: a promise that never settled held the
 * request, and every later offer, for good. Room for an ICE restart's gathering (3 s by default)
 * behind another answer's turn; well within the 32 s of the peer's timer F (64*T1), after which
 * an UPDATE unanswered times out, and RFC 3261 §12.2.1.2 has the peer end the dialog.
 */
export const OFFER_ANSWER_TIMEOUT_MS = 10_000;

export abstract class InviteSessionBase extends SafeEmitter<InviteSessionEvents> implements DialogUser {
  remoteSdp?: string;
  offerHandler?: OfferHandler;
  /** Our offer for the 2xx of an INVITE or re-INVITE without one (default: our last description). */
  offerProvider?: () => string;
  answerHandler?: AnswerHandler;
  /**
   * The answer to a session refresh (which repeats our last description, `offer`) when it changed
   * the peer's (a new o= version, RFC 3264 §8: a relay that moved its port): it is the session from
   * then on. Unset, or throwing, the refresh still counts and the media stays as it was.
   */
  refreshAnswerHandler?: (offer: string, answer: string) => void;
  protected dialog?: Dialog;
  protected localSdp?: string;
  protected ended = false;
  private endedFor: TerminationReason | undefined;
  /** Our BYE's transaction is under way: the dialog is kept for a BYE crossing it. */
  private byeInFlight = false;
  /**
   * The session ended from our side before the ACK of our 2xx to the initial INVITE: §15 holds
   * the BYE until that ACK comes or the 2xx's retransmissions end (timer H), and the 2xx goes on
   * being retransmitted meanwhile.
   */
  private byeAwaitingAck: { seq: number; retransmitter: Uas2xxRetransmitter } | undefined;
  /** 2xx responses to INVITEs we answered, retransmitted until their ACK (by CSeq number). */
  private readonly pending2xx = new Map<
    number,
    { retransmitter: Uas2xxRetransmitter; awaitingAnswer: boolean }
  >();

  /**
   * A peer's re-INVITE or UPDATE whose offer an asynchronous offerHandler is answering: no other
   * offer is taken until it is (RFC 3261 §14.2, RFC 3311 §5.2), and the session's end answers it 487.
   */
  private offerInAnswer:
    { request: SipRequest; tx: ServerTransaction; timeout: TimerHandle | undefined } | undefined;
  private boundFlow: MessageSource | undefined;
  private natKeepalive: NatKeepalive | undefined;
  /** UAS: the caller's host as last seen (IncomingInvite sets it), followed while it is behind NAT. */
  protected callerHost: string | undefined;

  protected constructor(
    protected readonly host: SessionHost,
    readonly protocol: TransportProtocol,
    flow?: MessageSource,
    /** Where the peer is reached when its own address is behind NAT (nat-peer.ts). */
    private natPeer?: MessageSource,
    /** The peer is behind NAT over UDP, ours or a proxy's: pinged while the call lasts (nat-keepalive.ts). */
    private readonly pingsPeer = false
  ) {
    super();
    this.boundFlow = flow;
  }

  /** The connection the dialog runs over, for a peer reached only over it (WebSocket). */
  get flow(): MessageSource | undefined {
    return this.boundFlow;
  }

  /** Binds the session to the connection its initial INVITE goes over, once, before it is sent. */
  protected bindFlow(flow: MessageSource | undefined): void {
    this.boundFlow ??= flow;
  }

  /** How the dialog's requests are sent: its transport, its flow when it has one, and where a peer behind NAT is. */
  protected get sendOptions(): SendOptions {
    return { protocol: this.protocol, flow: this.flow, natPeer: this.natPeer };
  }

  protected override unreportedListenerError(event: string, error: unknown): void {
    this.host.logger.error({ event, err: String(error) }, 'session listener threw');
  }

  abstract get callId(): string;
  abstract get localTag(): string;
  /** We chose the Call-ID: we sent the dialog's initial INVITE (RFC 3261 §14.1 asks). */
  protected abstract get ownsCallId(): boolean;

  /** Ours, for a dialog we placed with them: they answer its requests' challenges too. */
  protected get credentials(): ClientCredentials | undefined {
    return undefined;
  }

  /**
   * What answers a challenge to `request`: the call's own credentials, else those of a
   * registration whose registrar the request goes to (a carrier's call to us, its BYE challenged).
   */
  private credentialsFor(request: SipRequest): ClientCredentials | undefined {
    return this.credentials ?? this.host.registrarCredentials(request, this.sendOptions);
  }

  /** A request of the dialog, sent again with our credentials if challenged (challenged-request.ts). */
  protected sendInDialog(dialog: Dialog, request: SipRequest): Promise<SipResponse> {
    const send = (r: SipRequest): Promise<SipResponse> => this.host.sendRequest(r, this.sendOptions);
    return sendAnsweringChallenges(dialog, request, this.credentialsFor(request), send, this.host.logger);
  }

  get remoteTag(): string | undefined {
    return this.dialog?.state.remoteTag;
  }

  get terminated(): boolean {
    return this.ended;
  }

  /** Why the session ended (undefined while it lasts). */
  get terminationReason(): TerminationReason | undefined {
    return this.endedFor;
  }

  /** Sends BYE (or gives up the call attempt); resolves on its final response or timeout. */
  async bye(): Promise<void> {
    if (this.ended) return;
    if (!this.dialog) {
      this.abandon();
      return;
    }
    try {
      await this.endWithBye('local');
    } catch (error) {
      this.host.logger.warn({ callId: this.callId, err: String(error) }, 'BYE failed');
    }
  }

  /** Sends INFO in the dialog; resolves with the final status (408 on timeout). */
  async info(contentType: string, body: string): Promise<number> {
    if (this.ended || !this.dialog)
      throw new SipError('ERR_INVALID_STATE', 'INFO needs an established dialog');
    const request = this.dialog.createRequest('INFO');
    request.add('Content-Type', contentType);
    request.body = Buffer.from(body, 'utf8');
    const response = await this.sendInDialog(this.dialog, request);
    return response.status;
  }

  /**
   * Sends a re-INVITE with a new offer (hold, resume, a new local address; §14.1). Resolves
   * with the answer SDP; rejects with SipError (491 on glare, 488 ...) and the session stays
   * as it was, except that 481/408 end it (§14.1, §12.2.1.2).
   */
  reinvite(offerSdp: string): Promise<string> {
    return this.sendReinvite(offerSdp, {}).then((outcome) =>
      'error' in outcome ? Promise.reject(outcome.error) : outcome.answer
    );
  }

  private sendReinvite(offerSdp: string, headers: Record<string, string>): Promise<ReinviteOutcome> {
    const dialog = this.dialog;
    if (this.ended || !dialog)
      return Promise.resolve({
        error: new SipError('ERR_INVALID_STATE', 're-INVITE needs an established dialog')
      });
    if (this.reinvitePending)
      return Promise.resolve({
        error: new SipError('ERR_INVALID_STATE', 'a re-INVITE is already in progress', 491)
      });
    // §14.1: no INVITE of ours while one of the peer's is in progress.
    if (this.offerInAnswer)
      return Promise.resolve({
        error: new SipError('ERR_INVALID_STATE', "the peer's offer is still being answered", 491)
      });
    const request = dialog.createRequest('INVITE');
    request.add('Contact', this.host.contact(this.protocol));
    request.add('Content-Type', SDP);
    for (const [name, value] of Object.entries(headers)) request.add(name, value);
    request.body = Buffer.from(offerSdp, 'utf8');
    const credentials = this.credentialsFor(request);
    const reinvite = new OutgoingReinvite(
      {
        host: this.host,
        dialog,
        sendOptions: this.sendOptions,
        answers: credentials && new ChallengeAnswers(credentials),
        ended: () => this.ended,
        answered: (answer) => {
          this.localSdp = offerSdp;
          if (answer.length > 0) this.remoteSdp = answer;
        },
        endAfter: (failure) => {
          if (failure === 'timeout') void this.bye();
          else this.endWithBye('error').catch(() => {});
        }
      },
      request
    );
    this.reinvitePending = reinvite;
    const forget = (): void => {
      if (this.reinvitePending === reinvite) this.reinvitePending = undefined;
    };
    return reinvite.outcome.finally(forget);
  }

  /** Our re-INVITE until its final response (outgoing-reinvite.ts). */
  private reinvitePending: OutgoingReinvite | undefined;
  private sessionTimer: SessionTimer | undefined;

  /** The RFC 4028 interval in force, if the session has a timer. */
  get sessionInterval(): ArmedInterval | undefined {
    return this.sessionTimer?.interval;
  }

  /** Arms (or re-arms after a refresh) the session timer. */
  protected startSessionTimer(interval: ArmedInterval): void {
    if (this.ended) return;
    this.sessionTimer ??= new SessionTimer(
      this.host.clock,
      { refresh: () => this.refreshSession(), expire: () => this.expireSession() },
      { ownsCallId: this.ownsCallId }
    );
    this.sessionTimer.start(interval);
  }

  /**
   * §7.4: a refresh is a re-INVITE with the same offer, offering to go on refreshing. A 408, a
   * 481 or no answer have ended the session already (sendReinvite); any other failure is retried.
   */
  private async refreshSession(): Promise<RefreshOutcome> {
    const current = this.sessionTimer?.interval;
    if (!current || this.ended) throw new SipError('ERR_INVALID_STATE', 'no session to refresh');
    let seconds = current.seconds;
    let outcome = await this.sendRefresh(seconds);
    // §7.4: a 422 names the least interval the peer takes; asked again at once with it (a day at most).
    const minSe =
      'error' in outcome && outcome.error.status === 422 && outcome.response
        ? minSeFrom422(outcome.response)
        : undefined;
    if (minSe !== undefined && minSe > seconds && minSe <= MAX_MIN_SE_SECONDS && !this.ended) {
      seconds = minSe;
      outcome = await this.sendRefresh(seconds, minSe);
    }
    if ('error' in outcome) {
      const { error, response } = outcome;
      if (error.status === undefined) throw error;
      this.host.logger.info(
        { callId: this.callId, status: error.status, err: error.message },
        'session refresh failed'
      );
      const retryAfter = response && retryAfterSeconds(response);
      return {
        failure: { status: error.status, ...(retryAfter !== undefined && { retryAfterSeconds: retryAfter }) }
      };
    }
    const settled = intervalFromAnswer(outcome.response, seconds, this.host.sessionTimer?.minSeSeconds ?? 0);
    return { interval: { seconds: settled.seconds, weRefresh: settled.refresher === 'uac' } };
  }

  /**
   * A refresh re-INVITE: the same offer, unchanged (RFC 6337 §5.3: a peer may refuse a changed
   * one), offering to go on refreshing every `seconds`. An answer with a new version goes to
   * `refreshAnswerHandler`: stored and no more, our RTP went on to a port the peer had left.
   */
  private async sendRefresh(seconds: number, minSe?: number): Promise<ReinviteOutcome> {
    const headers: Record<string, string> = {
      Supported: 'timer',
      'Session-Expires': formatSessionExpires({ seconds, refresher: 'uac' })
    };
    if (minSe !== undefined) headers['Min-SE'] = String(minSe);
    const offer = this.localSdp ?? '';
    const before = this.remoteSdp;
    const outcome = await this.sendReinvite(offer, headers);
    if ('error' in outcome || outcome.answer.length === 0 || !describesChange(before, outcome.answer))
      return outcome;
    try {
      this.refreshAnswerHandler?.(offer, outcome.answer);
    } catch (error) {
      this.host.logger.warn({ callId: this.callId, err: String(error) }, 'session refresh answer not taken');
    }
    return outcome;
  }

  private expireSession(): void {
    if (this.ended) return;
    this.host.logger.warn(
      { callId: this.callId, interval: this.sessionTimer?.interval },
      'session expired without a refresh (RFC 4028), sending BYE'
    );
    this.endWithBye('expired').catch(() => {});
  }

  /**
   * What our 2xx to an INVITE or re-INVITE says about session timers (Session-Expires, and
   * Require: timer when the peer supports it), or the Min-SE of a 422; nothing when timers are off.
   */
  protected negotiateSessionTimer(
    request: SipRequest
  ): { headers: Record<string, string>; interval?: SessionInterval } | { rejectMinSe: number } {
    const config = this.host.sessionTimer;
    if (!config) return { headers: {} };
    const result = negotiateAsUas(request, config);
    if ('reject' in result) return { rejectMinSe: result.reject.minSeSeconds };
    const headers: Record<string, string> = {
      Supported: 'timer',
      'Session-Expires': formatSessionExpires(result.interval)
    };
    if (result.requireTimer) headers.Require = 'timer';
    return { headers, interval: result.interval };
  }

  /** §6: 422 Session Interval Too Small, with the Min-SE we accept. */
  protected respond422(request: SipRequest, tx: ServerTransaction, minSeSeconds: number): void {
    const response = createResponse(request, 422, 'Session Interval Too Small', this.localTag);
    response.add('Min-SE', String(minSeSeconds));
    this.host.respond(tx, response);
  }

  /** A call attempt without dialog given up by bye(): CANCEL or reject, per side. */
  protected abstract abandon(): void;

  /** The ACK of the initial INVITE's 2xx (UAS only). */
  protected onInitialAck(_ack: SipRequest): void {}

  /** Initial INVITE CSeq on the remote side (UAS), to tell its ACK from a re-INVITE's. */
  protected initialRemoteSeq?: number;

  handleRequest(
    request: SipRequest,
    tx: ServerTransaction | undefined,
    source?: MessageSource,
    namedCaller?: string
  ): void {
    if (request.method === 'ACK') {
      this.handleAck(request);
      return;
    }
    if (!tx) return;
    const dialog = this.dialog;
    if (!dialog || this.ended) {
      const crossingBye = (this.byeInFlight || this.byeAwaitingAck) && request.method === 'BYE';
      this.host.respond(tx, createResponse(request, crossingBye ? 200 : 481));
      // The caller hung up first: the BYE we held is not needed.
      if (crossingBye && this.byeAwaitingAck) this.dropHeldBye();
      return;
    }
    if (!dialog.acceptRemoteSeq(request)) {
      this.host.respond(tx, createResponse(request, 500, 'CSeq Out of Order'));
      return;
    }
    if (source) this.followCaller(request, source, namedCaller);
    switch (request.method) {
      case 'BYE':
        this.host.respond(tx, createResponse(request, 200));
        this.safeEmit('bye');
        this.terminate('bye');
        return;
      case 'INFO':
        this.handleInfo(request, tx);
        return;
      case 'INVITE':
        this.handleReinvite(request, tx as InviteServerTransaction);
        return;
      case 'UPDATE':
        this.handleUpdate(request, tx);
        return;
      case 'OPTIONS': {
        const response = createResponse(request, 200);
        for (const [name, value] of Object.entries(capabilityHeaders(this.host.sessionTimer !== undefined)))
          response.add(name, value);
        this.host.respond(tx, response);
        return;
      }
      default:
        this.host.respond(tx, createResponse(request, 405));
    }
  }

  /**
   * A 2xx to a re-INVITE of ours whose transaction has ended (timer M, or given up after its
   * CANCEL) is ACKed again (§13.2.2.4), and no more: unACKed, the peer ends the call (§13.3.1.4).
   */
  handleStrayResponse(response: SipResponse): void {
    const dialog = this.dialog;
    const seq = response.cseq.seq;
    if (!dialog || response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE')
      return;
    if (seq > dialog.state.localSeq) return;
    this.host.sendAck(dialog.createRequest('ACK', seq), this.sendOptions);
  }

  /**
   * A phone behind NAT whose mapping changed sends its next request from the new one: the
   * dialog's requests (the BYE, the keep-alive OPTIONS) follow it there. Only a request in
   * sequence moves it, so a replayed old one cannot. When its host changed (it changed networks;
   * through a trusted proxy, the host the proxy names: `namedCaller`), 'callerMoved' says so.
   */
  private followCaller(request: SipRequest, source: MessageSource, namedCaller: string | undefined): void {
    const current = this.natPeer;
    const moved = current && movedNatPeer(request, source, current);
    if (moved) {
      this.natPeer = moved;
      this.host.logger.info(
        { callId: this.callId, from: `${current.host}:${current.port}`, to: `${moved.host}:${moved.port}` },
        'caller behind NAT moved: its dialog follows'
      );
      this.safeEmit('natPeerMoved', moved);
    }
    if (this.natPeer === undefined && !this.pingsPeer) return;
    const caller = namedCaller ?? moved?.host;
    if (caller === undefined || caller === this.callerHost) return;
    this.callerHost = caller;
    this.safeEmit('callerMoved', caller);
  }

  /** An INFO in this call's early dialog (the user agent found it), answered as in the call. */
  takeEarlyInfo(request: SipRequest, tx: ServerTransaction): void {
    if (this.ended) this.host.respond(tx, createResponse(request, 481));
    else this.handleInfo(request, tx);
  }

  private handleInfo(request: SipRequest, tx: ServerTransaction): void {
    const contentType = request.contentType;
    const body = request.bodyText;
    if (body.length > 0 && !DTMF_INFO_TYPES.has(contentType)) {
      const response = createResponse(request, 415);
      response.add('Accept', [...DTMF_INFO_TYPES].join(', '));
      this.host.respond(tx, response);
      return;
    }
    this.host.respond(tx, createResponse(request, 200));
    const event: InfoEvent = { contentType, body };
    const dtmf = parseDtmfInfo(contentType, body);
    if (dtmf) event.dtmf = dtmf;
    this.safeEmit('info', event);
  }

  /** §14.2: a re-INVITE carries a new offer (or none: we offer in the 2xx, answer in the ACK). */
  private handleReinvite(request: SipRequest, tx: InviteServerTransaction): void {
    const timer = this.admitSessionChange(request, tx, true);
    if (timer === undefined) return;
    // A body we cannot read was refused before the request reached its dialog (uas-checks.ts).
    const offer = sessionDescriptionOf(request) ?? '';
    this.describeThen(
      request,
      tx,
      () =>
        // No offer (a session refresh, say): we offer in the 2xx and the ACK answers.
        offer.length > 0
          ? this.answerTo(offer)
          : this.offerProvider
            ? this.offerProvider()
            : (this.localSdp ?? ''),
      (localSdp) => {
        this.dialog?.refreshTarget(request);
        this.sendAnswer2xx(request, tx, localSdp, offer.length === 0, timer.headers);
        // §10: a re-INVITE from the peer in the dialog refreshes the session.
        this.restartSessionTimer(timer.interval);
        this.localSdp = localSdp;
        if (offer.length > 0) {
          this.remoteSdp = offer;
          this.safeEmit('reinvite', { remoteSdp: offer, localSdp });
        }
      }
    );
  }

  /**
   * RFC 3311: an UPDATE changes the session outside any INVITE: a new offer answered in its 200,
   * or none, a session refresh (RFC 4028 §7.4) that trunks and SBCs send instead of a re-INVITE
   * when the dialog allows UPDATE. It refreshes the remote target as a re-INVITE does (§5.2).
   */
  private handleUpdate(request: SipRequest, tx: ServerTransaction): void {
    const offer = sessionDescriptionOf(request) ?? '';
    // RFC 3311 §5.2: only an offer can meet one of ours.
    const timer = this.admitSessionChange(request, tx, offer.length > 0);
    if (timer === undefined) return;
    if (offer.length > 0)
      this.describeThen(
        request,
        tx,
        () => this.answerTo(offer),
        (localSdp) => this.answerUpdate(request, tx, timer, offer, localSdp)
      );
    else this.answerUpdate(request, tx, timer, offer, undefined);
  }

  private answerUpdate(
    request: SipRequest,
    tx: ServerTransaction,
    timer: { headers: Record<string, string>; interval?: SessionInterval },
    offer: string,
    localSdp: string | undefined
  ): void {
    this.dialog?.refreshTarget(request);
    const response = createResponse(request, 200);
    response.add('Contact', this.host.contact(this.protocol));
    for (const [name, value] of Object.entries(timer.headers)) response.add(name, value);
    if (localSdp !== undefined) {
      response.add('Content-Type', SDP);
      response.body = Buffer.from(localSdp, 'utf8');
    }
    this.host.respond(tx, response);
    this.restartSessionTimer(timer.interval);
    if (localSdp === undefined) return;
    this.localSdp = localSdp;
    this.remoteSdp = offer;
    this.safeEmit('reinvite', { remoteSdp: offer, localSdp });
  }

  /**
   * What a re-INVITE or UPDATE must pass before anything changes, answered here when it fails:
   * glare when `offers` (491: our own re-INVITE, or an offer of ours in a 2xx, waits; §14.2, RFC
   * 6337 §3.1, RFC 3311 §5.2), then the session interval (422, leaving the media and the remote
   * target as they were). The negotiated session timer, or undefined once refused.
   */
  private admitSessionChange(
    request: SipRequest,
    tx: ServerTransaction,
    offers: boolean
  ): { headers: Record<string, string>; interval?: SessionInterval } | undefined {
    if (offers && this.ownOfferPending()) {
      this.host.respond(tx, createResponse(request, 491));
      return undefined;
    }
    // A second offer while the peer's last one is still being answered: 500 with a Retry-After.
    if (offers && this.offerInAnswer) {
      this.host.respond(tx, earlyUpdateResponse(request, 'uas'));
      return undefined;
    }
    const timer = this.sessionTimer ? this.negotiateSessionTimer(request) : { headers: {} };
    if (!('rejectMinSe' in timer)) return timer;
    this.respond422(request, tx, timer.rejectMinSe);
    return undefined;
  }

  /** Our re-INVITE is pending, or an offer of ours in a 2xx awaits the ACK's answer. */
  private ownOfferPending(): boolean {
    if (this.reinvitePending) return true;
    for (const pending of this.pending2xx.values()) if (pending.awaitingAnswer) return true;
    return false;
  }

  /** Our answer to the peer's `offer`; throws (or rejects with) what refuses it (an OfferRejection's status, 488). */
  private answerTo(offer: string): string | Promise<string> {
    if (this.offerHandler) return this.offerHandler(offer);
    if (offer === this.remoteSdp) return this.localSdp ?? '';
    throw new SipError('ERR_SIP_REJECTED', 'no offerHandler for a changed offer', 488);
  }

  /**
   * Calls `then` with the SDP `describe` makes, at once or once its promise settles (the request
   * waits, offerInAnswer); refuses the request with why it threw or rejected.
   */
  private describeThen(
    request: SipRequest,
    tx: ServerTransaction,
    describe: () => string | Promise<string>,
    then: (sdp: string) => void
  ): void {
    let described: string | Promise<string>;
    try {
      described = describe();
    } catch (error) {
      this.refuseOffer(request, tx, error);
      return;
    }
    if (typeof described === 'string') {
      then(described);
      return;
    }
    const waiting = { request, tx, timeout: undefined as TimerHandle | undefined };
    this.offerInAnswer = waiting;
    // The session's end answered it meanwhile (terminate), or the bound did, or its answer is what
    // it waited for.
    const settled = (): boolean => {
      if (this.offerInAnswer !== waiting) return false;
      this.stopWaitingForAnswer();
      return true;
    };
    waiting.timeout = this.host.clock.setTimeout(() => {
      waiting.timeout = undefined;
      if (settled()) this.refuseUnansweredOffer(request, tx);
    }, OFFER_ANSWER_TIMEOUT_MS);
    described.then(
      (sdp) => {
        if (settled()) then(sdp);
      },
      (error: unknown) => {
        if (settled()) this.refuseOffer(request, tx, error);
      }
    );
  }

  /** Forgets the offer being answered, and its bound. */
  private stopWaitingForAnswer(): void {
    const timeout = this.offerInAnswer?.timeout;
    if (timeout !== undefined) this.host.clock.clearTimeout(timeout);
    this.offerInAnswer = undefined;
  }

  /**
   * An offer whose answer did not come in time: 500 with a Retry-After of 0 to 10 s, as RFC 3261
   * §14.2 answers an offer that meets one still being answered (a passing condition, not the
   * offer's fault: 488 would say the peer should not offer it again).
   */
  private refuseUnansweredOffer(request: SipRequest, tx: ServerTransaction): void {
    const response = createResponse(request, 500);
    response.add('Retry-After', String(Math.floor(Math.random() * 11)));
    response.add(
      'Warning',
      warningValue({ code: 399, text: `no answer to the offer within ${OFFER_ANSWER_TIMEOUT_MS / 1000} s` })
    );
    this.host.respond(tx, response);
  }

  /** Refuses an offer with the status its OfferRejection names (500 for any other error), and why. */
  private refuseOffer(request: SipRequest, tx: ServerTransaction, error: unknown): void {
    const status = (error as OfferRejection).status;
    const code = typeof status === 'number' && status >= 300 && status <= 699 ? status : 500;
    const response = createResponse(request, code);
    for (const [name, value] of Object.entries(warningHeaders(error))) response.add(name, value);
    this.host.respond(tx, response);
  }

  /** A refresh from the peer (re-INVITE or UPDATE) settled `interval`: the timer runs again from now. */
  private restartSessionTimer(interval: SessionInterval | undefined): void {
    if (interval)
      this.startSessionTimer({ seconds: interval.seconds, weRefresh: interval.refresher === 'uas' });
  }

  /** Sends a 2xx with SDP through `tx` and retransmits it until the ACK (§13.3.1.4). */
  protected sendAnswer2xx(
    request: SipRequest,
    tx: InviteServerTransaction,
    sdp: string,
    awaitingAnswer: boolean,
    headers: Record<string, string> = {}
  ): void {
    const response = createResponse(request, 200, undefined, this.localTag);
    for (const rr of request.getAll('Record-Route')) response.add('Record-Route', rr);
    response.add('Contact', this.host.contact(this.protocol));
    // §13.3.1.4: a 2xx to an INVITE should say which methods the dialog may carry.
    response.add('Allow', ALLOWED_METHODS.join(', '));
    for (const [name, value] of Object.entries(headers)) response.add(name, value);
    if (sdp.length > 0) {
      response.add('Content-Type', SDP);
      response.body = Buffer.from(sdp, 'utf8');
    }
    this.host.respond(tx, response);
    const seq = request.cseq.seq;
    const retransmitter = new Uas2xxRetransmitter(
      response,
      this.host.clock,
      this.host.timers,
      (r) => tx.retransmit(r),
      () => this.onAckTimeout(seq)
    );
    this.pending2xx.set(seq, { retransmitter, awaitingAnswer });
    retransmitter.start();
  }

  /** §13.3.1.4: no ACK within 64*T1 — the session ends with BYE. */
  protected onAckTimeout(seq: number): void {
    if (this.byeAwaitingAck?.seq === seq) {
      this.host.ackTimedOut(this.callId);
      this.sendHeldBye();
      return;
    }
    this.pending2xx.delete(seq);
    this.host.logger.debug({ callId: this.callId, cseq: seq }, 'no ACK for 2xx, ending the dialog');
    this.host.ackTimedOut(this.callId);
    this.endWithBye('timeout').catch(() => {});
  }

  /**
   * Ends an established dialog from our side: the session ends at once, the dialog stays until
   * the BYE's transaction does, so a BYE of the peer's crossing ours gets 200 rather than 481:
   * both sides hung up, and neither should see an error. Settles with the BYE's final response
   * or its failure.
   */
  private endWithBye(reason: TerminationReason): Promise<unknown> {
    const dialog = this.dialog;
    if (!dialog || this.ended) return Promise.resolve();
    const seq = this.initialRemoteSeq;
    const initial = seq === undefined ? undefined : this.pending2xx.get(seq);
    if (seq !== undefined && initial) {
      // §15: "the callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an
      // ACK for its 2xx response or until the server transaction times out".
      this.pending2xx.delete(seq);
      this.byeAwaitingAck = { seq, retransmitter: initial.retransmitter };
      this.terminate(reason, true);
      return Promise.resolve();
    }
    const request = dialog.createRequest('BYE');
    this.terminate(reason, true);
    return this.sendBye(dialog, request);
  }

  /** Sends `bye`, keeping its dialog until the BYE's transaction ends (a crossing BYE gets 200). */
  private sendBye(dialog: Dialog, bye: SipRequest): Promise<unknown> {
    this.byeInFlight = true;
    return this.sendInDialog(dialog, bye).finally(() => {
      this.byeInFlight = false;
      this.host.removeDialog(dialog);
    });
  }

  private handleAck(ack: SipRequest): void {
    const seq = ack.cseq.seq;
    if (this.byeAwaitingAck?.seq === seq) {
      this.sendHeldBye();
      return;
    }
    const pending = this.pending2xx.get(seq);
    if (!pending) return; // a retransmitted ACK
    pending.retransmitter.stop();
    this.pending2xx.delete(seq);
    if (this.dialog) this.dialog.confirmed = true;
    const body = sessionDescriptionOf(ack);
    if (pending.awaitingAnswer && !this.takeAnswer(body, seq)) return;
    if (seq === this.initialRemoteSeq) this.onInitialAck(ack);
  }

  /**
   * The answer in the ACK of a 2xx that carried our offer (§13.3.1.4, §14.2). One the answer
   * handler refuses (or none, where it needs one) ends the session with BYE; false then.
   */
  private takeAnswer(body: string | undefined, seq: number): boolean {
    try {
      this.answerHandler?.(body);
    } catch (error) {
      this.host.logger.warn(
        { callId: this.callId, cseq: seq, err: String(error) },
        'the ACK did not answer our offer acceptably, ending the dialog'
      );
      this.endWithBye('error').catch(() => {});
      return false;
    }
    if (body === undefined) return true;
    this.remoteSdp = body;
    if (seq !== this.initialRemoteSeq)
      this.safeEmit('reinvite', { remoteSdp: body, localSdp: this.localSdp ?? '' });
    return true;
  }

  /** Ends the session once: timers stopped, dialog forgotten (unless our BYE keeps it), 'terminated' emitted. */
  protected terminate(reason: TerminationReason, keepDialog = false): void {
    if (this.ended) return;
    this.ended = true;
    this.endedFor = reason;
    this.sessionTimer?.stop();
    this.natKeepalive?.stop();
    for (const pending of this.pending2xx.values()) pending.retransmitter.stop();
    this.pending2xx.clear();
    // A re-INVITE answered only provisionally had nothing left to end it: its transaction, and this
    // session with it, stayed in the user agent's table for good.
    this.reinvitePending?.sessionEnded();
    // §15.1.2: a request still pending in the dialog is answered, 487 recommended.
    const waiting = this.offerInAnswer;
    this.stopWaitingForAnswer();
    if (waiting) this.host.respond(waiting.tx, createResponse(waiting.request, 487));
    if (this.dialog && !keepDialog) this.host.removeDialog(this.dialog);
    this.onTerminate(reason);
    this.safeEmit('terminated', { reason });
  }

  /** Once the call is confirmed: a UDP peer behind NAT is pinged so its mapping stays open (nat-keepalive.ts). */
  protected keepNatMappingOpen(): void {
    const intervalMs = this.host.natKeepaliveMs;
    const dialog = this.dialog;
    if (!this.pingsPeer || intervalMs === undefined || !dialog || this.ended) return;
    this.natKeepalive ??= new NatKeepalive(
      this.host.clock,
      intervalMs,
      () => this.host.sendRequest(dialog.createRequest('OPTIONS'), this.sendOptions),
      () => this.terminate('error')
    );
    this.natKeepalive.start();
  }

  /** Subclass clean-up (pending promises) before 'terminated' is emitted. */
  protected onTerminate(_reason: TerminationReason): void {}

  /** Ends the session because the user agent closes: no signalling (a held BYE is dropped). */
  shutdown(): void {
    this.dropHeldBye();
    this.terminate('local');
  }

  /** Ends the session because its connection is gone (RFC 7118 §5): no signalling, reason 'error'. */
  transportLost(): void {
    this.dropHeldBye();
    this.terminate('error');
  }

  /** The ACK of our 2xx came, or its retransmissions ended: the BYE §15 held goes now. */
  private sendHeldBye(): void {
    const dialog = this.dialog;
    if (dialog && this.stopWaitingForAck()) this.sendBye(dialog, dialog.createRequest('BYE')).catch(() => {});
  }

  /** Forgets a held BYE, its 2xx's retransmissions and the dialog kept for it. */
  private dropHeldBye(): void {
    if (this.stopWaitingForAck() && this.dialog) this.host.removeDialog(this.dialog);
  }

  /** Stops the held BYE's 2xx retransmissions; whether a BYE was held. */
  private stopWaitingForAck(): boolean {
    if (!this.byeAwaitingAck) return false;
    this.byeAwaitingAck.retransmitter.stop();
    this.byeAwaitingAck = undefined;
    return true;
  }
}
