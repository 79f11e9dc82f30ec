/**
 * Where messages go (RFC 3261 §18.1.1, §18.2.1, §18.2.2; RFC 3581): requests to the first
 * Route or the Request-URI, responses to the top Via's received/rport, and the
 * received/rport stamping of incoming requests.
 */
import { SipParseError } from '../errors.js';
import type { SipRequest } from '../message/message.js';
import { parseNameAddr } from '../message/name-addr.js';
import { isSipUri, parseUri, bareHost } from '../message/uri.js';
import { formatVia, parseVia, type Via } from '../message/via.js';
import { splitTopLevel } from '../message/scanner.js';
import type { MessageSource, SendTarget, TransportAddress, TransportProtocol } from './transport.js';
import { DnsTargets } from './dns-targets.js';

export interface Destination extends SendTarget {
  protocol: TransportProtocol;
  /**
   * A request's target named by a host name: that name and the URI's port (undefined when it
   * gave none, so SRV records apply), for the user agent to look up (dns-targets.ts).
   */
  name?: { host: string; port: number | undefined };
  /** Where `name` was last sent to (dns-targets.ts): a failed transaction reports it. */
  resolved?: TransportAddress;
  /**
   * `resolved` holds for the rest of the transaction (its retransmissions and ACK go where its
   * request went, RFC 3263 §4.3), or was chosen for a failover: sent there, not looked up again.
   */
  pinned?: boolean;
}

/** §18.2.1: record the source address in the top Via (received, and rport if asked). */
export function stampReceived(request: SipRequest, source: MessageSource): void {
  const index = request.headers.findIndex((h) => h.name === 'Via');
  if (index < 0) throw new SipParseError('no Via: nowhere to send a response');
  const elements = splitTopLevel(request.headers[index].value);
  const via = parseVia(elements[0]);
  const params = new Map(via.params);
  // A received= the sender wrote itself means nothing: ours replaces or removes it.
  if (bareHost(via.host) !== source.host) params.set('received', source.host);
  else params.delete('received');
  if (params.has('rport')) params.set('rport', String(source.port));
  elements[0] = formatVia({ ...via, params });
  request.headers[index] = { ...request.headers[index], value: elements.join(', ') };
}

/**
 * §18.2.2 with RFC 3581: over a stream, back over the connection the request came on (its
 * flow), and when that is gone over a new one to received (else sent-by) and the sent-by port
 * (default 5060, 5061 for TLS); over UDP to received (or sent-by) and rport (or the sent-by port,
 * default 5060). A WebSocket peer cannot be called back (RFC 7118 §5).
 */
export function responseDestination(via: Via, source: MessageSource): Destination {
  const host = bareHost(via.params.get('received') ?? via.host);
  if (source.protocol === 'ws') return { protocol: 'ws', host: source.host, port: source.port, flow: true };
  if (source.protocol !== 'udp') {
    const port = via.port ?? (source.protocol === 'tls' ? 5061 : 5060);
    return {
      protocol: source.protocol,
      host: source.host,
      port: source.port,
      flow: true,
      reconnectTo: { host, port }
    };
  }
  const rport = via.params.get('rport');
  const port = rport ? Number(rport) : (via.port ?? 5060);
  return { protocol: 'udp', host, port };
}

/**
 * §8.1.2: the first Route if any, else the Request-URI (also when a strict router is the
 * Request-URI, §12.2.1.1); a host name is looked up when sent (RFC 3263).
 */
export function requestDestination(request: SipRequest, fallback: TransportProtocol): Destination {
  const route = request.strictRouted ? undefined : request.getList('Route')[0];
  const target = route !== undefined ? parseNameAddr(route).parsedUri : parseUri(request.uri);
  if (!isSipUri(target)) throw new SipParseError(`cannot route to a non-SIP URI "${request.uri}"`);
  const transportParam = target.params.get('transport')?.toLowerCase();
  // RFC 3261 §26.2.2: sips: means TLS, default port 5061 (§19.1.2); RFC 7118 §5: transport=ws/wss
  // (sips: with ws is WSS) goes over the WebSocket the peer opened.
  const protocol: TransportProtocol =
    transportParam === 'ws' || transportParam === 'wss'
      ? 'ws'
      : target.scheme === 'sips' || transportParam === 'tls'
        ? 'tls'
        : transportParam === 'tcp'
          ? 'tcp'
          : transportParam === 'udp'
            ? 'udp'
            : fallback;
  const maddr = target.params.get('maddr');
  const host = bareHost(maddr ?? target.host);
  const destination: Destination = {
    protocol,
    host,
    port: target.port ?? (protocol === 'tls' ? 5061 : 5060)
  };
  if (DnsTargets.looksUp(host)) destination.name = { host, port: target.port };
  return destination;
}
