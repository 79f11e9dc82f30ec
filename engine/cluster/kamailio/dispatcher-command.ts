/**
 * How Kamailio is started in front of a cluster: the dispatcher configuration of this folder, in
 * the foreground, on one address (UDP and TCP, and TLS when given; WebSocket on the TCP and TLS
 * listeners when asked), over the engines listed in a dispatcher.list file.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DISPATCHER_CONFIG = fileURLToPath(new URL('./dispatcher.cfg', import.meta.url));

export interface DispatcherCommand {
  /** Address Kamailio listens on for callers, over UDP and TCP. */
  host: string;
  port: number;
  /** A dispatcher.list file naming the engines (`1 sip:host:port 0 0` per line). */
  listFile: string;
  /** The dispatcher's algorithm: '4' round-robin, '3' by the Request-URI's user (the room). */
  algorithm: string;
  /** A folder for Kamailio's run-time files (its pid file among them). */
  runDir: string;
  /** Seconds between OPTIONS probes of each engine (the configuration's default: 5). */
  pingIntervalSeconds?: number;
  /** Callers over TLS on this port too, with these PEM files (Debian's kamailio-tls-modules). */
  tls?: { port: number; certPath: string; keyPath: string };
  /** Browsers too: SIP over WebSocket on the TCP listener (and the TLS one). Needs kamailio-websocket-modules. */
  websocket?: boolean;
  /**
   * Origins (`https://app.example.com`, `http://127.0.0.1:8080`) of the pages whose browsers may
   * open a WebSocket; a handshake from any other page gets 403. None by default.
   */
  websocketOrigins?: string[];
}

/** An origin: scheme, host (a name or IPv4 address) and an optional port. */
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;

/** A regular expression for Kamailio that matches exactly `origins` (dots as `[.]`: no backslashes to escape). */
export function originPattern(origins: string[]): string {
  for (const origin of origins)
    if (!ORIGIN.test(origin))
      throw new RangeError(
        `WebSocket origin '${origin}' must be scheme://host[:port], as https://app.example.com`
      );
  return origins.length === 0 ? '^$' : `^(${origins.map((o) => o.replace(/\./g, '[.]')).join('|')})$`;
}

export function dispatcherArgs(command: DispatcherCommand): string[] {
  return [
    '-f',
    DISPATCHER_CONFIG,
    '-DD',
    '-E',
    '-l',
    `udp:${command.host}:${command.port}`,
    '-l',
    `tcp:${command.host}:${command.port}`,
    '-A',
    `DISPATCHER_LIST="${command.listFile}"`,
    '-A',
    `DS_ALGORITHM="${command.algorithm}"`,
    ...(command.tls === undefined
      ? []
      : [
          '-l',
          `tls:${command.host}:${command.tls.port}`,
          '-A',
          'WITH_TLS',
          '-A',
          `TLS_CERT="${command.tls.certPath}"`,
          '-A',
          `TLS_KEY="${command.tls.keyPath}"`
        ]),
    ...(command.websocket
      ? ['-A', 'WITH_WEBSOCKET', '-A', `WS_ORIGINS="${originPattern(command.websocketOrigins ?? [])}"`]
      : []),
    ...(command.pingIntervalSeconds === undefined
      ? []
      : ['-A', `DS_PING_INTERVAL=${Math.max(1, Math.round(command.pingIntervalSeconds))}`]),
    '-Y',
    command.runDir,
    '-P',
    join(command.runDir, 'kamailio.pid')
  ];
}
