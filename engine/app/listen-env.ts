/**
 * Where `npm start` listens and how much it logs, from its environment: UASMEDIA_SIP_HOST (default
 * 127.0.0.1), UASMEDIA_SIP_PORT (default 5060), UASMEDIA_WS_PORT (8088), UASMEDIA_METRICS_PORT (none) and the address it binds,
 * UASMEDIA_METRICS_HOST (127.0.0.1) and the sources it takes, UASMEDIA_METRICS_ALLOW (CIDR blocks,
 * comma-separated; everyone), and UASMEDIA_LOG_LEVEL (info). A
 * variable set but empty counts as unset; a bad value stops start-up with a message naming the
 * variable, as every other one does (`abc` was taken as port 0, an unset-looking empty value as
 * a random port).
 */
import { isIP } from 'node:net';
import { SourceFilter } from '../../sip/index.js';
import { InvalidArgumentError } from '../errors.js';
import { LOG_LEVELS } from '../observability/logger.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface ListenSettings {
  host: string;
  port: number;
  wsPort: number;
  metricsPort: number | undefined;
  metricsHost: string;
  metricsAllow: string[] | undefined;
  logLevel: string;
}

export function listenSettingsFromEnv(env: Env = process.env): ListenSettings {
  const level = (set(env.UASMEDIA_LOG_LEVEL) ?? 'info').trim().toLowerCase();
  if (!LOG_LEVELS.includes(level))
    throw new InvalidArgumentError(
      'UASMEDIA_LOG_LEVEL',
      `UASMEDIA_LOG_LEVEL=${env.UASMEDIA_LOG_LEVEL} must be one of ${LOG_LEVELS.join(', ')}`
    );
  return {
    host: hostFrom(env, 'UASMEDIA_SIP_HOST') ?? '127.0.0.1',
    port: portFrom(env, 'UASMEDIA_SIP_PORT') ?? 5060,
    wsPort: portFrom(env, 'UASMEDIA_WS_PORT') ?? 8088,
    metricsPort: portFrom(env, 'UASMEDIA_METRICS_PORT'),
    metricsHost: addressFrom(env, 'UASMEDIA_METRICS_HOST') ?? '127.0.0.1',
    metricsAllow: cidrsFrom(env, 'UASMEDIA_METRICS_ALLOW'),
    logLevel: level
  };
}

function set(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** A port 0-65535 in decimal digits (0: any free one), or undefined when unset or empty. */
function portFrom(env: Env, name: string): number | undefined {
  const text = set(env[name]);
  if (text === undefined) return undefined;
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535))
    throw new InvalidArgumentError(name, `${name}=${text} must be a port number from 0 to 65535`);
  return port;
}

/** An address or host name to bind, or undefined when unset or empty (empty had bound every interface). */
function hostFrom(env: Env, name: string): string | undefined {
  const text = set(env[name]);
  if (text === undefined) return undefined;
  if (!/^[^\s\0]+$/.test(text))
    throw new InvalidArgumentError(
      name,
      `${name}='${text}' must be an address or host name (0.0.0.0 for every interface)`
    );
  return text;
}

/** An IP address (`0.0.0.0` or `::` for every interface), or undefined when unset or empty. */
function addressFrom(env: Env, name: string): string | undefined {
  const text = set(env[name]);
  if (text === undefined) return undefined;
  if (isIP(text) === 0)
    throw new InvalidArgumentError(
      name,
      `${name}=${text} must be an IP address (0.0.0.0 for every interface)`
    );
  return text;
}

/** CIDR blocks or addresses, comma-separated, or undefined when unset or empty. */
export function cidrsFrom(env: Env, name: string): string[] | undefined {
  const text = set(env[name]);
  if (text === undefined) return undefined;
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  try {
    new SourceFilter({ allow: entries }, { allow: name, deny: '' });
  } catch (error) {
    throw new InvalidArgumentError(name, `${name}=${text}: ${(error as Error).message}`);
  }
  return entries;
}

/**
 * What `npm start` suggests when start-up finds a port in use: the variable of the port the
 * error names. It always said UASMEDIA_SIP_PORT, also for the join page's port (8088, a common
 * one), where changing the SIP port failed the same way.
 */
export function portInUseHint(detail: string, ports: Record<string, number | undefined>): string {
  const port = /EADDRINUSE.*:(\d+)$/.exec(detail)?.[1];
  if (port === undefined) return '';
  const name = Object.keys(ports).find((n) => String(ports[n]) === port) ?? 'UASMEDIA_SIP_PORT';
  return `\nIs another server using port ${port}? Choose another with ${name}, as ${name}=${Number(port) + 10} npm start`;
}
