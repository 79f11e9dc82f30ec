/**
 * How the user agent's requests and responses leave (RFC 3261 §18.1.1, RFC 3263): which transport
 * a request takes, the Via and Contact that name us, where it goes (a flow, a NAT peer, a
 * name looked up), its client transaction and, for a name with several targets, failover to the
 * next (transaction/target-failover.ts). Failed sends are counted and logged once per destination.
 */
import { randomBytes } from 'node:crypto';
import { SipError } from './errors.js';
import type { AnySipMessage, SipRequest } from './message/message.js';
import { BRANCH_MAGIC_COOKIE } from './message/via.js';
import { uriHost } from './message/uri.js';
import type { SendOptions, SipLogger } from './session/session-host.js';
import { SendFailures } from './send-failures.js';
import { InviteClientTransaction } from './transaction/invite-client.js';
import { clientTransactionKey } from './transaction/keys.js';
import type { ClientTransaction, TransactionLayer } from './transaction/layer.js';
import { NonInviteClientTransaction } from './transaction/non-invite-client.js';
import { TargetFailover, type ClientAttempt, type ClientUser } from './transaction/target-failover.js';
import type { Clock, TimerValues } from './transaction/timers.js';
import type { TransactionContext } from './transaction/transaction.js';
import { DnsTargets } from './transport/dns-targets.js';
import { interfaceAddress } from './transport/interface-address.js';
import { requestDestination, type Destination } from './transport/routing.js';
import type { TransportAddress, TransportProtocol } from './transport/transport.js';
import type { TransportSet } from './transport/transport-set.js';

/** §18.1.1: a request within 200 bytes of the path MTU (1500) must go over a congestion-controlled transport. */
const UDP_SIZE_LIMIT = 1300;

/** What the sender uses of its user agent. */
export interface RequestSenderHost {
  readonly transports: TransportSet;
  readonly dnsTargets: DnsTargets;
  readonly layer: TransactionLayer;
  readonly clock: Clock;
  readonly timers: TimerValues;
  readonly logger: SipLogger;
  readonly userAgentName: string;
  /** Host written into Via/Contact when bound to a wildcard address. */
  readonly advertisedHost: string | undefined;
  phase(): 'new' | 'started' | 'closed';
  /** Counts a message that could not be sent. */
  sendFailed(): void;
}

export class RequestSender {
  private readonly sendFailures = new SendFailures();

  constructor(private readonly host: RequestSenderHost) {}

  chooseProtocol(
    requested: TransportProtocol | undefined,
    uriTransport: string | undefined,
    body: string
  ): TransportProtocol {
    const wanted = (requested ?? uriTransport?.toLowerCase()) as TransportProtocol | undefined;
    if (wanted && this.host.transports.has(wanted)) return wanted;
    if (wanted) throw new RangeError(`no ${wanted} transport configured`);
    // §18.1.1: a large request goes over TCP when we have it.
    if (Buffer.byteLength(body) + 700 > UDP_SIZE_LIMIT && this.host.transports.has('tcp')) return 'tcp';
    return this.host.transports.has('udp') ? 'udp' : 'tcp';
  }

  /** The host our Via and Contact name: `advertisedHost`, else the bound host, for a wildcard the first non-loopback IPv4. */
  get contactHost(): string {
    if (this.host.advertisedHost) return this.host.advertisedHost;
    const host =
      this.host.phase() === 'started'
        ? this.host.transports.first.address().host
        : this.host.transports.firstSpec.host;
    return host === '0.0.0.0' || host === '::' ? interfaceAddress() : host;
  }

  private localPort(protocol: TransportProtocol): number {
    const transport = this.host.transports.get(protocol);
    return transport ? transport.address().port : 5060;
  }

  contact(protocol: TransportProtocol): string {
    // Over TLS a sip: URI with transport=tls, not sips: (RFC 5630 §3.1.3 allows both): baresip 1.0
    // (libre 1.1) ends the call with ENOSYS when the Contact is a SIPS URI. Over WebSocket the
    // transport is ws or wss (RFC 7118 §5.2).
    const suffix = protocol === 'udp' ? '' : `;transport=${this.viaTransport(protocol).toLowerCase()}`;
    return `<sip:uasmedia@${uriHost(this.contactHost)}:${this.localPort(protocol)}${suffix}>`;
  }

  private viaTransport(protocol: TransportProtocol): string {
    return this.host.transports.get(protocol)?.viaTransport ?? protocol.toUpperCase();
  }

  transmit(message: AnySipMessage, destination: Destination, onError?: (error: Error) => void): void {
    const transport = this.host.transports.get(destination.protocol);
    if (!transport || this.host.phase() === 'closed') return;
    const send = this.sendFailures.started();
    const bytes = message.toBuffer();
    const name = destination.name;
    const protocol = destination.protocol;
    const pinned = destination.pinned ? destination.resolved : undefined;
    const sent = pinned
      ? transport.send(bytes, { ...pinned })
      : name && !destination.flow && DnsTargets.serves(protocol)
        ? this.host.dnsTargets.target(name.host, name.port, protocol).then((found) => {
            // A lookup that ended after close() sends nothing.
            if (this.host.phase() === 'closed') return undefined;
            // A transaction's retransmissions and its ACK go where its request went (§4.3).
            destination.resolved = found;
            destination.pinned = found !== undefined;
            return transport.send(bytes, found ? { ...found } : destination);
          })
        : transport.send(bytes, destination);
    sent.then(
      () => this.sendFailures.succeeded(destination, send),
      (error: Error) => {
        this.host.sendFailed();
        if (this.sendFailures.failed(destination, send))
          this.host.logger.warn(
            { destination, err: error.message },
            'SIP send failed (further failures to this destination are counted, not logged)'
          );
        onError?.(error);
      }
    );
  }

  /** Completes an outgoing request (Via, Max-Forwards, User-Agent) and finds where it goes. */
  prepareRequest(request: SipRequest, options: SendOptions = {}): Destination {
    const destination = this.nextHop(request, options);
    if (!options.keepVia) this.writeVia(request, destination.protocol);
    if (!request.has('Max-Forwards')) request.add('Max-Forwards', '70');
    if (!request.has('User-Agent')) request.add('User-Agent', this.host.userAgentName);
    return destination;
  }

  /** Where `request` goes, sent with `options` (a name is looked up only when it is sent). */
  nextHop(request: SipRequest, options: SendOptions = {}): Destination {
    // RFC 7118 §5, RFC 5626 §5.3: a dialog bound to a flow sends over that connection, whatever
    // host its remote target names (a `*.invalid` other connections may name too).
    const natPeer = options.natPeer;
    return options.flow
      ? { ...options.flow, flow: true }
      : natPeer && !request.has('Route')
        ? { protocol: natPeer.protocol, host: natPeer.host, port: natPeer.port }
        : this.requestTarget(request, options.protocol);
  }

  /** Our Via with a new branch: a new transaction for the request. */
  private writeVia(request: SipRequest, protocol: TransportProtocol): void {
    const branch = `${BRANCH_MAGIC_COOKIE}${randomBytes(8).toString('hex')}`;
    request.remove('Via');
    request.prepend(
      'Via',
      `SIP/2.0/${this.viaTransport(protocol)} ${uriHost(this.contactHost)}:${this.localPort(protocol)};branch=${branch};rport`
    );
  }

  /** §18.1.1: where a request outside any flow goes, over `protocol` if that is configured. */
  requestTarget(request: SipRequest, protocol: TransportProtocol | undefined): Destination {
    const destination = requestDestination(request, protocol ?? 'udp');
    // Within a dialog (a To tag) the next hop's URI names the transport when it names one we have
    // (RFC 3263 §4.1): a Contact or Record-Route with transport=tcp reached over UDP. Otherwise, as
    // for a new request, the transport asked for (the dialog's, the call's option) is taken.
    const hopChooses = request.toTag !== undefined && this.host.transports.has(destination.protocol);
    if (protocol && this.host.transports.has(protocol) && !hopChooses) destination.protocol = protocol;
    // A sips: target without TLS configured is an error, never a silent downgrade (RFC 3261 §26.2.2).
    if (destination.protocol === 'tls' && !this.host.transports.has('tls'))
      throw new SipError(
        'ERR_SIP_TRANSPORT',
        'cannot reach a sips: or transport=tls target: no TLS transport configured'
      );
    if (!this.host.transports.has(destination.protocol))
      destination.protocol = this.host.transports.has('udp') ? 'udp' : 'tcp';
    return destination;
  }

  /**
   * Starts `request`'s client transaction to `destination`. One outside any dialog whose target
   * is a name looked up goes on to the name's next target when one fails (§4.3 of RFC 3263,
   * transaction/target-failover.ts).
   */
  startClient(
    request: SipRequest,
    options: SendOptions | undefined,
    destination: Destination,
    user: ClientUser
  ): ClientAttempt {
    const start = (to: Destination, u: ClientUser, again: boolean): ClientAttempt => {
      if (again) this.writeVia(request, to.protocol);
      const key = clientTransactionKey(request);
      const tx: ClientTransaction =
        request.method === 'INVITE'
          ? new InviteClientTransaction(
              key,
              request,
              this.clientContext(to, () => tx),
              u
            )
          : new NonInviteClientTransaction(
              key,
              request,
              this.clientContext(to, () => tx),
              u
            );
      this.host.layer.addClient(tx);
      tx.start();
      return tx;
    };
    const failsOver =
      destination.name !== undefined &&
      !destination.flow &&
      !options?.keepVia &&
      request.method !== 'ACK' &&
      request.toTag === undefined;
    if (!failsOver) return start(destination, user, false);
    return new TargetFailover(
      { start, next: (failed, tried) => this.nextDestination(failed, tried) },
      user,
      destination
    );
  }

  /**
   * §4.3 of RFC 3263: where a request that failed at `failed` goes next, if anywhere. The failed
   * target is tried last for a while, a 503's too: so a CANCEL, which goes where its name's first
   * target is, follows its INVITE to the next.
   */
  private async nextDestination(
    failed: Destination,
    tried: TransportAddress[]
  ): Promise<Destination | undefined> {
    const { name, resolved, protocol } = failed;
    if (!name || !resolved || !DnsTargets.serves(protocol)) return undefined;
    this.host.dnsTargets.failed(resolved);
    tried.push(resolved);
    const next = await this.host.dnsTargets.next(name.host, name.port, protocol, tried);
    if (!next || this.host.phase() === 'closed') return undefined;
    return { ...failed, resolved: next, pinned: true };
  }

  /** §8.1.3.1: a transport failure ends the client transaction (the TU sees a 503). */
  private clientContext(
    destination: Destination,
    failed: () => ClientTransaction | undefined
  ): TransactionContext {
    return {
      clock: this.host.clock,
      timers: this.host.timers,
      reliable: destination.protocol !== 'udp',
      send: (m) => this.transmit(m, destination, (error) => failed()?.transportError(error)),
      unanswered: () => {
        if (destination.resolved) this.host.dnsTargets.failed(destination.resolved);
      }
    };
  }
}
