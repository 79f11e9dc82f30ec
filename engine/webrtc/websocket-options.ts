/**
 * The engine's WebSocket listener for browsers: where it binds, the path SIP upgrades use,
 * optional TLS (WSS), whether the join page is served on the same port, and the web origins and
 * host names it answers.
 */
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { TransportSpec, WsTransportOptions } from '../../sip/index.js';
import { shown } from '../util/option-keys.js';

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
  /**
   * Host names (`pbx.example.com`, or `*.example.com` for any one label under it; no port) that
   * browsers may reach this port by. IP addresses, `localhost`, a name given as `sip.host` or
   * `host`, and the DNS names of the `tls` certificate are always taken; a request or handshake
   * naming any other host gets 421 Misdirected Request (a page whose own domain was re-pointed
   * at this address, DNS rebinding, would otherwise read our answers as its own).
   */
  allowedHosts?: string[];
}

/** Where SIP upgrades go unless `path` says otherwise. */
export const DEFAULT_SIP_PATH = '/sip';

/** Host names: letters, digits and hyphens in dot-separated labels, optionally `*.` first. */
const HOST_NAME = /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.?$/i;

/** Whether `host` may be an `allowedHosts` entry: a host name, no scheme or port. */
export function isAllowedHostEntry(host: string): boolean {
  return HOST_NAME.test(host);
}

export function checkWebSocketOptions(options: WebSocketOptions | undefined): void {
  const path: unknown = options?.path;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/')))
    throw new RangeError(`EngineOptions.webSocket.path must start with '/' ('/sip'), got ${shown(path)}`);
  const hosts: unknown = options?.allowedHosts;
  if (hosts === undefined) return;
  if (!Array.isArray(hosts)) {
    throw new TypeError(`webSocket.allowedHosts must be an array of host names, got ${typeof hosts}`);
  }
  for (const host of hosts as unknown[]) {
    if (typeof host !== 'string' || !isAllowedHostEntry(host)) {
      throw new RangeError(
        `webSocket.allowedHosts entries must be host names without scheme or port ('pbx.example.com', '*.example.com'), got '${String(host)}'`
      );
    }
  }
}

/**
 * The names this port answers besides IP addresses and localhost: the listed ones, the bind and
 * SIP hosts when they are names, and the names the TLS certificate is for (browsers reach a WSS
 * port by those and no others).
 */
export function ownHostNames(options: WebSocketOptions, sipHost: string): string[] {
  const names = new Set(options.allowedHosts ?? []);
  for (const host of [options.host ?? sipHost, sipHost]) if (isIP(host) === 0) names.add(host);
  for (const name of certificateNames(options.tls?.cert)) names.add(name);
  return [...names];
}

/** The subjectAltName DNS entries of a PEM certificate (the first of a chain). */
function certificateNames(cert: string | Buffer | undefined): string[] {
  if (cert === undefined) return [];
  let altNames: string | undefined;
  try {
    altNames = new X509Certificate(cert).subjectAltName;
  } catch {
    // Not a certificate: the TLS server refuses it when it starts, with its own message.
    return [];
  }
  return (altNames ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
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
    portOption: 'EngineOptions.webSocket.port',
    ws: {
      path: options.path ?? DEFAULT_SIP_PATH,
      tls: options.tls,
      maxMessageBytes: options.maxMessageBytes,
      allowedOrigins: options.allowedOrigins,
      allowedHosts: ownHostNames(options, sipHost),
      httpHandler
    }
  };
}
