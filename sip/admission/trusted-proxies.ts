/**
 * The caller behind a proxy we trust. A proxy in front (the Kamailio of `npm run cluster`) sends
 * every caller's INVITE from its own address, so the door would count and check the proxy: one
 * guesser through it locked every caller out (the digest lockout per source), and the ceilings
 * per source held all callers together. Such a proxy names the caller's address in
 * `X-Uasmedia-Source`; on an INVITE from a trusted proxy the door takes that address as the
 * source. From anyone else the header means nothing.
 */
import { isIP } from 'node:net';
import type { SipRequest } from '../message/message.js';
import { SourceFilter } from './source-filter.js';

export const FORWARDED_SOURCE_HEADER = 'X-Uasmedia-Source';
/** `yes` when the proxy found the caller behind NAT and stays in its dialog (its requests reach it only so). */
export const FORWARDED_NAT_HEADER = 'X-Uasmedia-Nat';

export class TrustedProxies {
  readonly #proxies: SourceFilter;

  /** `entries`: addresses or CIDR blocks; at least one. */
  constructor(entries: readonly string[]) {
    if (!Array.isArray(entries) || entries.length === 0)
      throw new RangeError('trustedProxies must list at least one address or CIDR block');
    this.#proxies = new SourceFilter({ allow: entries }, { allow: 'trustedProxies', deny: 'trustedProxies' });
  }

  /**
   * The caller a trusted proxy names for `request`, or undefined when it came from elsewhere or
   * names none. The last header counts: a proxy that appends its own without removing the
   * caller's still has the last word.
   */
  callerOf(request: SipRequest, sourceHost: string): string | undefined {
    if (!this.#proxies.allows(sourceHost)) return undefined;
    const named = request.getAll(FORWARDED_SOURCE_HEADER).at(-1)?.trim();
    return named !== undefined && isIP(named) !== 0 ? named : undefined;
  }

  /** Whether a trusted proxy says `request`'s caller is behind NAT (its dialog then wants keep-alives). */
  callerBehindNat(request: SipRequest, sourceHost: string): boolean {
    if (!this.#proxies.allows(sourceHost)) return false;
    return request.getAll(FORWARDED_NAT_HEADER).at(-1)?.trim().toLowerCase() === 'yes';
  }
}
