/**
 * What a call session needs from the user agent that owns it: sending requests in client
 * transactions, answering through server transactions, the dialog table, clock and timers.
 * Sessions depend on this interface only, never on sockets.
 */
import type { ClientCredentials } from '../auth/challenge-answers.js';
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { ClientAttempt, ClientUser } from '../transaction/target-failover.js';
import type { ServerTransaction } from '../transaction/layer.js';
import type { Clock, TimerValues } from '../transaction/timers.js';
import type { MessageSource, TransportProtocol } from '../transport/transport.js';
import type { SessionTimerConfig } from './session-timer.js';

export interface SipLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: SipLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface SendOptions {
  /**
   * Transport to use; otherwise the URI's transport parameter or UDP (TCP for large requests).
   * Within a dialog the next hop's own transport parameter comes first (request-sender.ts).
   */
  protocol?: TransportProtocol;
  /** Keep the request's own top Via (CANCEL must match its INVITE's branch, §9.1). */
  keepVia?: boolean;
  /**
   * The connection the dialog was set up on (RFC 7118 §5, RFC 5626 §5.3): the request goes over
   * it, whatever host its remote target names, and fails if it has closed.
   */
  flow?: MessageSource;
  /**
   * Where a peer behind NAT is reached (nat-peer.ts: its INVITE's source): a request with no
   * Route goes there, over that connection for a stream, whatever host its remote target names.
   */
  natPeer?: MessageSource;
}

/** Anything that can receive the requests and stray responses of one dialog. */
export interface DialogUser {
  /** The connection the dialog is bound to, if any: its requests come over that one only. */
  readonly flow?: MessageSource | undefined;
  /**
   * `source`: where it came from; `namedCaller`: the caller's address a trusted proxy names in it.
   * A dialog behind NAT follows its caller with them.
   */
  handleRequest(
    request: SipRequest,
    tx: ServerTransaction | undefined,
    source?: MessageSource,
    namedCaller?: string
  ): void;
  handleStrayResponse(response: SipResponse): void;
  /** The user agent closes: what the dialog still waits for is dropped, with no signalling. */
  shutdown(): void;
}

export interface SessionHost {
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly logger: SipLogger;
  /** RFC 4028 session timers for every call, or undefined for none. */
  readonly sessionTimer?: SessionTimerConfig;
  /** How often a UDP peer behind NAT is sent an OPTIONS in its dialog (nat-keepalive.ts); undefined: never. */
  readonly natKeepaliveMs?: number;
  /** Local host written into Contact/From when nothing better is known. */
  readonly localHost: string;
  /** Sends a non-INVITE request; resolves with its final response (a synthetic 408 on timer F). */
  sendRequest(request: SipRequest, options?: SendOptions): Promise<SipResponse>;
  /**
   * Credentials for a request that goes to a registrar we are registered with (one of the
   * user agent's registrations, registration.ts `credentialsToward`); undefined for any other hop.
   */
  registrarCredentials(request: SipRequest, options: SendOptions): ClientCredentials | undefined;
  /** Starts the INVITE's client transaction; one to a looked-up name fails over to its next target (RFC 3263 §4.3). */
  sendInvite(request: SipRequest, user: ClientUser, options?: SendOptions): ClientAttempt;
  /**
   * The connection a new request outside any dialog would go over, when its transport reaches
   * its peers only over connections they opened (WebSocket, RFC 7118 §5); undefined otherwise.
   */
  flowFor(request: SipRequest, protocol: TransportProtocol): MessageSource | undefined;
  /**
   * The ACK for a 2xx: its own transaction-less request with a new branch (§13.2.2.4, §17.1.1.3).
   * `unsent` hears why it could not go (no route to its target, or the send failed).
   */
  sendAck(ack: SipRequest, options?: SendOptions, unsent?: (error: Error) => void): void;
  /** Sends a response through a server transaction, adding Server and (if needed) Contact. */
  respond(tx: ServerTransaction, response: SipResponse): void;
  /** Our Contact header value for a transport. */
  contact(protocol: TransportProtocol): string;
  addDialog(dialog: Dialog, user: DialogUser): void;
  removeDialog(dialog: Dialog): void;
  /**
   * A 2xx of ours got no ACK in 64*T1 (§13.3.1.4) and its session is ending with BYE. Told to
   * the user agent rather than logged here: a flood of INVITEs from forged addresses ends
   * thousands of calls this way, and must not write a line for each.
   */
  ackTimedOut(callId: string): void;
}
