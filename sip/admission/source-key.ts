/**
 * What one "source" is for the per-source ceilings (calls, call rate, connections): an IPv4
 * address, or an IPv6 /64. A /64 is the least a site or a phone is given (RFC 6177, RFC 7934)
 * and its interface identifiers are the host's own to choose (RFC 4291 §2.5.1, RFC 8981): keyed
 * by the full address, one host could rotate through 2^64 of them and have a fresh quota each
 * time. An IPv4 peer is one key however it is spelled (`192.0.2.7`, `::ffff:192.0.2.7`,
 * `::ffff:c000:207`); a link-local /64 is one per interface (the zone is part of the key). Anything that is
 * not an IP address is its own key, in lower case.
 */
import { isIPv4, isIPv6 } from 'node:net';

export function sourceKey(host: string): string {
  let address = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(address)) return address;
  const zoneAt = address.indexOf('%');
  const zone = zoneAt < 0 ? '' : address.slice(zoneAt);
  if (zoneAt >= 0) address = address.slice(0, zoneAt);
  const groups = isIPv6(address) ? ipv6Groups(address) : undefined;
  if (!groups) return host.toLowerCase();
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d is the IPv4 host a.b.c.d.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  const prefix = groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':');
  return `${prefix}::${zone}/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (compressed, mixed IPv4 notation or not). */
function ipv6Groups(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a, b, c, d] = piece.split('.').map(Number);
        groups.push((a << 8) | b, (c << 8) | d);
      } else {
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}
