/**
 * SIP over TLS (RFC 3261 §26.2, §18): the TCP transport's connection table and Content-Length
 * framing over `node:tls` sockets. TLS 1.2 is the oldest version spoken. The server presents
 * the configured certificate; outbound connections verify the peer's certificate against `ca`
 * (or the system's roots) unless told otherwise.
 */
import { constants } from 'node:crypto';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { TcpTransport, type ServerHandshake, type StreamTransportOptions } from './tcp.js';
import type { TransportAddress, TransportHandler } from './transport.js';

export interface TlsTransportOptions {
  /** PEM certificate (chain) the server presents. */
  cert: string | Buffer;
  /** PEM private key of `cert`. */
  key: string | Buffer;
  /** PEM CA certificates to trust for outbound connections (and client certificates, if asked). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Verify the certificate of a peer we connect to (default true). */
  verifyPeer?: boolean;
}

export const MIN_VERSION = 'TLSv1.2';
/**
 * No TLS 1.2 renegotiation, either way: each one is a full handshake (about a millisecond of the
 * media's event loop) that the connection limits never see. A `tls.Server` would cap a client at
 * three in ten minutes; the sockets here are made without one (`serverHandshake`), and one client
 * renegotiating in a loop ran 900 handshakes a second.
 */
export const SECURE_OPTIONS = constants.SSL_OP_NO_RENEGOTIATION;

export class TlsTransport extends TcpTransport {
  override readonly protocol = 'tls' as const;
  readonly #context: tls.SecureContext;

  constructor(
    bind: TransportAddress,
    handler: TransportHandler,
    private readonly tlsOptions: TlsTransportOptions,
    streamOptions?: StreamTransportOptions
  ) {
    super(bind, handler, streamOptions);
    // A bad certificate or key fails here, at configuration time, not on the first call.
    this.#context = tls.createSecureContext({
      cert: tlsOptions.cert,
      key: tlsOptions.key,
      ca: tlsOptions.ca,
      minVersion: MIN_VERSION,
      secureOptions: SECURE_OPTIONS
    });
  }

  /**
   * The server side of the handshake on a connection the guard admitted. A `tls.Server` would
   * build each connection's TLS state before the guard is asked, and report every connection the
   * guard refused as a failed handshake: one log line per connection of a flood.
   */
  protected override serverHandshake(raw: net.Socket): ServerHandshake {
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: this.#context });
    let secured = false;
    socket.once('secure', () => (secured = true));
    // A failed handshake (an old TLS version, a plain-TCP client) only costs that connection; once
    // the handshake is done the connection's own handlers take its errors.
    socket.on('error', (err) => {
      if (secured) return;
      this.guard.logThrottled('tls handshake failed', {
        remote: `${raw.remoteAddress}:${raw.remotePort}`,
        err: err.message
      });
      socket.destroy();
    });
    return { socket, readyEvent: 'secure' };
  }

  protected override dial(destination: TransportAddress): { socket: net.Socket; readyEvent: string } {
    const socket = tls.connect({
      host: destination.host,
      port: destination.port,
      servername: destination.serverName,
      ca: this.tlsOptions.ca,
      cert: this.tlsOptions.cert,
      key: this.tlsOptions.key,
      minVersion: MIN_VERSION,
      secureOptions: SECURE_OPTIONS,
      rejectUnauthorized: this.tlsOptions.verifyPeer ?? true
    });
    return { socket, readyEvent: 'secureConnect' };
  }
}
