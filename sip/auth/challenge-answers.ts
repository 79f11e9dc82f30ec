/**
 * Our answers to the digest challenges (401/407) met by one request and its retries (RFC 3261
 * §22.2, §22.3): each retry answers every challenge seen so far, so a proxy that challenged first
 * still finds its credentials once a second proxy or the UAS challenges too. An answer counts
 * its nonce's uses and is sent again with the next count. A realm that challenges an answer
 * again has refused it, unless it says only the nonce was stale (RFC 7616 §3.3): that is
 * answered once more. A registration keeps its answers for its refreshes (`reuse`).
 */
import type { SipResponse } from '../message/message.js';
import { computeAuthorization, selectChallenge, type DigestChallenge, type DigestRequest } from './digest.js';

/** Our credentials; with `realm`, only a challenge of that realm is answered. */
export interface ClientCredentials {
  username: string;
  password: string;
  realm?: string;
}

/** Answers to challenges of one realm for one request: the first, and one to a `stale=true` nonce. */
const MAX_ATTEMPTS_PER_REALM = 2;
/** Realms answered for one request: the proxies in its path that challenge, and the UAS. */
const MAX_REALMS = 4;

export class ChallengeAnswers {
  readonly #answered = new Map<
    string,
    { proxy: boolean; challenge: DigestChallenge; uses: number; attempts: number }
  >();

  constructor(private readonly credentials: ClientCredentials) {}

  /**
   * The Authorization and Proxy-Authorization headers answering `response` (a 401 or 407 to
   * `request`) and every challenge before it, or undefined once a realm has been answered as
   * often as it may be. Throws the digest error of a challenge that cannot be answered.
   */
  answer(response: SipResponse, request: DigestRequest): Array<[string, string]> | undefined {
    const proxy = response.status === 407;
    const challenges = response.getAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
    const challenge = selectChallenge(challenges, this.credentials.realm);
    const key = `${proxy ? 'proxy' : 'www'} ${challenge.realm}`;
    const earlier = this.#answered.get(key);
    if (
      earlier
        ? earlier.attempts >= (challenge.stale ? MAX_ATTEMPTS_PER_REALM : 1)
        : this.#answered.size === MAX_REALMS
    )
      return undefined;
    // A new challenge of a realm replaces its old one (a new nonce starts its count again).
    this.#answered.set(key, { proxy, challenge, uses: 0, attempts: (earlier?.attempts ?? 0) + 1 });
    return this.#authorizations(request);
  }

  /**
   * Answers to every challenge kept, for a new request before anything challenges it: a nonce is
   * used again with the next count until its server asks anew (RFC 7616 §3.4). Each realm may
   * then be answered afresh as for a first challenge.
   */
  reuse(request: DigestRequest): Array<[string, string]> {
    for (const entry of this.#answered.values()) entry.attempts = 0;
    return this.#authorizations(request);
  }

  #authorizations(request: DigestRequest): Array<[string, string]> {
    const authorizations: Array<[string, string]> = [];
    for (const entry of this.#answered.values()) {
      entry.uses++;
      const header = entry.proxy ? 'Proxy-Authorization' : 'Authorization';
      authorizations.push([
        header,
        computeAuthorization(entry.challenge, this.credentials, request, entry.uses)
      ]);
    }
    return authorizations;
  }
}
