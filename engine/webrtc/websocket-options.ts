/**
 * The engine's WebSocket listener for browsers: where it binds, the path SIP upgrades use,
 * optional TLS (WSS), and whether the join page is served on the same port.
 */
import type { TransportSpec, WsTransportOptions } from '../../sip/index.js';

export interface WebSocketOptions {
  /** Address to bind (default: the SIP host). */
  host?: string;
  /** TCP port (default 8088; 0 = any free port). Not shared with SIP over TCP. */
  port?: number;
  /** Path of the SIP WebSocket (default '/sip'); other paths are HTTP. */
  path?: string;
  /** PEM certificate and key: HTTPS and WSS (browsers need a secure origin off loopback). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest SIP message a browser may send (default `sip.limits.maxMessageBytes`); a larger one closes its connection (1009). */
  maxMessageBytes?: number;
  /** Serve the join page (and its participant list) on this port (default false). */
  joinPage?: boolean;
  /**
   * Web origins (`https://app.example.com`) whose pages may open the SIP WebSocket besides the
   * engine's own join page; a browser's handshake from any other gets 403.
   */
  allowedOrigins?: string[];
}

export function webSocketTransportSpec(
  options: WebSocketOptions,
  sipHost: string,
  httpHandler?: WsTransportOptions['httpHandler']
): TransportSpec {
  return {
    protocol: 'ws',
    host: options.host ?? sipHost,
    port: options.port ?? 8088,
    ws: {
      path: options.path ?? '/sip',
      tls: options.tls,
      maxMessageBytes: options.maxMessageBytes,
      allowedOrigins: options.allowedOrigins,
      httpHandler
    }
  };
}
