/**
 * SIP digest authentication (RFC 3261 §22.4 with RFC 2617, RFC 7616 and RFC 8760): the UAC
 * answers a 401/407 challenge with `computeAuthorization`; a server checks the answer with
 * `verifyAuthorization`. Challenge parsing lives in `digest-challenge.ts` and is re-exported.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseAuthParams, quote } from './auth-params.js';
import {
  algorithmNamed,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestQop
} from './digest-challenge.js';
import { DigestParseError, DigestUnsupportedError } from './errors.js';

export {
  createChallenge,
  parseChallenge,
  selectChallenge,
  type ChallengeOptions,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestQop
} from './digest-challenge.js';
export { DigestParseError, DigestUnsupportedError } from './errors.js';

export interface DigestCredentials {
  username: string;
  password: string;
}

export interface DigestRequest {
  method: string;
  /** The Request-URI exactly as sent (RFC 3261 §22.4: digest-uri is the Request-URI). */
  uri: string;
  /** Message body, for qop=auth-int. */
  body?: string;
}

/** The parameters of an `Authorization` / `Proxy-Authorization` value. */
export interface DigestAuthorization {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  cnonce?: string;
  opaque?: string;
  qop?: DigestQop;
  /** nc as a number; present whenever qop is. */
  nonceCount?: number;
  /** nc exactly as written: the hash covers these characters. */
  nc?: string;
  userhash: boolean;
}

const HASHES: Record<string, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

function hasher(algorithm: DigestAlgorithm): (text: string) => string {
  const name = HASHES[algorithm.replace(/-sess$/, '')];
  return (text) => createHash(name).update(text, 'utf8').digest('hex');
}

/**
 * The Authorization header value answering `challenge` (RFC 7616 §3.4). Picks qop=auth when
 * offered, else auth-int (hashing `request.body`), else the RFC 2069 form without qop.
 * `nonceCount` is how many requests this nonce has signed, this one included (1 first).
 */
export function computeAuthorization(
  challenge: DigestChallenge,
  creds: DigestCredentials,
  request: DigestRequest,
  nonceCount: number,
  cnonce?: string
): string {
  if (!Number.isInteger(nonceCount) || nonceCount < 1 || nonceCount > 0xffffffff) {
    throw new RangeError(`nonceCount ${nonceCount} must be an integer in 1..2^32-1`);
  }
  const qop: DigestQop | undefined = challenge.qop.includes('auth') ? 'auth' : challenge.qop[0];
  const sessionKey = challenge.algorithm.endsWith('-sess');
  const clientNonce =
    qop !== undefined || sessionKey ? (cnonce ?? randomBytes(16).toString('hex')) : undefined;
  const nc = nonceCount.toString(16).padStart(8, '0');
  const response = digestResponse({
    algorithm: challenge.algorithm,
    username: creds.username,
    password: creds.password,
    realm: challenge.realm,
    nonce: challenge.nonce,
    cnonce: clientNonce,
    nc,
    qop,
    method: request.method,
    uri: request.uri,
    body: request.body
  });

  const H = hasher(challenge.algorithm);
  // RFC 7616 §3.4.4: with userhash the username travels as H(username:realm).
  const username = challenge.userhash ? H(`${creds.username}:${challenge.realm}`) : creds.username;
  const parts = [
    `username=${quote(username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(request.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${challenge.algorithm}`
  ];
  if (clientNonce !== undefined) parts.push(`cnonce=${quote(clientNonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (qop !== undefined) parts.push(`qop=${qop}`, `nc=${nc}`);
  if (challenge.userhash) parts.push('userhash=true');
  return `Digest ${parts.join(', ')}`;
}

interface ResponseInputs {
  algorithm: DigestAlgorithm;
  username: string;
  password: string;
  /** H(username:realm:password), when the server stores that instead of the password. */
  ha1?: string;
  realm: string;
  nonce: string;
  cnonce: string | undefined;
  nc: string;
  qop: DigestQop | undefined;
  method: string;
  uri: string;
  body: string | undefined;
}

/** The request-digest of RFC 7616 §3.4.1 (RFC 2617 §3.2.2.1 for MD5). */
function digestResponse(input: ResponseInputs): string {
  const H = hasher(input.algorithm);
  let ha1 = input.ha1?.toLowerCase() ?? H(`${input.username}:${input.realm}:${input.password}`);
  // RFC 7616 §3.4.2: the -sess variants bind HA1 to this nonce and cnonce.
  if (input.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${input.nonce}:${input.cnonce ?? ''}`);
  // RFC 7616 §3.4.3: auth-int also covers the body.
  const ha2 =
    input.qop === 'auth-int'
      ? H(`${input.method}:${input.uri}:${H(input.body ?? '')}`)
      : H(`${input.method}:${input.uri}`);
  return input.qop === undefined
    ? H(`${ha1}:${input.nonce}:${ha2}`)
    : H(`${ha1}:${input.nonce}:${input.nc}:${input.cnonce ?? ''}:${input.qop}:${ha2}`);
}

/** Reads an Authorization / Proxy-Authorization value. Throws `DigestParseError` / `DigestUnsupportedError`. */
export function parseAuthorization(headerValue: string): DigestAuthorization {
  const { scheme, params } = parseAuthParams(headerValue);
  if (scheme.toLowerCase() !== 'digest')
    throw new DigestUnsupportedError(`authentication scheme "${scheme}" is not Digest`);
  const required = (name: string): string => {
    const value = params.get(name);
    if (value === undefined) throw new DigestParseError(`credentials have no ${name}`);
    return value;
  };
  const authorization: DigestAuthorization = {
    username: required('username'),
    realm: required('realm'),
    nonce: required('nonce'),
    uri: required('uri'),
    response: required('response').toLowerCase(),
    algorithm: algorithmNamed(params.get('algorithm') ?? 'MD5'),
    userhash: (params.get('userhash') ?? '').toLowerCase() === 'true'
  };
  if (!/^[0-9a-f]+$/.test(authorization.response)) throw new DigestParseError('response is not hexadecimal');
  const qop = params.get('qop')?.toLowerCase();
  if (qop !== undefined) {
    if (qop !== 'auth' && qop !== 'auth-int')
      throw new DigestUnsupportedError(`qop "${qop}" is not supported`);
    const nc = params.get('nc');
    const cnonce = params.get('cnonce');
    if (nc === undefined || !/^[0-9a-fA-F]{8}$/.test(nc))
      throw new DigestParseError('qop given without an 8-hex-digit nc');
    if (cnonce === undefined) throw new DigestParseError('qop given without a cnonce');
    authorization.qop = qop;
    authorization.nonceCount = parseInt(nc, 16);
    authorization.nc = nc;
  }
  const cnonce = params.get('cnonce');
  if (cnonce !== undefined) authorization.cnonce = cnonce;
  const opaque = params.get('opaque');
  if (opaque !== undefined) authorization.opaque = opaque;
  return authorization;
}

export interface DigestVerifyOptions {
  /** The user we expect; required to check a hashed username (userhash). */
  username?: string;
  /** The user's password; or give `ha1` = H(username:realm:password) for the credentials' algorithm. */
  password?: string;
  ha1?: string;
  method: string;
  body?: string;
  /** When given, each must equal what the credentials carry. */
  realm?: string;
  nonce?: string;
  opaque?: string;
  uri?: string;
}

export type DigestVerifyFailure =
  'malformed' | 'username' | 'realm' | 'nonce' | 'opaque' | 'uri' | 'response';

export type DigestVerifyResult =
  | { ok: true; username: string; nonceCount?: number; qop?: DigestQop }
  | { ok: false; reason: DigestVerifyFailure };

/**
 * Checks credentials against the password (RFC 7616 §3.5 server side). Replay protection
 * (nonce expiry, strictly increasing nonceCount) needs state and stays with the caller.
 */
export function verifyAuthorization(
  authorization: string | DigestAuthorization,
  options: DigestVerifyOptions
): DigestVerifyResult {
  let credentials: DigestAuthorization;
  try {
    credentials = typeof authorization === 'string' ? parseAuthorization(authorization) : authorization;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (options.realm !== undefined && credentials.realm !== options.realm)
    return { ok: false, reason: 'realm' };
  if (options.nonce !== undefined && credentials.nonce !== options.nonce)
    return { ok: false, reason: 'nonce' };
  if (options.opaque !== undefined && credentials.opaque !== options.opaque)
    return { ok: false, reason: 'opaque' };
  if (options.uri !== undefined && credentials.uri !== options.uri) return { ok: false, reason: 'uri' };

  let username = credentials.username;
  if (credentials.userhash) {
    if (options.username === undefined) return { ok: false, reason: 'username' };
    const hashed = hasher(credentials.algorithm)(`${options.username}:${credentials.realm}`);
    if (!sameText(hashed, credentials.username.toLowerCase())) return { ok: false, reason: 'username' };
    username = options.username;
  } else if (options.username !== undefined && username !== options.username) {
    return { ok: false, reason: 'username' };
  }

  const expected = digestResponse({
    algorithm: credentials.algorithm,
    username,
    password: options.password ?? '',
    ha1: options.ha1,
    realm: credentials.realm,
    nonce: credentials.nonce,
    cnonce: credentials.cnonce,
    nc: credentials.nc ?? credentials.nonceCount?.toString(16).padStart(8, '0') ?? '',
    qop: credentials.qop,
    method: options.method,
    uri: credentials.uri,
    body: options.body
  });
  if (!sameText(expected, credentials.response)) return { ok: false, reason: 'response' };
  const result: DigestVerifyResult = { ok: true, username };
  if (credentials.nonceCount !== undefined) result.nonceCount = credentials.nonceCount;
  if (credentials.qop !== undefined) result.qop = credentials.qop;
  return result;
}

/** Constant-time comparison, so response checks leak no prefix length. */
function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
