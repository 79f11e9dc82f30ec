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
 * without an answer, or with one on a nonce that is not a live one of ours for that source, still
 * get their 401, so the lock shows no sign of itself (DigestAuthenticator.authenticate). Failures
 * are not forgiven by a success: else a guesser could interleave a known account's logins.
 * Guessing one account from many sources is limited per account (account-lockout.ts): a locked
 * account's answers get the same 403 from every source but those it knows.
 *
 * Engines that share callers (a cluster behind one front) also count wrong answers together
 * (`sharedFailures`): each engine counts as before and tells the shared count, whose lock it then
 * takes as its own; a right answer is admitted only once the shared count says neither its source
 * nor its account is locked. When the shared count does not answer, each engine's own decides.
 */
import type { SipRequest } from '../message/message.js';
import { DigestAuthenticator, type DigestAuthenticatorOptions } from '../auth/digest-server.js';
import { CallLimiter, type CallLimitOptions } from './call-limiter.js';
import { FailureLockout, type FailureLockoutLimits } from './failure-lockout.js';
import { AccountLockout, accountKey } from './account-lockout.js';
import type { Refusal, RefusalCause } from './refusal.js';
import { sourceKey } from './source-key.js';
import type { SourceFilter } from './source-filter.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** Refusals that mean the engine is full: a call that never had its ACK may give its place up. */
const FULL: ReadonlySet<RefusalCause> = new Set<RefusalCause>(['calls_total', 'rtp_ports', 'dsp_slots']);

/** What a shared count made of one more wrong answer: see WRONG_PIN_SCRIPT in engine/cluster. */
export type SharedFailure = 'counted' | 'lockedNow' | 'locked';

/** Failures counted beyond this engine, under keys `source:…` and `account:…`; each call rejects when the count does not answer. */
export interface SharedFailureCount {
  fail(key: string, limits: FailureLockoutLimits): Promise<SharedFailure>;
  locked(key: string): Promise<boolean>;
}

export interface InviteAdmissionOptions {
  limits?: CallLimitOptions;
  /** Digest authentication; `requiredFor` narrows it to some requests (default: every INVITE). */
  auth?: DigestAuthenticatorOptions & {
    requiredFor?: (request: SipRequest) => boolean;
    /** Wrong answers per source before it is locked out (see above); false: no limit. */
    lockout?: AuthLockoutOptions | false;
    /** Wrong answers for one account, from sources it does not know, before it is locked for them; false: no limit. */
    accountLockout?: AuthLockoutOptions | false;
  };
  /** Told once per lock of a source (its key, source-key.ts). */
  onLockout?: (source: string, lockSeconds: number) => void;
  /** Told once per lock of an account. */
  onAccountLockout?: (username: string, lockSeconds: number) => void;
  /** Wrong answers counted with other engines (a cluster's directory), while there is such a count. */
  sharedFailures?: () => SharedFailureCount | undefined;
  /** A check before all others: a refusal, or undefined to go on (the engine's overload guard). */
  guard?: () => Refusal | undefined;
  /**
   * Proxies whose INVITEs name their caller (trusted-proxies.ts): the caller is then the source
   * for every check here, and must pass `callers` (the SIP source lists) too.
   */
  forwarded?: { proxies: TrustedProxies; callers: SourceFilter | undefined };
  /**
   * Whether `request` counts against its source's ceilings (`maxCallsPerSource`,
   * `callsPerSecondPerSource`); default every INVITE. A cluster's signed trunk legs do not: a node
   * carries a leg for each room it shares, and its quota spent let an outsider who held calls in
   * rooms on two nodes keep other rooms split (486 to every trunk leg past it).
   */
  sourceLimited?: (request: SipRequest) => boolean;
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

/** Three sources' worth of the per-source limit, over five minutes. */
export const DEFAULT_ACCOUNT_LOCKOUT: Required<AuthLockoutOptions> = {
  failures: 30,
  windowSeconds: 300,
  lockSeconds: 600
};

export type AdmissionResult =
  { admitted: true; username?: string; release: () => void } | { admitted: false; refusal: Refusal };

export class InviteAdmission {
  readonly limiter: CallLimiter | undefined;
  readonly authenticator: DigestAuthenticator | undefined;
  readonly #guard: (() => Refusal | undefined) | undefined;
  readonly #forwarded: InviteAdmissionOptions['forwarded'];
  readonly #authRequiredFor: ((request: SipRequest) => boolean) | undefined;
  readonly #sourceLimited: ((request: SipRequest) => boolean) | undefined;
  readonly authLockout: FailureLockout | undefined;
  readonly accountLockout: AccountLockout | undefined;
  readonly #onLockout: ((source: string, lockSeconds: number) => void) | undefined;
  readonly #onAccountLockout: ((username: string, lockSeconds: number) => void) | undefined;
  readonly #sharedFailures: () => SharedFailureCount | undefined;

  constructor(options: InviteAdmissionOptions) {
    this.limiter = options.limits ? new CallLimiter(options.limits, options.now) : undefined;
    this.authenticator = options.auth ? new DigestAuthenticator(options.auth) : undefined;
    this.#authRequiredFor = options.auth?.requiredFor;
    this.#sourceLimited = options.sourceLimited;
    this.#guard = options.guard;
    this.#forwarded = options.forwarded;
    const now = options.now ?? (() => performance.now());
    const lockout = options.auth?.lockout;
    if (this.authenticator && lockout !== false)
      this.authLockout = new FailureLockout(lockoutLimits(lockout, DEFAULT_AUTH_LOCKOUT, 'lockout'), now);
    const accountLockout = options.auth?.accountLockout;
    if (this.authenticator && accountLockout !== false) {
      this.accountLockout = new AccountLockout(
        lockoutLimits(accountLockout, DEFAULT_ACCOUNT_LOCKOUT, 'accountLockout'),
        now
      );
    }
    this.#onLockout = options.onLockout;
    this.#onAccountLockout = options.onAccountLockout;
    this.#sharedFailures = options.sharedFailures ?? (() => undefined);
  }

  /**
   * The refusal any new call gets now, whoever sends it and whatever it carries: the guard's and
   * the total ceilings'. An OPTIONS gets it too (RFC 3261 §11.2), so a proxy that probes us with
   * OPTIONS stops sending calls while we are full or overloaded.
   */
  availability(): Refusal | undefined {
    return this.#guard?.() ?? this.limiter?.checkTotal();
  }

  /** The caller a trusted proxy in front names for `request`, if it came from one (trusted-proxies.ts). */
  callerOf(request: SipRequest, sourceHost: string): string | undefined {
    return this.#forwarded?.proxies.callerOf(request, sourceHost);
  }

  /** Whether a trusted proxy in front says `request`'s caller is behind NAT (trusted-proxies.ts). */
  callerBehindNat(request: SipRequest, sourceHost: string): boolean {
    return this.#forwarded?.proxies.callerBehindNat(request, sourceHost) ?? false;
  }

  /**
   * Decides on a new INVITE from `sourceHost` (the address it came from, not what its Via claims).
   * `makeRoom`, asked at most once when the engine is full (`maxCalls`, RTP ports, DSP slots), ends a call
   * that may give its place up and says whether it did; the check is then made again.
   */
  async admit(request: SipRequest, sourceHost: string, makeRoom?: () => boolean): Promise<AdmissionResult> {
    let roomMade = false;
    const limited = this.#sourceLimited?.(request) ?? true;
    const ceilings = (source: string): Refusal | undefined =>
      limited ? this.limiter?.check(source) : this.limiter?.checkTotal();
    const check = (source: string): Refusal | undefined => {
      const refusal = this.#guard?.() ?? ceilings(source);
      if (!refusal || !FULL.has(refusal.cause) || roomMade || !makeRoom) return refusal;
      roomMade = true;
      return makeRoom() ? (this.#guard?.() ?? ceilings(source)) : refusal;
    };
    const caller = this.#forwarded?.proxies.callerOf(request, sourceHost);
    if (caller !== undefined) {
      if (this.#forwarded?.callers && !this.#forwarded.callers.allows(caller))
        return { admitted: false, refusal: CALLER_DENIED };
      sourceHost = caller;
    }
    // One host, one key: an IPv4 peer however the socket spelled it, an IPv6 one by its /64.
    sourceHost = sourceKey(sourceHost);
    const early = check(sourceHost);
    if (early) return { admitted: false, refusal: early };
    let username: string | undefined;
    if (this.authenticator && (this.#authRequiredFor?.(request) ?? true)) {
      const answered = this.authenticator.answeredUsername(request);
      const outcome = await this.authenticator.authenticate(request, sourceHost, (username) =>
        this.#locked(username, sourceHost)
      );
      if (!outcome.ok) {
        if (outcome.refusal.cause === 'auth_failed') this.#failed(answered as string, sourceHost);
        return { admitted: false, refusal: outcome.refusal };
      }
      // Answers sent side by side are looked up side by side: one whose lookup ended after the
      // lock began is refused like those that came after it.
      if (this.#locked(outcome.username, sourceHost)) return { admitted: false, refusal: LOCKED };
      // The shared count answers in a later turn: a lock made here meanwhile counts too.
      if (
        (await this.#lockedElsewhere(outcome.username, sourceHost)) ||
        this.#locked(outcome.username, sourceHost)
      )
        return { admitted: false, refusal: LOCKED };
      this.accountLockout?.succeeded(outcome.username, sourceHost);
      username = outcome.username;
      const late = check(sourceHost);
      if (late) return { admitted: false, refusal: late };
    }
    // Counted in the total; past the source's own ceilings under a key no check reads.
    const key = limited ? sourceHost : `${sourceHost} unlimited`;
    const release = this.limiter ? this.limiter.admit(key) : () => undefined;
    return username === undefined ? { admitted: true, release } : { admitted: true, username, release };
  }

  #locked(username: string, source: string): boolean {
    return (
      (this.authLockout?.locked(source) ?? false) || (this.accountLockout?.locked(username, source) ?? false)
    );
  }

  /** A wrong answer: counted for its source and, unless that source is known to it, its account. */
  #failed(username: string, source: string): void {
    const bySource = this.authLockout;
    if (bySource) {
      const lockedHere = bySource.fail(source);
      if (lockedHere) this.#onLockout?.(source, bySource.limits.lockMs / 1000);
      this.#share(`source:${source}`, bySource, (lockedNow) => {
        if (bySource.lock(source) && lockedNow) this.#onLockout?.(source, bySource.limits.lockMs / 1000);
      });
    }
    const byAccount = this.accountLockout;
    if (byAccount && !byAccount.knows(username, source)) {
      if (byAccount.fail(username, source))
        this.#onAccountLockout?.(username, byAccount.limits.lockMs / 1000);
      this.#share(`account:${accountKey(username)}`, byAccount, (lockedNow) => {
        if (byAccount.lock(username) && lockedNow)
          this.#onAccountLockout?.(username, byAccount.limits.lockMs / 1000);
      });
    }
  }

  /**
   * Tells the shared count of a wrong answer, and takes a lock it reports as this engine's own
   * (`lockedNow`: this answer made it, told once across the engines).
   */
  #share(key: string, lockout: { limits: FailureLockoutLimits }, lock: (lockedNow: boolean) => void): void {
    this.#sharedFailures()
      ?.fail(key, lockout.limits)
      .then((result) => {
        if (result !== 'counted') lock(result === 'lockedNow');
      })
      .catch(() => undefined);
  }

  /** Whether the shared count has locked `source` or, unless it knows `source`, `username`'s account. */
  async #lockedElsewhere(username: string, source: string): Promise<boolean> {
    const shared = this.#sharedFailures();
    if (!shared) return false;
    const unknown = (): boolean => false;
    const byAccount = this.accountLockout;
    const [sourceLocked, accountLocked] = await Promise.all([
      this.authLockout ? shared.locked(`source:${source}`).catch(unknown) : false,
      byAccount && !byAccount.knows(username, source)
        ? shared.locked(`account:${accountKey(username)}`).catch(unknown)
        : false
    ]);
    if (sourceLocked) this.authLockout?.lock(source);
    if (accountLocked) byAccount?.lock(username);
    return sourceLocked || accountLocked;
  }
}

/** What a locked source's answers get: the 403 of a wrong password, nothing more. */
const LOCKED: Refusal = { cause: 'auth_locked', status: 403, reason: 'Forbidden' };

/** A caller a trusted proxy forwarded whom the SIP source lists refuse: the 403 they give. */
const CALLER_DENIED: Refusal = { cause: 'source_denied', status: 403, reason: 'Forbidden' };

function lockoutLimits(
  given: AuthLockoutOptions | undefined,
  defaults: Required<AuthLockoutOptions>,
  option: string
): FailureLockoutLimits {
  return {
    failures: given?.failures ?? defaults.failures,
    windowMs: checkedSeconds(given?.windowSeconds ?? defaults.windowSeconds, `${option}.windowSeconds`),
    lockMs: checkedSeconds(given?.lockSeconds ?? defaults.lockSeconds, `${option}.lockSeconds`)
  };
}

function checkedSeconds(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number of seconds, got ${String(value)}`);
  return value * 1000;
}
