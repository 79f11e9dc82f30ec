/**
 * The SIP user agent (RFC 3261 §8, §12-§17): owns the transports and the transaction table,
 * checks each incoming request the way §8.2 says a UAS must (answering 400/405/415/416/
 * 420/481/501/505 ...), passes new INVITEs to its intake (session/invite-intake.ts), which hands
 * them to the application as `IncomingInvite`s, routes in-dialog requests to their session, and
 * places outgoing calls.
 */
import { dialogId, type Dialog } from './dialog/dialog.js';
import { SipError, SipInvalidStateError } from './errors.js';
import { SipRequest, SipResponse } from './message/message.js';
import { parseMessage } from './message/parser.js';
import { DatagramRate } from './transport/datagram-rate.js';
import { createResponse, createTrying, statelessToTag } from './message/responses.js';
import { bareHost, isSipUri, parseUri } from './message/uri.js';
import { IncomingInvite } from './session/incoming-invite.js';
import { InviteIntake, type InviteFilter, type Reply } from './session/invite-intake.js';
import { OutgoingInvite, type OutgoingInviteOptions } from './session/outgoing-invite.js';
import { earlyUpdateResponse } from './session/early-update.js';
import {
  silentLogger,
  type DialogUser,
  type SendOptions,
  type SessionHost,
  type SipLogger
} from './session/session-host.js';
import type { InviteSessionBase } from './session/invite-session.js';
import { FlowBindings, arrivedOnFlow } from './session/flow-bindings.js';
import { InviteServerTransaction } from './transaction/invite-server.js';
import { flowOfRequest, serverTransactionKey } from './transaction/keys.js';
import { TransactionLayer, type ServerTransaction } from './transaction/layer.js';
import { NonInviteServerTransaction } from './transaction/non-invite-server.js';
import { DEFAULT_TIMERS, systemClock, type Clock, type TimerValues } from './transaction/timers.js';
import { DEFAULT_SESSION_TIMER, type SessionTimerConfig } from './session/session-timer.js';
import { withDefaults } from './with-defaults.js';
import type { TransactionContext } from './transaction/transaction.js';
import { responseDestination, stampReceived, type Destination } from './transport/routing.js';
import type { MessageSource, TransportProtocol } from './transport/transport.js';
import { TransportSet, type TransportSpec } from './transport/transport-set.js';
import { learnWebSocketRoutes } from './transport/ws-routes.js';
import { SafeEmitter } from './safe-emitter.js';
import { RequestSender } from './request-sender.js';
import type { ClientUser } from './transaction/target-failover.js';
import { ConnectionGuard, type ConnectionLimits } from './transport/connection-guard.js';
import { resolveMessageLimits, type SipMessageLimits } from './message/limits.js';
import type { SipParseError } from './errors.js';
import {
  capabilityHeaders,
  checkDialogContact,
  checkExtensionsAndBody,
  checkSessionInterval,
  checkUriAndMethod
} from './uas-checks.js';
import type { InviteAdmission } from './admission/invite-admission.js';
import type { RefusalCause, Unavailable } from './admission/refusal.js';
import type { SourceFilter } from './admission/source-filter.js';
import { DnsTargets, type LookedUpProtocol } from './transport/dns-targets.js';
import { Registration, type RegistrationOptions } from './registration/registration.js';
import { UnansweredInvites } from './session/unanswered-invites.js';

export interface SipUserAgentOptions {
  /** Sockets to bind; port 0 = ephemeral. TLS needs `tls: { cert, key }`. */
  transports: TransportSpec[];
  /** Server / User-Agent header value. */
  userAgentName?: string;
  /** RFC 3261 timers; defaults 500 / 4000 / 5000 ms. */
  timers?: { t1Ms?: number; t2Ms?: number; t4Ms?: number };
  logger?: SipLogger;
  /** Clock for all transaction timers (tests inject a fake one). */
  clock?: Clock;
  /** Host written into Via/Contact when bound to a wildcard address. */
  advertisedHost?: string;
  /** Incoming message size limits (message/limits.ts for the defaults and the answers). */
  limits?: Partial<SipMessageLimits>;
  /** Stream connection limits (transport/connection-guard.ts for the defaults). */
  connections?: Partial<ConnectionLimits>;
  /** RFC 4028 session timers (default on: 1800 s asked for, 90 s minimum); false turns them off. */
  sessionTimer?: Partial<SessionTimerConfig> | false;
  /** How often a UDP caller behind NAT is sent an OPTIONS in its call (session/nat-keepalive.ts); default 25, false: never. */
  natKeepaliveSeconds?: number | false;
  /** DNS servers for request targets named by host name (`host` or `host:port`); default: the system's. */
  dnsServers?: string[];
  /**
   * Called after each received message, whatever became of it. The engine runs a frame tick that
   * has come due there, so a burst of signalling read in one event-loop turn cannot hold the
   * media back until its last message is handled. What it throws is logged, never raised.
   */
  afterMessage?: () => void;
}

export type SipUserAgentEvents = {
  /** A new incoming INVITE (not a re-INVITE). Without a listener the UA answers 480. */
  invite: [IncomingInvite];
  /** A request refused at the door (source, limits, overload, authentication). */
  refused: [RefusalCause, MessageSource];
  /**
   * An answered call whose ACK had not come was ended, with no BYE, to make room for a new call
   * while the door was full (invite-intake.ts).
   */
  unacknowledgedDropped: [IncomingInvite];
  /** A 2xx we sent got no ACK in 64*T1 (timer H's span, RFC 3261 §13.3.1.4): its session ends with BYE. */
  ackTimedOut: [callId: string];
};

export interface SipUserAgentStats {
  received: number;
  malformed: number;
  rejected: number;
  /** Messages that could not be sent (a connection gone, a host unreachable). */
  sendFailures: number;
}

/** Home routers keep an idle UDP mapping 30 s or more; the OPTIONS goes out well before. */
const DEFAULT_NAT_KEEPALIVE_SECONDS = 25;
/** How long close() waits for registrars to confirm the unbinding before closing anyway. */
const UNREGISTER_WAIT_MS = 3000;
/** §17.2.1: a server transaction sends 100 Trying unless its TU answers within 200 ms. */
const TRYING_WITHIN_MS = 200;

export class SipUserAgent extends SafeEmitter<SipUserAgentEvents> {
  /** Optional veto of new INVITEs by Request-URI before 'invite' (e.g. unknown room names). */
  inviteFilter?: InviteFilter;
  /** Sources that may send to us; the others get 403, or nothing when `refuseSilently`. */
  sourceFilter?: SourceFilter;
  refuseSilently = false;
  /** Limits and authentication of new INVITEs, before 'invite' (see admission/invite-admission.ts). */
  inviteAdmission?: InviteAdmission;
  /**
   * The answer any new call would get now, whoever sent it (full, overloaded, stopping), or
   * undefined when calls are taken. An out-of-dialog OPTIONS gets it instead of 200 (§11.2).
   */
  availability?: () => Unavailable | undefined;
  readonly stats: SipUserAgentStats = { received: 0, malformed: 0, rejected: 0, sendFailures: 0 };
  /** Host names of request targets, looked up (RFC 3263 SRV, then A/AAAA). */
  private readonly dnsTargets: DnsTargets;
  private readonly transports: TransportSet;
  private readonly limits: SipMessageLimits;
  /** Limits and counters of stream connections (refused, closed idle or slow). */
  readonly connectionGuard: ConnectionGuard;
  /** Per-source datagram rate over UDP (`connections.maxMessagesPerSecondPerSource`): what it dropped. */
  readonly datagramRate: DatagramRate;
  private readonly layer = new TransactionLayer();
  /** Calls we placed that hold their connection (holdForCall). */
  private readonly heldCalls = new WeakSet<OutgoingInvite>();
  private readonly dialogs = new Map<string, DialogUser>();
  /** New INVITEs until the application has them (admission, filter, CANCEL, early BYE). */
  private readonly intake: InviteIntake;
  /** Call-ID|From tag|CSeq of requests without To tag → their transaction (§8.2.2.2). */
  private readonly mergeKeys = new Map<string, string>();
  private readonly sessions = new Set<InviteSessionBase>();
  /** Calls we place, by Call-ID and our From tag, until they end. */
  private readonly placing = new Map<string, OutgoingInvite>();
  private readonly unanswered: UnansweredInvites;
  /** WebSocket connection → the sessions whose INVITE arrived or went on it. */
  private readonly flows: FlowBindings;
  private readonly registrations = new Set<Registration>();
  private readonly timers: TimerValues;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private readonly userAgentName: string;
  private readonly host: SessionHost;
  private readonly sender: RequestSender;
  private state: 'new' | 'started' | 'closed' = 'new';

  constructor(private readonly options: SipUserAgentOptions) {
    super();
    this.timers = withDefaults(DEFAULT_TIMERS, options.timers);
    this.clock = options.clock ?? systemClock;
    this.unanswered = new UnansweredInvites(this.clock, () => 64 * this.timers.t1Ms);
    this.logger = options.logger ?? silentLogger;
    this.userAgentName = options.userAgentName ?? 'uasmedia';
    this.limits = resolveMessageLimits(options.limits);
    this.dnsTargets = new DnsTargets(options.dnsServers);
    this.connectionGuard = new ConnectionGuard(options.connections, (reason, details) =>
      this.logger.warn(details, reason)
    );
    const { maxMessagesPerSecondPerSource, messageBurstPerSource } = this.connectionGuard.limits;
    this.datagramRate = new DatagramRate(this.connectionGuard.sourceMessages.buckets, (source) =>
      this.logger.warn(
        { source, maxMessagesPerSecondPerSource, messageBurstPerSource },
        'a source sends more SIP datagrams than its rate: the excess is dropped unread'
      )
    );
    this.transports = new TransportSet(
      options.transports,
      {
        message: (data: Buffer, source: MessageSource, cutShort?: SipParseError) =>
          this.receive(data, source, cutShort),
        warning: (reason: string, details: object) => this.logger.warn(details, reason),
        connectionClosed: (source: MessageSource) => {
          this.flows.connectionClosed(source);
          this.intake.connectionClosed(source);
        }
      },
      { limits: this.limits, guard: this.connectionGuard }
    );
    this.sender = new RequestSender({
      transports: this.transports,
      dnsTargets: this.dnsTargets,
      layer: this.layer,
      clock: this.clock,
      timers: this.timers,
      logger: this.logger,
      userAgentName: this.userAgentName,
      advertisedHost: options.advertisedHost,
      phase: () => this.state,
      sendFailed: () => this.stats.sendFailures++
    });
    this.host = this.createHost();
    this.flows = new FlowBindings(this.logger);
    this.intake = this.createIntake();
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new SipInvalidStateError(`user agent already ${this.state}`);
    this.state = 'started';
    try {
      await this.transports.listen();
    } catch (error) {
      await this.close();
      // Node's own error (its errno `code`, EADDRINUSE) stays reachable as the cause.
      const cause = error instanceof SipError && error.cause !== undefined ? error.cause : error;
      throw new SipError(
        'ERR_SIP_TRANSPORT',
        `cannot bind SIP transports: ${(error as Error).message}`,
        undefined,
        undefined,
        { cause }
      );
    }
  }

  addresses(): Array<{ protocol: TransportProtocol; host: string; port: number }> {
    return this.transports.addresses();
  }

  /** Ends every session and transaction timer and closes the sockets. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.registrations.size > 0 && this.state === 'started') {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((resolve) => (timer = setTimeout(resolve, UNREGISTER_WAIT_MS)));
      await Promise.race([Promise.allSettled([...this.registrations].map((r) => r.stop())), waited]);
      clearTimeout(timer);
    }
    // close() may have been called again while we waited.
    if ((this.state as string) === 'closed') return;
    // An INVITE nobody has answered yet (its call was still being set up) gets a final answer
    // before the transports close, as a ringing one does: without one its caller retransmitted
    // for 32 s (Timer B). 503: another server may take it (RFC 3261 §21.5.4).
    for (const session of this.sessions)
      if (session instanceof IncomingInvite) session.reject(503, 'Service Unavailable');
    this.state = 'closed';
    this.registrations.clear();
    for (const session of [...this.sessions]) session.shutdown();
    this.sessions.clear();
    this.placing.clear();
    // A session that ended before its 2xx was ACKed keeps its dialog for the BYE it holds.
    for (const user of [...this.dialogs.values()]) user.shutdown();
    this.flows.clear();
    this.layer.close();
    this.dialogs.clear();
    this.unanswered.clear();
    this.intake.clear();
    this.mergeKeys.clear();
    this.dnsTargets.close();
    await this.transports.close();
    this.removeAllListeners();
  }

  /** Places a call. Events and `established` report how it goes. */
  invite(target: string, options: OutgoingInviteOptions): OutgoingInvite {
    if (this.state !== 'started') throw new SipInvalidStateError('user agent is not started');
    const uri = parseUri(target);
    if (!isSipUri(uri)) throw new TypeError(`target "${target}" must be a sip: or sips: URI`);
    // RFC 3261 §26.2.2: a sips: URI is reached over TLS.
    const uriTransport = uri.scheme === 'sips' ? 'tls' : (uri.params.get('transport') ?? undefined);
    const protocol = this.sender.chooseProtocol(options.transport, uriTransport, options.body);
    const session = new OutgoingInvite(this.host, target, options, protocol);
    this.track(session);
    // Its early dialogs (a callee's 18x with a tag) are found by Call-ID and our tag: an UPDATE in
    // one is answered before the 2xx makes the dialog (early-update.ts).
    const placingKey = `${session.callId}|${session.localTag}`;
    this.placing.set(placingKey, session);
    session.on('terminated', () => this.placing.delete(placingKey));
    session.on('terminated', () => {
      if (!session.wasAnswered && this.state === 'started') this.unanswered.remember(session);
    });
    session.start();
    this.flows.bind(session);
    return session;
  }

  /**
   * RFC 3263 §4.1: the transport to call `target` by when its URI names none, from its host
   * name's NAPTR records (or, with none, its SRV records), among the transports configured.
   * Undefined leaves it to `invite`: a URI naming its transport or port, an address, a name that
   * says nothing usable, or UDP (which `invite` takes over to TCP for a large request, §18.1.1).
   */
  async transportFor(target: string): Promise<LookedUpProtocol | undefined> {
    const uri = parseUri(target);
    if (!isSipUri(uri) || uri.params.has('transport') || uri.port !== undefined) return undefined;
    const host = bareHost(uri.host);
    if (!DnsTargets.looksUp(host)) return undefined;
    const found = await this.dnsTargets.protocolFor(host, uri.scheme === 'sips', (protocol) =>
      this.transports.has(protocol)
    );
    return found === 'udp' ? undefined : found;
  }

  /** Registers `options.aor` at a registrar and keeps it registered until `close()` (which unregisters). */
  register(options: RegistrationOptions): Registration {
    if (this.state !== 'started') throw new SipInvalidStateError('user agent is not started');
    const uri = parseUri(options.registrar);
    if (!isSipUri(uri)) throw new TypeError(`registrar "${options.registrar}" must be a sip: or sips: URI`);
    const protocol = this.sender.chooseProtocol(undefined, uri.params.get('transport') ?? undefined, '');
    const registration = new Registration(this.host, protocol, options, this.transportFor(options.registrar));
    this.registrations.add(registration);
    registration.start();
    return registration;
  }

  /** The host our Via and Contact name: `advertisedHost`, else the bound host, for a wildcard the first non-loopback IPv4. */
  get contactHost(): string {
    return this.sender.contactHost;
  }

  /** Transactions and dialogs alive (for leak checks). */
  get activity(): { transactions: number; dialogs: number; sessions: number } {
    return { transactions: this.layer.size, dialogs: this.dialogs.size, sessions: this.sessions.size };
  }

  protected override unreportedListenerError(event: string, error: unknown): void {
    this.logger.error({ event, err: String(error) }, 'user agent listener threw');
  }

  private createHost(): SessionHost {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const ua = this;
    return {
      clock: this.clock,
      timers: this.timers,
      logger: this.logger,
      sessionTimer:
        this.options.sessionTimer === false
          ? undefined
          : withDefaults(DEFAULT_SESSION_TIMER, this.options.sessionTimer),
      get localHost() {
        return ua.sender.contactHost;
      },
      natKeepaliveMs:
        this.options.natKeepaliveSeconds === false
          ? undefined
          : (this.options.natKeepaliveSeconds ?? DEFAULT_NAT_KEEPALIVE_SECONDS) * 1000,
      sendRequest: (request, options) => {
        let destination: Destination;
        try {
          destination = this.sender.prepareRequest(request, options);
        } catch (error) {
          // Never throw into a timer callback: report through the promise.
          return Promise.reject(error);
        }
        return new Promise<SipResponse>((resolve) => {
          this.sender.startClient(request, options, destination, {
            response: (r) => {
              if (r.status >= 200) resolve(r);
            },
            timeout: () => resolve(createResponse(request, 408)),
            transportError: () => resolve(createResponse(request, 503, 'Transport Failure'))
          });
        });
      },
      registrarCredentials: (request, options) => {
        let hop: Destination;
        try {
          hop = this.sender.nextHop(request, options);
        } catch {
          return undefined; // the request's own send reports why it cannot go
        }
        for (const registration of this.registrations) {
          const credentials = registration.credentialsToward(hop);
          if (credentials) return credentials;
        }
        return undefined;
      },
      sendInvite: (request: SipRequest, user: ClientUser, options?: SendOptions) =>
        this.sender.startClient(request, options, this.sender.prepareRequest(request, options), user),
      flowFor: (request, protocol) => {
        try {
          const destination = this.sender.requestTarget(request, protocol);
          return this.transports.get(destination.protocol)?.flowTo?.(destination);
        } catch {
          return undefined; // the request's own send reports why it cannot go
        }
      },
      sendAck: (ack, options, unsent) => {
        try {
          this.sender.transmit(ack, this.sender.prepareRequest(ack, options), unsent);
        } catch (error) {
          this.logger.warn({ callId: ack.callId, err: String(error) }, 'cannot send ACK');
          unsent?.(error instanceof Error ? error : new SipError('ERR_SIP_TRANSPORT', String(error)));
        }
      },
      respond: (tx, response) => this.respond(tx, response),
      contact: (protocol) => this.sender.contact(protocol),
      addDialog: (dialog, user) => this.dialogs.set(dialog.id, user),
      removeDialog: (dialog: Dialog) => {
        this.dialogs.delete(dialog.id);
      },
      ackTimedOut: (callId) => this.safeEmit('ackTimedOut', callId)
    };
  }

  private createIntake(): InviteIntake {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const ua = this;
    return new InviteIntake({
      host: this.host,
      logger: this.logger,
      get started() {
        return ua.state === 'started';
      },
      get admission() {
        return ua.inviteAdmission;
      },
      get filter() {
        return ua.inviteFilter;
      },
      get hasTaker() {
        return ua.listenerCount('invite') > 0;
      },
      findServerByKey: (key) => this.layer.findServerByKey(key),
      respond: (tx, response) => this.respond(tx, response),
      refused: (cause, source) => this.safeEmit('refused', cause, source),
      dropped: (session) => this.safeEmit('unacknowledgedDropped', session),
      track: (session, source) => {
        this.track(session);
        this.flows.bind(session);
        let held = this.holdConnection(session, source);
        // A phone behind NAT that connects again: the call holds its new connection instead.
        session.on('natPeerMoved', (peer) => {
          held?.();
          held = this.holdConnection(session, peer);
        });
      },
      offer: (session) => {
        const errorsBefore = this.listenerErrorCount;
        this.safeEmit('invite', session);
        return this.listenerErrorCount > errorsBefore;
      }
    });
  }

  private respond(tx: ServerTransaction, response: SipResponse): void {
    if (!response.has('Server')) response.add('Server', this.userAgentName);
    tx.respond(response);
  }

  /**
   * A call we placed notes where its 2xx came from (OutgoingInvite.answeredFrom), and over TCP or
   * TLS keeps that connection while it lasts (GuardedConnection.hold): from an edge host behind
   * NAT, it is the only way the callee's BYE can reach us.
   */
  private holdForCall(response: SipResponse, source: MessageSource): void {
    if (response.cseq.method !== 'INVITE' || response.status < 200 || response.status >= 300) return;
    const user = this.dialogs.get(dialogId(response.callId, response.fromTag ?? '', response.toTag ?? ''));
    if (!(user instanceof OutgoingInvite) || user.terminated || this.heldCalls.has(user)) return;
    user.answeredBy(source);
    if (this.holdConnection(user, source)) this.heldCalls.add(user);
  }

  /**
   * Keeps the stream connection at `source` open while `session` lasts, or until the returned
   * release; undefined over datagrams or when it is gone.
   */
  private holdConnection(session: InviteSessionBase, source: MessageSource): (() => void) | undefined {
    const release = this.transports.get(source.protocol)?.holdConnection?.(source);
    if (!release) return undefined;
    session.once('terminated', release);
    return release;
  }

  private track(session: InviteSessionBase): void {
    this.sessions.add(session);
    session.on('terminated', () => this.sessions.delete(session));
  }

  // ---------------------------------------------------------------- receiving

  private receive(data: Buffer, source: MessageSource, cutShort?: SipParseError): void {
    this.handleReceived(data, source, cutShort);
    const after = this.options.afterMessage;
    if (after === undefined) return;
    try {
      after();
    } catch (error) {
      this.logger.warn({ err: String(error) }, 'afterMessage hook failed');
    }
  }

  private handleReceived(data: Buffer, source: MessageSource, cutShort?: SipParseError): void {
    if (this.state !== 'started') return;
    if (source.protocol === 'udp' && !this.datagramRate.admit(source.host)) return;
    this.stats.received++;
    const refused = this.sourceFilter !== undefined && !this.sourceFilter.allows(source.host);
    if (refused && this.refuseSilently) {
      this.stats.rejected++;
      this.safeEmit('refused', 'source_denied', source);
      return;
    }
    try {
      this.dispatch(data, source, refused, cutShort);
    } catch (error) {
      // Nothing a peer sends may take the stack down.
      this.stats.malformed++;
      this.logger.warn({ source, err: String(error) }, 'SIP message handling failed');
    }
  }

  private dispatch(data: Buffer, source: MessageSource, refused: boolean, cutShort?: SipParseError): void {
    const parsed = parseMessage(data, { datagram: source.protocol === 'udp', limits: this.limits, cutShort });
    if (parsed.kind === 'invalid') {
      this.stats.malformed++;
      this.logger.debug({ source, err: parsed.error.message }, 'dropped malformed SIP message');
      return;
    }
    if (refused && parsed.kind === 'response') {
      this.safeEmit('refused', 'source_denied', source);
      return;
    }
    if (parsed.kind === 'response') {
      this.receiveResponse(parsed.message, source);
      return;
    }
    const request = parsed.message;
    if (source.protocol === 'ws') learnWebSocketRoutes(request, source, this.transports.get('ws'));
    try {
      stampReceived(request, source);
    } catch {
      this.stats.malformed++;
      return; // no usable Via: no way to answer (§18.2.1)
    }
    const stateless: Reply = (status, reason, extra) => {
      this.stats.rejected++;
      if (request.method === 'ACK') return;
      this.sendStateless(finalAnswer(request, status, reason, extra), request, source);
    };
    if (refused) {
      this.safeEmit('refused', 'source_denied', source);
      stateless(403, 'Forbidden');
      return;
    }
    if (parsed.error) {
      this.stats.malformed++;
      stateless(parsed.error.status, parsed.error.message);
      return;
    }
    this.receiveRequest(request, source, stateless);
  }

  private receiveResponse(response: SipResponse, source: MessageSource): void {
    response.receivedFrom = source;
    const tx = this.layer.findClient(response);
    if (tx) {
      tx.receive(response);
      this.holdForCall(response, source);
      return;
    }
    // A 2xx retransmission after the INVITE transaction ended: its dialog re-ACKs (§13.2.2.4).
    if (response.cseq.method === 'INVITE' && response.status >= 200 && response.status < 300) {
      const user = this.dialogs.get(dialogId(response.callId, response.fromTag ?? '', response.toTag ?? ''));
      if (user) user.handleStrayResponse(response);
      else this.unanswered.find(response)?.endLate2xx(response);
    }
  }

  private sendStateless(response: SipResponse, request: SipRequest, source: MessageSource): void {
    if (!response.has('Server')) response.add('Server', this.userAgentName);
    this.sender.transmit(response, responseDestination(request.topVia, source));
  }

  /** A request in three steps: its transaction if it has one, else a new transaction, then where it goes. */
  private receiveRequest(request: SipRequest, source: MessageSource, stateless: Reply): void {
    if (this.handledByExisting(request, source)) return;
    const early = checkUriAndMethod(request);
    if (early) {
      stateless(early.status, early.reason, early.headers);
      return;
    }
    const tx = this.createServerTransaction(request, source, stateless);
    if (tx) this.route(request, source, tx, stateless);
  }

  /**
   * §17.2.3: retransmissions and the ACK of a non-2xx belong to an existing transaction; an ACK
   * of a 2xx goes to its dialog, and is never answered (§17.2.1). True when nothing is left to do.
   */
  private handledByExisting(request: SipRequest, source: MessageSource): boolean {
    const existing = this.layer.findServer(request, flowOfRequest(source));
    if (existing) {
      existing.receive(request);
      if (
        request.method !== 'ACK' ||
        !(existing instanceof InviteServerTransaction) ||
        existing.state !== 'accepted'
      )
        return true;
    }
    if (request.method !== 'ACK') return false;
    // One from outside its dialog's flow is dropped.
    const user = this.dialogs.get(dialogId(request.callId, request.toTag ?? '', request.fromTag ?? ''));
    if (user && arrivedOnFlow(user.flow, source)) user.handleRequest(request, undefined);
    return true;
  }

  /**
   * The server transaction of a new request (an INVITE's answers 100 Trying at once, §17.2.1), or
   * undefined when §8.2.2.2's merge check answered 482: the same INVITE reaching us again by
   * another path (forked upstream) would create a second call. Only INVITEs are checked.
   */
  private createServerTransaction(
    request: SipRequest,
    source: MessageSource,
    stateless: (status: number) => void
  ): ServerTransaction | undefined {
    const destination = responseDestination(request.topVia, source);
    const context: TransactionContext = {
      clock: this.clock,
      timers: this.timers,
      reliable: source.protocol !== 'udp',
      send: (m) => this.sender.transmit(m, destination)
    };
    const key = serverTransactionKey(request, flowOfRequest(source));
    // The CSeq's number, not its text: a path that writes `01  INVITE` sends the same request (the
    // parser has its method equal the request's).
    const mergeKey =
      request.toTag === undefined && request.method === 'INVITE'
        ? `${request.callId}|${request.fromTag ?? ''}|${request.cseq.seq}`
        : undefined;
    if (mergeKey !== undefined) {
      const other = this.mergeKeys.get(mergeKey);
      if (other !== undefined && other !== key && this.layer.findServerByKey(other)) {
        stateless(482);
        return undefined;
      }
    }
    let tx: ServerTransaction;
    if (request.method === 'INVITE') {
      tx = new InviteServerTransaction(key, request, context, {
        timeout: () =>
          this.logger.debug({ callId: request.callId }, 'no ACK for a non-2xx final response (timer H)')
      });
      this.layer.addServer(tx);
      const invite = tx as InviteServerTransaction;
      const trying = (): void => this.respond(invite, createTrying(request));
      // A new call may be refused at once: no 100 Trying unless the door or the application
      // takes its time, so that a refusal can go statelessly (see route()).
      if (request.toTag === undefined) invite.tryingUnlessAnsweredWithin(TRYING_WITHIN_MS, trying);
      else trying();
    } else {
      tx = new NonInviteServerTransaction(key, request, context);
      this.layer.addServer(tx);
    }
    if (mergeKey !== undefined) {
      this.mergeKeys.set(mergeKey, key);
      const previous = tx.onTerminated;
      tx.onTerminated = () => {
        previous?.();
        if (this.mergeKeys.get(mergeKey) === key) this.mergeKeys.delete(mergeKey);
      };
    }
    return tx;
  }

  /**
   * Where a request with its transaction goes: CANCEL, a dialog, a new INVITE, OPTIONS, or 481.
   * A final answer that ends the matter before anything was sent for the request (`forget`: a
   * new INVITE refused by the door, the INVITE filter or for want of a taker; 200 to OPTIONS; 481
   * to a stray BYE or CANCEL; a refused extension or body) goes statelessly and the transaction
   * is dropped, as RFC 3261 §8.2.7 has a UAS issue challenges. Answered through transactions, a
   * forged-source INVITE drew about 11 responses over 32 s (timer G) and each stray request held
   * about 4 kB for 32 s (timer J). A client whose answer is lost retransmits its request and is
   * answered afresh: a new INVITE gets no 100 Trying before it (unless 200 ms pass).
   */
  private route(request: SipRequest, source: MessageSource, tx: ServerTransaction, stateless: Reply): void {
    const reply: Reply = (status, reason, extra) => {
      this.stats.rejected++;
      this.respond(tx, finalAnswer(request, status, reason, extra));
    };
    const forget: Reply = (status, reason, extra) => {
      if (tx instanceof InviteServerTransaction && tx.answered) {
        reply(status, reason, extra);
        return;
      }
      tx.terminate();
      stateless(status, reason, extra);
    };
    if (request.method === 'CANCEL') {
      this.intake.cancel(request, source, forget, tx);
      return;
    }
    const rejection = checkExtensionsAndBody(request);
    if (rejection) {
      forget(rejection.status, rejection.reason, rejection.headers);
      return;
    }
    const toTag = request.toTag;
    if (toTag !== undefined) {
      this.receiveInDialog(request, source, toTag, tx, forget);
      return;
    }
    switch (request.method) {
      case 'INVITE': {
        const noTarget = checkDialogContact(request) ?? checkSessionInterval(request, this.host.sessionTimer);
        if (noTarget) forget(noTarget.status, noTarget.reason, noTarget.headers);
        else this.intake.receive(request, source, tx as InviteServerTransaction, reply, forget);
        return;
      }
      case 'OPTIONS': {
        tx.terminate();
        const unavailable = this.availability?.();
        this.sendStateless(
          unavailable
            ? finalAnswer(request, unavailable.status, unavailable.reason, unavailable.headers)
            : finalAnswer(request, 200, undefined, capabilityHeaders(this.host.sessionTimer !== undefined)),
          request,
          source
        );
        return;
      }
      default:
        forget(481);
    }
  }

  /**
   * §12.2.2: a request with a To tag goes to its dialog, or gets 481. A dialog bound to a
   * WebSocket connection (flow-bindings.ts) does not exist for a request from anywhere else: 481
   * too, the answer to a dialog that never was, so another client that learnt a call's Call-ID
   * and tags can neither end nor change it, nor learn from the answer that the call is up.
   */
  private receiveInDialog(
    request: SipRequest,
    source: MessageSource,
    toTag: string,
    tx: ServerTransaction,
    reply: (status: number) => void
  ): void {
    const user = this.dialogs.get(dialogId(request.callId, toTag, request.fromTag ?? ''));
    if (user) {
      if (arrivedOnFlow(user.flow, source))
        user.handleRequest(request, tx, source, this.inviteAdmission?.callerOf(request, source.host));
      else reply(481);
      return;
    }
    // RFC 3311 §5.2: an UPDATE in an early dialog, ours (our 180 carried the tag) or the
    // callee's (its 18x did): answered without touching the call (early-update.ts). So is an
    // INVITE there (RFC 3261 §14.2), which got 481 and had its sender end the early dialog. An
    // INFO there (RFC 6086 §4.2: a digit pressed while it rings) is taken as in the call.
    if (request.method === 'UPDATE' || request.method === 'INVITE' || request.method === 'INFO') {
      const ringing = this.intake.early(request, toTag);
      const early =
        ringing && arrivedOnFlow(ringing.flow, source)
          ? ringing
          : this.placing.get(`${request.callId}|${toTag}`);
      if (!early) reply(481);
      else if (request.method === 'INFO') early.takeEarlyInfo(request, tx);
      else this.respond(tx, earlyUpdateResponse(request, early === ringing ? 'uas' : 'uac'));
      return;
    }
    // §15: a caller may BYE an early dialog (our 180 carried the tag): 200 to the BYE,
    // 487 to its INVITE, as a CANCEL would have.
    const ringing = request.method === 'BYE' ? this.intake.early(request, toTag) : undefined;
    if (ringing && arrivedOnFlow(ringing.flow, source)) {
      this.respond(tx, createResponse(request, 200, undefined, toTag));
      ringing.handleCancel();
      return;
    }
    reply(481);
  }
}

/**
 * A refusal or other final answer of ours to `request`, with a To tag of its own and `extra`
 * header fields. Most go statelessly; the tag is the one a retransmission of the request gets too.
 */
function finalAnswer(
  request: SipRequest,
  status: number,
  reason: string | undefined,
  extra: Parameters<Reply>[2]
): SipResponse {
  const response = createResponse(request, status, reason, statelessToTag(request));
  for (const [k, v] of Array.isArray(extra) ? extra : Object.entries(extra ?? {})) response.add(k, v);
  return response;
}

export { SipError } from './errors.js';
export type { SipRequest, SipResponse } from './message/message.js';
export type { IncomingInvite } from './session/incoming-invite.js';
export type { OutgoingInvite, OutgoingInviteOptions } from './session/outgoing-invite.js';
export type {
  InfoEvent,
  InviteSessionBase as InviteSession,
  InviteSessionEvents,
  OfferHandler,
  ProgressEvent,
  TerminationReason
} from './session/invite-session.js';
export type { SipLogger } from './session/session-host.js';
export type { InviteFilter } from './session/invite-intake.js';
export type { TransportProtocol } from './transport/transport.js';
export { sessionDescriptionOf } from './message/session-body.js';
