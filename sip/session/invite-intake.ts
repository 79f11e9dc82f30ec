/**
 * New incoming INVITEs, from their transaction to the application's 'invite' listener: admission
 * (limits, authentication; maybe async), the application's filter, and what may end them before
 * an answer: a CANCEL (§9.2), a BYE on the early dialog (§15), the WebSocket connection they came
 * on closing. The user agent routes requests here; what the intake needs of it is `IntakeHost`.
 */
import { natPeerOf } from './nat-peer.js';
import { randomBytes } from 'node:crypto';
import type { SipRequest, SipResponse } from '../message/message.js';
import { createResponse } from '../message/responses.js';
import type { InviteAdmission } from '../admission/invite-admission.js';
import type { RefusalCause } from '../admission/refusal.js';
import { InviteServerTransaction } from '../transaction/invite-server.js';
import { dialogId } from '../dialog/dialog.js';
import { cancelledInviteKey, flowOfRequest } from '../transaction/keys.js';
import type { ServerTransaction } from '../transaction/layer.js';
import type { MessageSource, TransportProtocol } from '../transport/transport.js';
import { arrivedOnFlow } from './flow-bindings.js';
import { IncomingInvite } from './incoming-invite.js';
import type { SessionHost, SipLogger } from './session-host.js';

/** Answers a request inside its transaction: a status, a reason, extra headers. */
export type Reply = (
  status: number,
  reason?: string,
  extra?: Record<string, string> | Array<[string, string]>
) => void;

/** A veto of a new INVITE (by its Request-URI, its offer over `protocol` ...), answered statelessly. */
export type InviteFilter = (
  request: SipRequest,
  protocol: TransportProtocol
) => { status: number; reason?: string; headers?: Record<string, string> } | undefined;

/** What the intake needs of its user agent. */
export interface IntakeHost {
  readonly host: SessionHost;
  readonly logger: SipLogger;
  readonly started: boolean;
  readonly admission: InviteAdmission | undefined;
  readonly filter: InviteFilter | undefined;
  findServerByKey(key: string): ServerTransaction | undefined;
  respond(tx: ServerTransaction, response: SipResponse): void;
  refused(cause: RefusalCause, source: MessageSource): void;
  /** An answered call that never had its ACK was ended to make room for a new one. */
  dropped(session: IncomingInvite): void;
  /** Whether anyone listens for new calls (else 480). */
  readonly hasTaker: boolean;
  /** Tracks a new session from `source` (its end, the connection it came on). */
  track(session: IncomingInvite, source: MessageSource): void;
  /** Hands the session to the application; true when a listener threw. */
  offer(session: IncomingInvite): boolean;
}

/**
 * How long our 200 OK waits for its ACK before the call may be dropped for a new one: 2*T1
 * (1 s), by which the 200 has gone out twice (§13.3.1.4); a caller's ACK takes a round trip.
 * While full, calls answered faster than one per 2*T1 per place (`maxCalls`, RTP ports, DSP slots)
 * find none old enough, so `callsPerSecond` below `maxCalls` per second keeps the door working.
 */
const DROPPABLE_AFTER_T1 = 2;

interface Admitting {
  cancelled: boolean;
  /** The WebSocket connection the INVITE came on. */
  flow?: MessageSource;
}

export class InviteIntake {
  /** Server transaction key → the INVITE offered to the application and not yet ACKed or ended. */
  private readonly pending = new Map<string, IncomingInvite>();
  /** The same INVITEs by early dialog (dialog.ts `dialogId`): a BYE finds its own without a scan. */
  private readonly earlyDialogs = new Map<string, IncomingInvite>();
  /** INVITE transactions waiting for admission (an async credentials lookup). */
  private readonly admitting = new Map<string, Admitting>();
  /** Answered INVITEs whose ACK has not come, in the order answered, with when (performance.now()). */
  private readonly unacknowledged = new Map<IncomingInvite, number>();

  constructor(private readonly ua: IntakeHost) {}

  /**
   * `refuse` answers the door's refusals, the filter's veto and 480 (statelessly, when nothing
   * was sent yet: user-agent.ts).
   */
  receive(
    request: SipRequest,
    source: MessageSource,
    tx: InviteServerTransaction,
    reply: Reply,
    refuse: Reply
  ): void {
    const admission = this.ua.admission;
    if (!admission) {
      this.take(request, source, tx, reply, refuse, () => undefined, undefined);
      return;
    }
    const waiting: Admitting = { cancelled: false, flow: source.protocol === 'ws' ? source : undefined };
    this.admitting.set(tx.key, waiting);
    admission
      // Full of calls whose ACK never came (INVITEs from forged addresses fill it so for
      // 64*T1): the oldest gives its place up.
      .admit(request, source.host, () => !waiting.cancelled && this.dropUnacknowledged())
      .then((result) => {
        if (!result.admitted) {
          this.ua.refused(result.refusal.cause, source);
          if (!waiting.cancelled)
            refuse(result.refusal.status, result.refusal.reason, result.refusal.headers);
        } else if (waiting.cancelled || !this.ua.started) {
          result.release();
        } else {
          this.take(request, source, tx, reply, refuse, result.release, result.username);
        }
      })
      .catch((error: unknown) => {
        this.ua.logger.error({ callId: request.callId, err: String(error) }, 'admission of an INVITE failed');
        if (!waiting.cancelled) reply(500);
      })
      .finally(() => this.admitting.delete(tx.key));
  }

  /**
   * Ends the call whose 200 OK has waited longest for its ACK, if that is over 2*T1; true when
   * one was ended. Its caller has not shown it can hear us, and the new caller may.
   */
  private dropUnacknowledged(): boolean {
    const oldest = this.unacknowledged.entries().next();
    if (oldest.done) return false;
    const [session, acceptedAtMs] = oldest.value;
    if (performance.now() - acceptedAtMs < DROPPABLE_AFTER_T1 * this.ua.host.timers.t1Ms) return false;
    this.unacknowledged.delete(session);
    session.dropUnacknowledged();
    this.ua.dropped(session);
    return true;
  }

  /**
   * §9.2: CANCEL matches the INVITE server transaction with the same branch; an INVITE that came
   * over a WebSocket connection is cancelled over that one only (481 from elsewhere, as for a
   * dialog's requests).
   */
  cancel(
    cancel: SipRequest,
    source: MessageSource,
    reply: (status: number) => void,
    tx: ServerTransaction
  ): void {
    const key = cancelledInviteKey(cancel, flowOfRequest(source));
    const invite = this.ua.findServerByKey(key);
    const session = this.pending.get(key);
    const admitting = this.admitting.get(key);
    const flow = session?.flow ?? admitting?.flow;
    if (!invite || !(invite instanceof InviteServerTransaction) || !arrivedOnFlow(flow, source)) {
      reply(481);
      return;
    }
    // §8.2.6.2, §9.2: the 200 carries a To tag, the one of the INVITE's responses: those sent
    // already, the session's, or (while admission runs) the one the 487 below will carry.
    const toTag = invite.responseToTag ?? session?.localTag ?? randomBytes(4).toString('hex');
    this.ua.respond(tx, createResponse(cancel, 200, undefined, toTag));
    session?.handleCancel();
    if (admitting && !admitting.cancelled) {
      admitting.cancelled = true;
      this.ua.respond(invite, createResponse(invite.request, 487, undefined, toTag));
    }
  }

  /** The unanswered incoming INVITE whose early dialog `request` names, if any. */
  early(request: SipRequest, toTag: string): IncomingInvite | undefined {
    const session = this.earlyDialogs.get(dialogId(request.callId, toTag, request.fromTag ?? ''));
    return session && !session.answered ? session : undefined;
  }

  /**
   * A WebSocket connection closed while INVITEs it brought wait for admission: there is nobody
   * to answer or to call, so they are dropped when admission ends (their transaction now).
   */
  connectionClosed(source: MessageSource): void {
    for (const [key, waiting] of this.admitting) {
      if (waiting.flow === undefined || !arrivedOnFlow(waiting.flow, source)) continue;
      waiting.cancelled = true;
      this.ua.findServerByKey(key)?.terminate();
    }
  }

  clear(): void {
    this.pending.clear();
    this.earlyDialogs.clear();
    this.admitting.clear();
    this.unacknowledged.clear();
  }

  private take(
    request: SipRequest,
    source: MessageSource,
    tx: InviteServerTransaction,
    reply: Reply,
    refuse: Reply,
    release: () => void,
    authenticatedUser: string | undefined
  ): void {
    let veto: ReturnType<InviteFilter>;
    try {
      veto = this.ua.filter?.(request, source.protocol);
    } catch (error) {
      // The application's filter threw (on a hostile URI, say): its admission slot goes back.
      this.ua.logger.error({ callId: request.callId, err: String(error) }, 'the INVITE filter threw');
      release();
      reply(500);
      return;
    }
    if (veto) {
      release();
      refuse(veto.status, veto.reason, veto.headers);
      return;
    }
    if (!this.ua.hasTaker) {
      release();
      refuse(480);
      return;
    }
    // RFC 7118 §5: a WebSocket client is reached only over the connection it opened; the call's
    // requests go over it, and the call ends with it.
    const flow = source.protocol === 'ws' ? source : undefined;
    let session: IncomingInvite;
    try {
      const natPeer = natPeerOf(request, source);
      session = new IncomingInvite(this.ua.host, request, tx, source.protocol, flow, {
        address: this.ua.admission?.callerOf(request, source.host) ?? source.host,
        source,
        natPeer,
        authenticatedUser,
        // Its NAT mapping is ours to keep open over UDP; a proxy in front that stays in the
        // dialog of a caller behind NAT carries our pings to it.
        pinged:
          natPeer?.protocol === 'udp' || (this.ua.admission?.callerBehindNat(request, source.host) ?? false)
      });
    } catch (error) {
      release();
      throw error;
    }
    session.on('terminated', release);
    this.ua.track(session, source);
    this.pending.set(tx.key, session);
    const early = dialogId(session.callId, session.localTag, request.fromTag ?? '');
    this.earlyDialogs.set(early, session);
    const forget = (): void => {
      this.pending.delete(tx.key);
      this.earlyDialogs.delete(early);
    };
    const settled = (): void => {
      this.unacknowledged.delete(session);
      forget();
    };
    session.on('accepted', () => this.unacknowledged.set(session, performance.now()));
    session.on('terminated', settled);
    session.on('ack', settled);
    tx.onTerminated = ((previous) => () => {
      previous?.();
      forget();
    })(tx.onTerminated);
    // A listener that throws must not leave the caller ringing forever: answer 500.
    if (this.ua.offer(session) && !session.answered) session.reject(500);
  }
}
