/**
 * The door for new incoming calls: every out-of-dialog INVITE passes here before a channel,
 * a port or any media exists. In order, cheapest first: the guard (the engine's overload
 * check), the call ceilings, then digest authentication, and the ceilings once more, since the
 * credentials lookup is asynchronous and other calls may have come in meanwhile. A call that
 * passes takes its place in the ceilings until `release()`.
 *
 * Guessing is limited per source (source-key.ts): `lockout.failures` wrong answers within
 * `windowSeconds` lock the source for `lockSeconds`, during which every answer it sends gets the
 * same 403 a wrong one gets, without a lookup, so a right guess looks like a wrong one; INVITEs
 * without an answer still get their 401, so the lock shows no sign of itself. Failures are not
 * forgiven by a success: else a guesser could interleave a known account's logins.
 */
import type { SipRequest } from '../message/message.js';
import { DigestAuthenticator, type DigestAuthenticatorOptions } from '../auth/digest-server.js';
import { CallLimiter, type CallLimitOptions } from './call-limiter.js';
import { FailureLockout } from './failure-lockout.js';
import type { Refusal } from './refusal.js';
import { sourceKey } from './source-key.js';

export interface InviteAdmissionOptions {
  limits?: CallLimitOptions;
  /** Digest authentication; `requiredFor` narrows it to some requests (default: every INVITE). */
  auth?: DigestAuthenticatorOptions & {
    requiredFor?: (request: SipRequest) => boolean;
    /** Wrong answers per source before it is locked out (see above); false: no limit. */
    lockout?: AuthLockoutOptions | false;
  };
  /** Told once per lock of a source (its key, source-key.ts). */
  onLockout?: (source: string, lockSeconds: number) => void;
  /** A check before all others: a refusal, or undefined to go on (the engine's overload guard). */
  guard?: () => Refusal | undefined;
  /** Monotonic ms clock for the rate limits, injectable for tests. */
  now?: () => number;
}

export interface AuthLockoutOptions {
  /** Wrong answers from one source that lock it (default 10). */
  failures?: number;
  /** The window those failures must fall in (default 60 s). */
  windowSeconds?: number;
  /** How long the source stays locked (default 300 s). */
  lockSeconds?: number;
}

export const DEFAULT_AUTH_LOCKOUT: Required<AuthLockoutOptions> = {
  failures: 10,
  windowSeconds: 60,
  lockSeconds: 300
};

export type AdmissionResult =
  { admitted: true; username?: string; release: () => void } | { admitted: false; refusal: Refusal };

export class InviteAdmission {
  readonly limiter: CallLimiter | undefined;
  readonly authenticator: DigestAuthenticator | undefined;
  readonly #guard: (() => Refusal | undefined) | undefined;
  readonly #authRequiredFor: ((request: SipRequest) => boolean) | undefined;
  readonly authLockout: FailureLockout | undefined;
  readonly #onLockout: ((source: string, lockSeconds: number) => void) | undefined;

  constructor(options: InviteAdmissionOptions) {
    this.limiter = options.limits ? new CallLimiter(options.limits, options.now) : undefined;
    this.authenticator = options.auth ? new DigestAuthenticator(options.auth) : undefined;
    this.#authRequiredFor = options.auth?.requiredFor;
    this.#guard = options.guard;
    const lockout = options.auth?.lockout;
    if (this.authenticator && lockout !== false) {
      const given = lockout ?? {};
      this.authLockout = new FailureLockout(
        {
          failures: given.failures ?? DEFAULT_AUTH_LOCKOUT.failures,
          windowMs: checkedSeconds(
            given.windowSeconds ?? DEFAULT_AUTH_LOCKOUT.windowSeconds,
            'windowSeconds'
          ),
          lockMs: checkedSeconds(given.lockSeconds ?? DEFAULT_AUTH_LOCKOUT.lockSeconds, 'lockSeconds')
        },
        options.now ?? (() => performance.now())
      );
    }
    this.#onLockout = options.onLockout;
  }

  /** Decides on a new INVITE from `sourceHost` (the address it came from, not what its Via claims). */
  async admit(request: SipRequest, sourceHost: string): Promise<AdmissionResult> {
    // One host, one key: an IPv4 peer however the socket spelled it, an IPv6 one by its /64.
    sourceHost = sourceKey(sourceHost);
    const early = this.#guard?.() ?? this.limiter?.check(sourceHost);
    if (early) return { admitted: false, refusal: early };
    let username: string | undefined;
    if (this.authenticator && (this.#authRequiredFor?.(request) ?? true)) {
      const lockout = this.authLockout;
      if (lockout?.locked(sourceHost) && this.authenticator.hasCredentials(request))
        return { admitted: false, refusal: LOCKED };
      const outcome = await this.authenticator.authenticate(request);
      if (!outcome.ok) {
        if (outcome.refusal.cause === 'auth_failed' && lockout?.fail(sourceHost))
          this.#onLockout?.(sourceHost, lockout.limits.lockMs / 1000);
        return { admitted: false, refusal: outcome.refusal };
      }
      // Answers sent side by side are looked up side by side: one whose lookup ended after the
      // lock began is refused like those that came after it.
      if (lockout?.locked(sourceHost)) return { admitted: false, refusal: LOCKED };
      username = outcome.username;
      const late = this.#guard?.() ?? this.limiter?.check(sourceHost);
      if (late) return { admitted: false, refusal: late };
    }
    const release = this.limiter ? this.limiter.admit(sourceHost) : () => undefined;
    return username === undefined ? { admitted: true, release } : { admitted: true, username, release };
  }
}

/** What a locked source's answers get: the 403 of a wrong password, nothing more. */
const LOCKED: Refusal = { cause: 'auth_locked', status: 403, reason: 'Forbidden' };

function checkedSeconds(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`lockout.${name} must be a positive number of seconds, got ${String(value)}`);
  return value * 1000;
}
