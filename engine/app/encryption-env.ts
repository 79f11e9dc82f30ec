/**
 * The encryption and latching settings `npm start` reads from its environment:
 * UASMEDIA_TLS_CERT and UASMEDIA_TLS_KEY (PEM files; both turn SIP over TLS on, and serve the
 * join page and its SIP WebSocket over HTTPS and WSS),
 * UASMEDIA_TLS_PORT (default 5061), UASMEDIA_TLS_CA (PEM file trusted for connections we open),
 * UASMEDIA_SRTP (off, offered or required; default off) and UASMEDIA_RTP_LATCHING (strict or
 * first-packet; default strict). A bad value stops start-up with a message naming the variable.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../engine.js';
import { SRTP_POLICIES } from '../../sip/index.js';
import { LATCHING_MODES } from '../rtp/peer-latch.js';

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(name, `${name}=${value} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function pemFile(env: Env, name: string): Buffer {
  const path = env[name] as string;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError(name, `${name}=${path} cannot be read: ${(error as Error).message}`);
  }
}

export function encryptionOptionsFromEnv(env: Env = process.env): {
  tls?: NonNullable<EngineOptions['sip']>['tls'];
  rtp: Pick<NonNullable<EngineOptions['rtp']>, 'srtp' | 'latching'>;
} {
  const rtp = {
    srtp: oneOf(env, 'UASMEDIA_SRTP', SRTP_POLICIES, 'off'),
    latching: oneOf(env, 'UASMEDIA_RTP_LATCHING', LATCHING_MODES, 'strict')
  };
  const certSet = Boolean(env.UASMEDIA_TLS_CERT);
  const keySet = Boolean(env.UASMEDIA_TLS_KEY);
  if (certSet !== keySet)
    throw new InvalidArgumentError(
      'UASMEDIA_TLS_CERT',
      'UASMEDIA_TLS_CERT and UASMEDIA_TLS_KEY must be given together'
    );
  if (!certSet) return { rtp };
  const port = env.UASMEDIA_TLS_PORT ? Number(env.UASMEDIA_TLS_PORT) : 5061;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(
      'UASMEDIA_TLS_PORT',
      `UASMEDIA_TLS_PORT=${env.UASMEDIA_TLS_PORT} must be a port number`
    );
  return {
    tls: {
      port,
      cert: pemFile(env, 'UASMEDIA_TLS_CERT'),
      key: pemFile(env, 'UASMEDIA_TLS_KEY'),
      ca: env.UASMEDIA_TLS_CA ? pemFile(env, 'UASMEDIA_TLS_CA') : undefined
    },
    rtp
  };
}
