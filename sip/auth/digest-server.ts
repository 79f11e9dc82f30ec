/**
 * Digest authentication of incoming requests as a UAS (RFC 3261 §22.4, RFC 7616 §3.3-§3.5,
 * RFC 8760 for SHA-256 in SIP): the first request gets a 401 with one WWW-Authenticate per
 * algorithm, `qop="auth"` required. The default order is MD5, then SHA-256: RFC 8760 §2.4 has a
 * client use the topmost value it supports, but SIPp and sip.js 0.21 read only the first and
 * know only MD5. Give `algorithms: ['SHA-256', 'MD5']` when every client follows RFC 8760.
 *
 * Nonces carry their issue time and an HMAC under a per-process secret over it and the source
 * they were sent to (RFC 7616 §5.5 suggests the client's address), so a flood of challenges costs
 * no memory, and an answer on a nonce sent to another source gets a fresh 401 and counts as
 * nothing: a forger who cannot read the victim's packets cannot spend the victim's wrong-answer
 * allowance (admission's per-source lockout) with spoofed UDP. Nonces that signed a request are
 * remembered, with the highest nonce count seen, until they expire. A nonce count that does not
 * grow is a replay (RFC 7616 §3.4: "the server can detect request replays by maintaining its own
 * copy of this count"). A wrong answer gets 403 and retires its nonce: any later answer on it,
 * right or wrong, gets a fresh 401 without a lookup, so each guess costs a challenge round trip
 * and a retired nonce tells nothing about the password. Retired nonces are kept apart from those
 * that signed requests: wrong answers from many sources can fill only their own table, which
 * then forgets its oldest (one more guess on a forgotten nonce is still counted by admission's
 * lockouts), and never crowd out a right answer. (Asterisk's PJSIP and Kamailio's usual configuration answer
 * the wrong answer itself with a fresh 401; the 403 stops a phone with a wrong password at once.)
 * Limiting guesses per source is admission's job (invite-admission.ts).
 * An expired nonce with a correct answer gets `stale=true`, so the client retries without
 * asking its user (§3.3).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SipRequest } from '../message/message.js';
import { isSipUri, parseUri, unescape } from '../message/uri.js';
import type { Refusal } from '../admission/refusal.js';
import { createChallenge, type DigestAlgorithm } from './digest-challenge.js';
import { parseAuthorization, verifyAuthorization, type DigestAuthorization } from './digest.js';

/**
 * What the application knows about a user: the password (as a string or `{ password }`), or
 * H(username:realm:password) for one algorithm.
 */
export type DigestSecret = string | { password: string } | { ha1: string; algorithm: 'MD5' | 'SHA-256' };

/** Finds a user's secret anywhere (a database, a file, an API); undefined for an unknown user. */
export type CredentialsLookup = (
  realm: string,
  username: string,
  request: SipRequest
) => Promise<DigestSecret | undefined> | DigestSecret | undefined;

export interface DigestAuthenticatorOptions {
  realm: string;
  credentials: CredentialsLookup;
  /** Offered in this order, most preferred first (default MD5 then SHA-256, see above). */
  algorithms?: ReadonlyArray<'SHA-256' | 'MD5'>;
  /** How long a nonce may sign requests (default 60 s). */
  nonceLifetimeSeconds?: number;
  /** HMAC key of the nonces; share it between engines behind one proxy (default: random per process). */
  nonceSecret?: Buffer;
  /** Nonces remembered at most (default 100,000; see `#remember`); smaller in tests. */
  maxRememberedNonces?: number;
  /** Wall clock in ms, injectable for tests. */
  now?: () => number;
}

export type AuthOutcome = { ok: true; username: string } | { ok: false; refusal: Refusal };

/** The nonce count of a retired nonce: no count is above it. */
const RETIRED = Number.POSITIVE_INFINITY;
const ISSUED_BYTES = 6;
const RANDOM_BYTES = 9;
const MAC_BYTES = 15;
const MAX_REMEMBERED = 100_000;

export class DigestAuthenticator {
  readonly realm: string;
  readonly #credentials: CredentialsLookup;
  readonly #algorithms: ReadonlyArray<'SHA-256' | 'MD5'>;
  readonly #lifetimeMs: number;
  readonly #secret: Buffer;
  readonly #now: () => number;
  /** nonce → highest nonce count that signed a request (Infinity once retired), and when the nonce expires. */
  readonly #used = new Map<string, { nc: number; expiresMs: number }>();
  /** Nonces that only ever carried wrong answers → when they expire; the oldest are forgotten when full. */
  readonly #retired = new Map<string, number>();
  readonly #maxRemembered: number;

  constructor(options: DigestAuthenticatorOptions) {
    if (typeof options.realm !== 'string' || options.realm === '' || /["\\\r\n]/.test(options.realm)) {
      throw new RangeError(
        `realm '${String(options.realm)}' must be a non-empty string without quotes, backslashes or line breaks`
      );
    }
    if (typeof options.credentials !== 'function')
      throw new TypeError('credentials must be a function (realm, username, request) => secret');
    const lifetime = options.nonceLifetimeSeconds ?? 60;
    if (!(lifetime > 0 && lifetime <= 86_400))
      throw new RangeError(`nonceLifetimeSeconds must be in (0, 86400], got ${lifetime}`);
    const algorithms = options.algorithms ?? ['MD5', 'SHA-256'];
    if (algorithms.length === 0 || algorithms.some((a) => a !== 'SHA-256' && a !== 'MD5')) {
      throw new RangeError(
        `algorithms must be a non-empty list of 'SHA-256' and 'MD5', got ${JSON.stringify(algorithms)}`
      );
    }
    this.realm = options.realm;
    this.#credentials = options.credentials;
    this.#algorithms = algorithms;
    this.#lifetimeMs = lifetime * 1000;
    this.#secret = options.nonceSecret ?? randomBytes(32);
    this.#now = options.now ?? Date.now;
    this.#maxRemembered = options.maxRememberedNonces ?? MAX_REMEMBERED;
  }

  /** Nonces remembered for replay checks (for leak checks). */
  get rememberedNonces(): number {
    return this.#used.size + this.#retired.size;
  }

  /**
   * The 401 asking `source` (its key, source-key.ts) for credentials; `stale` when the previous
   * nonce only expired.
   */
  challenge(
    source: string,
    stale = false,
    cause: 'auth_challenged' | 'auth_replayed' = 'auth_challenged'
  ): Refusal {
    const nonce = this.#newNonce(source);
    return {
      cause,
      status: 401,
      reason: 'Unauthorized',
      headers: this.#algorithms.map((algorithm) => [
        'WWW-Authenticate',
        createChallenge({
          realm: this.realm,
          nonce,
          algorithm: algorithm as DigestAlgorithm,
          qop: ['auth'],
          stale
        })
      ])
    };
  }

  /**
   * Checks the credentials for our realm of `request` from `source` (its key, source-key.ts):
   * admitted, challenged, or refused (403). `locked(username)` says the answer is refused
   * whatever it is (admission's lockouts): asked only once the nonce is one of ours for this
   * source and unspent, it then gets a wrong answer's 403 and retires the nonce as one does,
   * without a lookup. Asked first, it told a lock apart: an answer on a made-up nonce got 403
   * while locked and 401 otherwise, and a second answer on one nonce 403 where a wrong one's
   * gets 401, so a guesser could wait each lock out instead of taking a right guess for wrong.
   */
  async authenticate(
    request: SipRequest,
    source: string,
    locked: (username: string) => boolean = () => false
  ): Promise<AuthOutcome> {
    const credentials = this.#credentialsFor(request);
    if (credentials === undefined) return { ok: false, refusal: this.challenge(source) };
    // We offered qop=auth only: anything else (RFC 2069 answers cannot be replay-checked) is asked again.
    if (
      credentials.qop !== 'auth' ||
      credentials.nonceCount === undefined ||
      !this.#algorithms.includes(credentials.algorithm as 'MD5')
    ) {
      return { ok: false, refusal: this.challenge(source) };
    }
    const issuedMs = this.#issuedAt(credentials.nonce, source);
    if (issuedMs === undefined) return { ok: false, refusal: this.challenge(source) };
    if (this.#used.get(credentials.nonce)?.nc === RETIRED || this.#retired.has(credentials.nonce))
      return { ok: false, refusal: this.challenge(source, false, 'auth_replayed') };
    if (locked(credentials.username)) return this.#failed(credentials.nonce, issuedMs, 'auth_locked');
    if (!sameTarget(credentials.uri, request.uri)) return this.#failed(credentials.nonce, issuedMs);

    const secret = checkedSecret(await this.#credentials(this.realm, credentials.username, request));
    if (secret === undefined || !this.#verify(credentials, secret, request))
      return this.#failed(credentials.nonce, issuedMs);

    const now = this.#now();
    if (now - issuedMs > this.#lifetimeMs) return { ok: false, refusal: this.challenge(source, true) };
    const used = this.#used.get(credentials.nonce);
    if (used !== undefined && credentials.nonceCount <= used.nc) {
      return { ok: false, refusal: this.challenge(source, false, 'auth_replayed') };
    }
    if (used !== undefined) used.nc = credentials.nonceCount;
    else if (!this.#remember(credentials.nonce, issuedMs + this.#lifetimeMs, credentials.nonceCount, now))
      return { ok: false, refusal: this.challenge(source) };
    return { ok: true, username: credentials.username };
  }

  /** The username of the request's answer for our realm, right or wrong; undefined without one. */
  answeredUsername(request: SipRequest): string | undefined {
    return this.#credentialsFor(request)?.username;
  }

  /** A wrong answer (or a locked one's): 403, and its nonce signs nothing any more. */
  #failed(
    nonce: string,
    issuedMs: number,
    cause: 'auth_failed' | 'auth_locked' = 'auth_failed'
  ): AuthOutcome {
    const used = this.#used.get(nonce);
    if (used === undefined) this.#retire(nonce, issuedMs + this.#lifetimeMs, this.#now());
    else used.nc = RETIRED;
    return { ok: false, refusal: forbidden(cause) };
  }

  #credentialsFor(request: SipRequest): DigestAuthorization | undefined {
    for (const value of request.getAll('Authorization')) {
      try {
        const credentials = parseAuthorization(value);
        if (credentials.realm === this.realm && !credentials.userhash) return credentials;
      } catch {
        // Malformed or another scheme: look at the next one, else challenge.
      }
    }
    return undefined;
  }

  #verify(credentials: DigestAuthorization, secret: DigestSecret, request: SipRequest): boolean {
    if (typeof secret === 'string') secret = { password: secret };
    if ('ha1' in secret && secret.algorithm !== credentials.algorithm) return false;
    const result = verifyAuthorization(credentials, {
      ...('ha1' in secret ? { ha1: secret.ha1 } : { password: secret.password }),
      method: request.method,
      realm: this.realm
    });
    return result.ok;
  }

  #newNonce(source: string): string {
    const payload = Buffer.alloc(ISSUED_BYTES + RANDOM_BYTES);
    payload.writeUIntBE(this.#now(), 0, ISSUED_BYTES);
    randomBytes(RANDOM_BYTES).copy(payload, ISSUED_BYTES);
    return Buffer.concat([payload, this.#mac(payload, source)]).toString('base64url');
  }

  /** The issue time of a nonce we made for `source`, or undefined for anything else. */
  #issuedAt(nonce: string, source: string): number | undefined {
    const bytes = Buffer.from(nonce, 'base64url');
    if (bytes.length !== ISSUED_BYTES + RANDOM_BYTES + MAC_BYTES || bytes.toString('base64url') !== nonce)
      return undefined;
    const payload = bytes.subarray(0, ISSUED_BYTES + RANDOM_BYTES);
    if (!timingSafeEqual(bytes.subarray(ISSUED_BYTES + RANDOM_BYTES), this.#mac(payload, source)))
      return undefined;
    return payload.readUIntBE(0, ISSUED_BYTES);
  }

  #mac(payload: Buffer, source: string): Buffer {
    return createHmac('sha256', this.#secret).update(payload).update(source).digest().subarray(0, MAC_BYTES);
  }

  /**
   * Remembers a nonce's first use; false when full. A nonce is first used after it was issued
   * and expires a lifetime after its issue, so the order nonces are remembered in is nearly the
   * order they expire in (an expired one may wait behind a slightly younger one), and the sweep
   * stops at the first live one: constant time per nonce however many are held. When
   * the table is full of live nonces (a flood of first answers, 100,000 per lifetime), a new one
   * is not remembered: a right answer on it is challenged again rather than admitted without a
   * replay check.
   */
  #remember(nonce: string, expiresMs: number, nc: number, now: number): boolean {
    this.#sweep(now);
    if (this.#used.size >= this.#maxRemembered) return false;
    this.#used.set(nonce, { nc, expiresMs });
    return true;
  }

  /** Retires a nonce a wrong answer came on; when full of live ones, the oldest is forgotten. */
  #retire(nonce: string, expiresMs: number, now: number): void {
    this.#sweep(now);
    for (const key of this.#retired.keys()) {
      if (this.#retired.size < this.#maxRemembered) break;
      this.#retired.delete(key);
    }
    this.#retired.set(nonce, expiresMs);
  }

  /** Forgets expired nonces, oldest first, stopping at the first live one in each table. */
  #sweep(now: number): void {
    for (const [key, entry] of this.#used) {
      if (entry.expiresMs >= now) break;
      this.#used.delete(key);
    }
    for (const [key, expiresMs] of this.#retired) {
      if (expiresMs >= now) break;
      this.#retired.delete(key);
    }
  }
}

/**
 * RFC 7616 §3.4.6: the digest-uri must name this request's target. It is the Request-URI for
 * phones; SIPp sends it without the user part, so host and port are what must agree, and the
 * user part (the room) too when the digest-uri has one: an answer computed for
 * sip:secretroom@host must not open sip:r1@host.
 */
function sameTarget(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  try {
    const a = parseUri(digestUri);
    const b = parseUri(requestUri);
    return (
      isSipUri(a) &&
      isSipUri(b) &&
      a.scheme === b.scheme &&
      a.host.toLowerCase() === b.host.toLowerCase() &&
      a.port === b.port &&
      (a.user === undefined || (b.user !== undefined && unescape(a.user) === unescape(b.user)))
    );
  } catch {
    return false;
  }
}

function forbidden(cause: 'auth_failed' | 'auth_locked'): Refusal {
  return { cause, status: 403, reason: 'Forbidden' };
}

/** The lookup's answer as a secret; a clear TypeError for anything else (plain JavaScript may return anything). */
function checkedSecret(secret: unknown): DigestSecret | undefined {
  if (secret === undefined || typeof secret === 'string') return secret;
  if (typeof secret === 'object' && secret !== null) {
    const s = secret as Record<string, unknown>;
    if (typeof s.password === 'string') return { password: s.password };
    if (typeof s.ha1 === 'string' && (s.algorithm === 'MD5' || s.algorithm === 'SHA-256'))
      return { ha1: s.ha1, algorithm: s.algorithm };
  }
  throw new TypeError(
    "the credentials callback must return (or resolve to) a password string, { password: string }, { ha1: string, algorithm: 'MD5' | 'SHA-256' } or undefined for an unknown user; got " +
      describe(secret)
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return `an object with keys ${JSON.stringify(Object.keys(value))}`;
}
