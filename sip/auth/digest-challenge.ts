/**
 * Digest challenges (`WWW-Authenticate` / `Proxy-Authenticate` values): reading one
 * (RFC 2617 §3.2.1, RFC 7616 §3.3, RFC 8760 §2), choosing among several, and writing one for a
 * server (tests, a future registrar).
 */

import { randomBytes } from 'node:crypto';
import { parseAuthParams, quote } from './auth-params.js';
import { DigestParseError, DigestUnsupportedError } from './errors.js';

/** The algorithms of RFC 7616 §6.1 that RFC 8760 §2.1 brings to SIP. */
export type DigestAlgorithm =
  'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';
export type DigestQop = 'auth' | 'auth-int';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = [
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess'
];

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  /** MD5 when the challenge names none (RFC 2617 §3.2.1). */
  algorithm: DigestAlgorithm;
  /** Offered qop values we support; empty means RFC 2069 compatibility (no qop). */
  qop: DigestQop[];
  /** The previous nonce expired but the credentials were right: retry without asking the user. */
  stale: boolean;
  domain?: string;
  /** RFC 7616 §3.4.4: send H(username:realm) instead of the username. */
  userhash: boolean;
}

/** Reads one challenge header value. Throws `DigestParseError` on garbage, `DigestUnsupportedError` otherwise. */
export function parseChallenge(headerValue: string): DigestChallenge {
  const { scheme, params } = parseAuthParams(headerValue);
  if (scheme.toLowerCase() !== 'digest')
    throw new DigestUnsupportedError(`authentication scheme "${scheme}" is not Digest`);
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined) throw new DigestParseError('challenge has no realm');
  if (nonce === undefined || nonce === '') throw new DigestParseError('challenge has no nonce');

  const algorithm = algorithmNamed(params.get('algorithm') ?? 'MD5');
  let qop: DigestQop[] = [];
  const qopText = params.get('qop');
  if (qopText !== undefined) {
    // A quoted, comma-separated list (RFC 2617 §3.2.1); unknown values are for others to use.
    const offered = qopText.split(',').map((item) => item.trim().toLowerCase());
    qop = (['auth', 'auth-int'] as const).filter((value) => offered.includes(value));
    if (qop.length === 0)
      throw new DigestUnsupportedError(`challenge offers qop "${qopText}", we support auth and auth-int`);
  }
  const challenge: DigestChallenge = {
    realm,
    nonce,
    algorithm,
    qop,
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
    userhash: (params.get('userhash') ?? '').toLowerCase() === 'true'
  };
  const opaque = params.get('opaque');
  if (opaque !== undefined) challenge.opaque = opaque;
  const domain = params.get('domain');
  if (domain !== undefined) challenge.domain = domain;
  return challenge;
}

/**
 * The challenge to answer among the header values of one response, kept in their order:
 * the topmost one we support (RFC 8760 §2.4; the server lists its preferred first, §2.3).
 * Throws the first value's error if none is usable.
 */
export function selectChallenge(headerValues: readonly string[], realm?: string): DigestChallenge {
  let firstError: unknown;
  for (const value of headerValues) {
    try {
      const challenge = parseChallenge(value);
      // Credentials pinned to a realm answer no other: a callee (or any hop) could otherwise
      // challenge with our provider's realm and nonce and relay our answer to it.
      if (realm !== undefined && challenge.realm !== realm) {
        firstError ??= new DigestParseError(`challenge for realm "${challenge.realm}", not "${realm}"`);
        continue;
      }
      return challenge;
    } catch (error) {
      firstError ??= error;
    }
  }
  throw firstError ?? new DigestParseError('no challenge to answer');
}

export interface ChallengeOptions {
  realm: string;
  nonce?: string;
  opaque?: string;
  algorithm?: DigestAlgorithm;
  qop?: DigestQop[];
  stale?: boolean;
}

/** Writes a challenge header value; a random nonce unless one is given. */
export function createChallenge(options: ChallengeOptions): string {
  const nonce = options.nonce ?? randomBytes(18).toString('base64url');
  const parts = [`realm=${quote(options.realm)}`, `nonce=${quote(nonce)}`];
  if (options.opaque !== undefined) parts.push(`opaque=${quote(options.opaque)}`);
  if (options.algorithm !== undefined) parts.push(`algorithm=${options.algorithm}`);
  const qop = options.qop ?? ['auth'];
  if (qop.length > 0) parts.push(`qop=${quote(qop.join(','))}`);
  if (options.stale === true) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

/** Canonical algorithm for a name, case-insensitively (RFC 7616 §3.3 tokens). */
export function algorithmNamed(name: string): DigestAlgorithm {
  const found = DIGEST_ALGORITHMS.find((algorithm) => algorithm.toLowerCase() === name.trim().toLowerCase());
  if (found === undefined) throw new DigestUnsupportedError(`digest algorithm "${name}" is not supported`);
  return found;
}
