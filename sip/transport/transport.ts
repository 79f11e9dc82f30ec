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
}

export interface MessageSource extends TransportAddress {
  protocol: TransportProtocol;
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
}

export interface SipTransport {
  readonly protocol: TransportProtocol;
  /** Reliable transports have no retransmissions and zero wait timers (§17). */
  readonly reliable: boolean;
  listen(): Promise<void>;
  /** The bound address (the real port when asked for port 0). */
  address(): TransportAddress;
  /** Sends one serialized message; rejects when it cannot be delivered to the socket. */
  send(data: Buffer, destination: TransportAddress): Promise<void>;
  /** Closes sockets and connections. Idempotent. */
  close(): Promise<void>;
}
