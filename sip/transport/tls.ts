/**
 * SIP over TLS (RFC 3261 §26.2, §18): the TCP transport's connection table and Content-Length
 * framing over `node:tls` sockets. TLS 1.2 is the oldest version spoken. The server presents
 * the configured certificate; outbound connections verify the peer's certificate against `ca`
 * (or the system's roots) unless told otherwise.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { TcpTransport, type StreamTransportOptions } from './tcp.js';
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

const MIN_VERSION = 'TLSv1.2';

export class TlsTransport extends TcpTransport {
  override readonly protocol = 'tls' as const;

  constructor(
    bind: TransportAddress,
    handler: TransportHandler,
    private readonly tlsOptions: TlsTransportOptions,
    streamOptions?: StreamTransportOptions
  ) {
    super(bind, handler, streamOptions);
    // A bad certificate or key fails here, at configuration time, not on the first call.
    tls.createSecureContext({
      cert: tlsOptions.cert,
      key: tlsOptions.key,
      ca: tlsOptions.ca,
      minVersion: MIN_VERSION
    });
  }

  protected override readonly handshakeDoneEvent = 'secureConnection';

  protected override createServer(): net.Server {
    // The guard admits each TCP connection before its handshake, and the message deadline bounds
    // the handshake (Node's default is 120 s); Node's own timeout is set to the same.
    const server = tls.createServer({
      cert: this.tlsOptions.cert,
      key: this.tlsOptions.key,
      ca: this.tlsOptions.ca,
      minVersion: MIN_VERSION,
      handshakeTimeout: this.guard.limits.messageDeadlineMs
    });
    // A failed handshake (an old TLS version, a plain-TCP client, a timeout) only costs that
    // connection. With this listener Node leaves the socket open: close it here.
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
        this.handshakeTimedOut(socket);
        socket.destroy();
        return;
      }
      this.handler.warning?.('tls handshake failed', {
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        err: err.message
      });
      socket.destroy();
    });
    return server;
  }

  protected override dial(destination: TransportAddress): { socket: net.Socket; readyEvent: string } {
    const socket = tls.connect({
      host: destination.host,
      port: destination.port,
      ca: this.tlsOptions.ca,
      cert: this.tlsOptions.cert,
      key: this.tlsOptions.key,
      minVersion: MIN_VERSION,
      rejectUnauthorized: this.tlsOptions.verifyPeer ?? true
    });
    return { socket, readyEvent: 'secureConnect' };
  }
}
