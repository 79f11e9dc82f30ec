/**
 * An incoming INVITE and the call it may become (RFC 3261 §13.3, UAS side): provisional
 * responses, accept with a 2xx retransmitted until ACK, reject, and CANCEL (§9.2).
 */
import { randomBytes } from 'node:crypto';
import { Dialog } from '../dialog/dialog.js';
import { SipError, SipInvalidStateError } from '../errors.js';
import type { SipRequest } from '../message/message.js';
import { createResponse } from '../message/responses.js';
import { sessionDescriptionOf } from '../message/session-body.js';
import type { InviteServerTransaction } from '../transaction/invite-server.js';
import type { MessageSource, TransportProtocol } from '../transport/transport.js';
import { InviteSessionBase, type TerminationReason } from './invite-session.js';
import type { SessionHost } from './session-host.js';

type UasState = 'pending' | 'accepted' | 'confirmed' | 'rejected' | 'cancelled' | 'ended';

/** Where the caller of an incoming INVITE is, as the intake found it. */
export interface CallerAddressing {
  /** Its own address (IncomingInvite.callerAddress). */
  address: string;
  /** Where its INVITE came from, transport, address and port. */
  source: MessageSource;
  /** Where its dialog's requests go when it is behind NAT (nat-peer.ts). */
  natPeer?: MessageSource;
  /** It is pinged in the call (nat-keepalive.ts). */
  pinged: boolean;
  /** The username its digest answer proved (InviteAdmission), when calls must authenticate. */
  authenticatedUser?: string;
}

export class IncomingInvite extends InviteSessionBase {
  readonly localTag: string;
  private state: UasState = 'pending';
  private acceptWaiter?: { resolve: () => void; reject: (e: Error) => void };

  /**
   * The caller's own address: where its INVITE came from, or the address a trusted proxy in front
   * names for it (X-Uasmedia-Source); its media comes from there too.
   */
  readonly callerAddress: string;

  /** The caller is behind NAT: taken for it here (nat-peer.ts) or by a trusted proxy in front (X-Uasmedia-Nat). */
  readonly callerBehindNat: boolean;

  /** Where its INVITE came from. */
  readonly #source: MessageSource;

  /** The username the caller's digest answer proved; undefined when calls need no authentication. */
  readonly authenticatedUser: string | undefined;

  constructor(
    host: SessionHost,
    readonly request: SipRequest,
    private readonly tx: InviteServerTransaction,
    protocol: TransportProtocol,
    flow: MessageSource | undefined,
    caller: CallerAddressing
  ) {
    super(host, protocol, flow, caller.natPeer, caller.pinged);
    this.callerAddress = caller.address;
    this.authenticatedUser = caller.authenticatedUser;
    this.#source = caller.source;
    this.callerBehindNat = caller.natPeer !== undefined || caller.pinged;
    this.callerHost = caller.address;
    this.localTag = randomBytes(6).toString('hex');
    this.initialRemoteSeq = request.cseq.seq;
    this.remoteSdp = sessionDescriptionOf(request);
  }

  get callId(): string {
    return this.request.callId;
  }

  /**
   * Takes the dialog's requests only from where its INVITE came (transport, address and port),
   * and sends its own there: for a peer known to send from one place, a cluster node's trunk leg,
   * so that a BYE forged from anywhere else cannot end it (481). Before any answer is sent.
   */
  pinToSource(): void {
    this.bindFlow(this.#source);
  }

  protected get ownsCallId(): boolean {
    return false;
  }

  get remoteUri(): string {
    return this.request.from.uri;
  }

  get remoteDisplayName(): string | undefined {
    return this.request.from.displayName;
  }

  get requestUri(): string {
    return this.request.uri;
  }

  /** Whether a final response has been sent (or the call was cancelled). */
  get answered(): boolean {
    return this.state !== 'pending';
  }

  /**
   * Resolves true once the ACK of our 2xx has come (at once if it has), false if the call ends
   * without one or was never accepted. §15: a BYE waits for it.
   */
  whenAcked(): Promise<boolean> {
    if (this.state === 'confirmed') return Promise.resolve(true);
    if (this.state !== 'accepted') return Promise.resolve(false);
    return new Promise((resolve) => {
      const acked = (): void => {
        this.off('terminated', ended);
        resolve(true);
      };
      const ended = (): void => {
        this.off('ack', acked);
        resolve(false);
      };
      this.once('ack', acked);
      this.once('terminated', ended);
    });
  }

  /** Sends 180 (default) or 183; a body is sent as application/sdp (early media). */
  progress(status: 180 | 183 = 180, body?: string): void {
    if (this.state !== 'pending') return;
    const response = createResponse(this.request, status, undefined, this.localTag);
    // §12.1.1: with our To tag it creates the early dialog, so it carries the Record-Route too.
    for (const rr of this.request.getAll('Record-Route')) response.add('Record-Route', rr);
    response.add('Contact', this.host.contact(this.protocol));
    if (body !== undefined && body.length > 0) {
      response.add('Content-Type', 'application/sdp');
      response.body = Buffer.from(body, 'utf8');
    }
    this.host.respond(this.tx, response);
  }

  /**
   * Answers 200 OK with `answerSdp` (our offer when the INVITE had none). Resolves when the
   * ACK arrives; rejects if it never does (64*T1), after which the call is ended with BYE.
   * `headers` are added to the 200 as they are.
   */
  accept(answerSdp: string, headers: Record<string, string> = {}): Promise<void> {
    if (this.state !== 'pending')
      return Promise.reject(new SipInvalidStateError(`cannot accept a call that is ${this.state}`));
    const timer = this.negotiateSessionTimer(this.request);
    if ('rejectMinSe' in timer) {
      this.state = 'rejected';
      this.respond422(this.request, this.tx, timer.rejectMinSe);
      this.terminate('rejected');
      return Promise.reject(
        new SipError(
          'ERR_SIP_REJECTED',
          `Session-Expires below our Min-SE ${timer.rejectMinSe} s: answered 422 (RFC 4028 §6)`,
          422
        )
      );
    }
    this.state = 'accepted';
    this.dialog = Dialog.asUas(this.request, this.localTag);
    this.host.addDialog(this.dialog, this);
    const done = new Promise<void>((resolve, reject) => (this.acceptWaiter = { resolve, reject }));
    // An application that does not await accept() must not crash the process on a late reject.
    done.catch(() => {});
    this.localSdp = answerSdp;
    this.sendAnswer2xx(this.request, this.tx, answerSdp, this.remoteSdp === undefined, {
      ...timer.headers,
      ...headers
    });
    if (timer.interval)
      this.startSessionTimer({
        seconds: timer.interval.seconds,
        weRefresh: timer.interval.refresher === 'uas'
      });
    this.safeEmit('accepted');
    return done;
  }

  /**
   * Ends an answered call whose ACK has not come, with no BYE: its caller has not shown that it
   * receives our packets (a forged source never will). The intake does it to make room for a
   * new call while the door is full (invite-intake.ts).
   */
  dropUnacknowledged(): void {
    if (this.state !== 'accepted') return;
    this.acceptWaiter?.reject(
      new SipError('ERR_SIP_TIMEOUT', 'no ACK for our 200 OK: ended early to make room for a new call', 408)
    );
    this.acceptWaiter = undefined;
    this.terminate('timeout');
  }

  /** Sends a final non-2xx response (486, 603 ...), with `headers` if given, and ends the call attempt. */
  reject(status: number, reason?: string, headers: Record<string, string> = {}): void {
    if (this.state !== 'pending') return;
    if (status < 300 || status > 699) throw new RangeError(`reject status ${status} must be 300-699`);
    this.state = 'rejected';
    const response = createResponse(this.request, status, reason, this.localTag);
    for (const [name, value] of Object.entries(headers)) response.add(name, value);
    this.host.respond(this.tx, response);
    this.terminate('rejected');
  }

  /** §9.2: CANCEL for a pending INVITE: 487 to the INVITE (200 to the CANCEL is the UA's). */
  handleCancel(): void {
    if (this.state !== 'pending') return;
    this.state = 'cancelled';
    this.host.respond(this.tx, createResponse(this.request, 487, undefined, this.localTag));
    this.safeEmit('cancel');
    this.terminate('cancel');
  }

  protected override abandon(): void {
    this.reject(480);
  }

  protected override onInitialAck(): void {
    this.state = 'confirmed';
    this.keepNatMappingOpen();
    this.acceptWaiter?.resolve();
    this.acceptWaiter = undefined;
    this.safeEmit('ack');
  }

  protected override onAckTimeout(seq: number): void {
    if (seq === this.initialRemoteSeq) {
      this.acceptWaiter?.reject(
        new SipError('ERR_SIP_TIMEOUT', 'no ACK for our 200 OK (timer H, RFC 3261 §13.3.1.4)', 408)
      );
      this.acceptWaiter = undefined;
    }
    super.onAckTimeout(seq);
  }

  protected override onTerminate(reason: TerminationReason): void {
    if (this.state === 'pending') {
      // The UA is closing with the INVITE unanswered: tell the caller.
      this.host.respond(this.tx, createResponse(this.request, 503, undefined, this.localTag));
    }
    this.state = 'ended';
    if (this.acceptWaiter) {
      this.acceptWaiter.reject(
        new SipError(
          reason === 'local' ? 'ERR_CLOSED' : 'ERR_SIP_REJECTED',
          `call ended (${reason}) before ACK`
        )
      );
      this.acceptWaiter = undefined;
    }
  }
}
