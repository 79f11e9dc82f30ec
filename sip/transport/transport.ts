/**
 * The interface every SIP transport implements (UDP and TCP now, WebSocket later). A
 * transport moves whole framed messages: datagrams as they are, streams split by
 * Content-Length (RFC 3261 §18.3). Parsing and routing live above it.
 */
import type { SipParseError } from '../errors.js';

export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws';

export interface TransportAddress {
  host: string;
  port: number;
  /**
   * TLS: the name the peer's certificate must carry when `host` is an address looked up for it:
   * the SIP domain of the request's URI, not the SRV target (RFC 5922 §4.1).
   */
  serverName?: string;
}

export interface MessageSource extends TransportAddress {
  protocol: TransportProtocol;
}

/** A message source as a key: one per transport and peer address (a connection, for streams). */
export function sourceKeyOf(source: MessageSource): string {
  return `${source.protocol} ${source.host}:${source.port}`;
}

/** Where one message is sent. */
export interface SendTarget extends TransportAddress {
  /**
   * The address is a flow's, the peer's end of a connection it opened (RFC 5626 §3): the one a
   * request came on, or a dialog was set up on. A transport that cannot open connections to its
   * peers (WebSocket, RFC 7118 §5) sends over that connection or fails; it never looks the host
   * up among the names other connections gave.
   */
  flow?: boolean;
  /**
   * Streams: where to open a connection when none to host:port is open any more (§18.2.2: a
   * response goes back over the request's connection, else to received and the sent-by port).
   */
  reconnectTo?: TransportAddress;
}

export interface TransportHandler {
  /**
   * One complete message as received; `source` is the peer's address (§18.2.1 received/rport).
   * With `cutShort`, `data` is only the head of a message a stream refused at a size limit
   * (limits.ts): answer with that error if the head allows, the connection is then closed.
   */
  message(data: Buffer, source: MessageSource, cutShort?: SipParseError): void;
  /** A problem that did not stop the transport (a broken connection, an oversized frame). */
  warning?(reason: string, details: object): void;
  /** A connection-oriented flow ended (RFC 7118 §5: the calls that used it are gone). */
  connectionClosed?(source: MessageSource): void;
}

export interface SipTransport {
  readonly protocol: TransportProtocol;
  /** Reliable transports have no retransmissions and zero wait timers (§17). */
  readonly reliable: boolean;
  listen(): Promise<void>;
  /** The bound address (the real port when asked for port 0). */
  address(): TransportAddress;
  /** Sends one serialized message; rejects when it cannot be delivered to the socket. */
  send(data: Buffer, destination: SendTarget): Promise<void>;
  /** Via transport token when it is not the protocol's name (WSS over TLS). */
  readonly viaTransport?: string;
  /**
   * Host names that are reached over the connection at `source` (RFC 7118 §5: `*.invalid`), for
   * requests outside any flow. A name stays with the first live connection that gave it.
   */
  learnRoute?(host: string, source: TransportAddress): void;
  /**
   * The connection a request to `destination` outside any flow goes over now, as the source of
   * the messages arriving on it; undefined when there is none or the transport opens its own.
   * A transport whose peers are reached only over connections they opened (WebSocket) binds a
   * dialog it sets up to that connection with this (RFC 7118 §5).
   */
  flowTo?(destination: TransportAddress): MessageSource | undefined;
  /**
   * Keeps the connection at `source` from being closed as idle while a call runs over it, until
   * the returned function is called; undefined when there is none (datagrams, or it is gone).
   */
  holdConnection?(source: TransportAddress): (() => void) | undefined;
  /** Closes sockets and connections. Idempotent. */
  close(): Promise<void>;
}
