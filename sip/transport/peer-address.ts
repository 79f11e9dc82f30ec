/**
 * One spelling of a peer's IPv4 address. A dual-stack socket reports an IPv4 peer as
 * `::ffff:192.0.2.7` (IPv4-mapped IPv6) where an IPv4 socket says `192.0.2.7`: connection tables,
 * per-source ceilings and comparisons with an SDP or Via address all use the plain form.
 */
import { isIPv4 } from 'node:net';

export function unmappedAddress(address: string): string {
  return (address.startsWith('::ffff:') || address.startsWith('::FFFF:')) && isIPv4(address.slice(7))
    ? address.slice(7)
    : address;
}
