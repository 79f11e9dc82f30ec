/**
 * Who may send to us: allow and deny lists of CIDR blocks (IPv4 and IPv6) checked with
 * `node:net`'s `BlockList`. A source passes when it matches no deny entry and, if an allow list
 * is given, matches one of its entries. IPv4-mapped IPv6 sources (`::ffff:192.0.2.1`, what a
 * dual-stack socket reports) are checked as the IPv4 address they carry.
 */
import { BlockList, isIP } from 'node:net';

export interface SourceFilterOptions {
  /** CIDR blocks or single addresses; when non-empty, only these may send. */
  allow?: readonly string[];
  /** CIDR blocks or single addresses that may never send (wins over `allow`). */
  deny?: readonly string[];
}

const MAPPED_V4_PREFIX = '::ffff:';

export class SourceFilter {
  readonly #allow: BlockList | undefined;
  readonly #deny: BlockList | undefined;
  /** The last address checked and its verdict: one peer sends many packets in a row. */
  #lastAddress = '';
  #lastVerdict = true;

  /** `names`: what errors call the two lists (an option's name). */
  constructor(options: SourceFilterOptions, names = { allow: 'allow', deny: 'deny' }) {
    this.#allow =
      options.allow && options.allow.length > 0 ? blockListOf(options.allow, names.allow) : undefined;
    this.#deny = options.deny && options.deny.length > 0 ? blockListOf(options.deny, names.deny) : undefined;
  }

  /** Whether the filter can refuse anything at all. */
  get restricts(): boolean {
    return this.#allow !== undefined || this.#deny !== undefined;
  }

  /** Whether `address` (an IP literal as a socket reports it) may send. */
  allows(address: string): boolean {
    if (address === this.#lastAddress) return this.#lastVerdict;
    const verdict = this.#check(address);
    this.#lastAddress = address;
    this.#lastVerdict = verdict;
    return verdict;
  }

  #check(raw: string): boolean {
    let address = raw;
    let family = isIP(address);
    if (
      family === 6 &&
      address.toLowerCase().startsWith(MAPPED_V4_PREFIX) &&
      isIP(address.slice(MAPPED_V4_PREFIX.length)) === 4
    ) {
      address = address.slice(MAPPED_V4_PREFIX.length);
      family = 4;
    }
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (this.#deny?.check(address, type)) return false;
    return this.#allow === undefined || this.#allow.check(address, type);
  }
}

/** Reads `10.0.0.0/8`, `2001:db8::/32` or a bare address; throws a RangeError naming the bad entry. */
function blockListOf(entries: readonly string[], listName: string): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    if (typeof entry !== 'string')
      throw new TypeError(`${listName} list entries must be strings, got ${typeof entry}`);
    const text = entry.trim();
    const slash = text.indexOf('/');
    const address = slash < 0 ? text : text.slice(0, slash);
    const family = isIP(address);
    if (family === 0)
      throw new RangeError(`${listName} list entry '${entry}' must be an IPv4 or IPv6 address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const maxPrefix = family === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(maxPrefix) : text.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= maxPrefix)) {
      throw new RangeError(
        `${listName} list entry '${entry}' has prefix length '${prefixText}', expected 0-${maxPrefix}`
      );
    }
    list.addSubnet(address, prefix, type);
  }
  return list;
}
