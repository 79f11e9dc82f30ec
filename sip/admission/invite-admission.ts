/**
 * The door for new incoming calls: every out-of-dialog INVITE passes here before a channel,
 * a port or any media exists. In order, cheapest first: the guard (the engine's overload
 * check), the call ceilings, then digest authentication, and the ceilings once more, since the
 * credentials lookup is asynchronous and other calls may have come in meanwhile. A call that
 * passes takes its place in the ceilings until `release()`.
 */
import type { SipRequest } from '../message/message.js';
import { DigestAuthenticator, type DigestAuthenticatorOptions } from '../auth/digest-server.js';
import { CallLimiter, type CallLimitOptions } from './call-limiter.js';
import type { Refusal } from './refusal.js';
import { sourceKey } from './source-key.js';

export interface InviteAdmissionOptions {
  limits?: CallLimitOptions;
  /** Digest authentication; `requiredFor` narrows it to some requests (default: every INVITE). */
  auth?: DigestAuthenticatorOptions & { requiredFor?: (request: SipRequest) => boolean };
  /** A check before all others: a refusal, or undefined to go on (the engine's overload guard). */
  guard?: () => Refusal | undefined;
  /** Monotonic ms clock for the rate limits, injectable for tests. */
  now?: () => number;
}

export type AdmissionResult =
  { admitted: true; username?: string; release: () => void } | { admitted: false; refusal: Refusal };

export class InviteAdmission {
  readonly limiter: CallLimiter | undefined;
  readonly authenticator: DigestAuthenticator | undefined;
  readonly #guard: (() => Refusal | undefined) | undefined;
  readonly #authRequiredFor: ((request: SipRequest) => boolean) | undefined;

  constructor(options: InviteAdmissionOptions) {
    this.limiter = options.limits ? new CallLimiter(options.limits, options.now) : undefined;
    this.authenticator = options.auth ? new DigestAuthenticator(options.auth) : undefined;
    this.#authRequiredFor = options.auth?.requiredFor;
    this.#guard = options.guard;
  }

  /** Decides on a new INVITE from `sourceHost` (the address it came from, not what its Via claims). */
  async admit(request: SipRequest, sourceHost: string): Promise<AdmissionResult> {
    // One host, one key: an IPv4 peer however the socket spelled it, an IPv6 one by its /64.
    sourceHost = sourceKey(sourceHost);
    const early = this.#guard?.() ?? this.limiter?.check(sourceHost);
    if (early) return { admitted: false, refusal: early };
    let username: string | undefined;
    if (this.authenticator && (this.#authRequiredFor?.(request) ?? true)) {
      const outcome = await this.authenticator.authenticate(request);
      if (!outcome.ok) return { admitted: false, refusal: outcome.refusal };
      username = outcome.username;
      const late = this.#guard?.() ?? this.limiter?.check(sourceHost);
      if (late) return { admitted: false, refusal: late };
    }
    const release = this.limiter ? this.limiter.admit(sourceHost) : () => undefined;
    return username === undefined ? { admitted: true, release } : { admitted: true, username, release };
  }
}
