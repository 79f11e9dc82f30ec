/**
 * The address a host bound to a wildcard (0.0.0.0, ::) names for itself where no better one is
 * known: the first non-loopback IPv4 interface; with `ipv6Allowed`, on a host without one, the
 * first global IPv6; else loopback.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

export function interfaceAddress(ipv6Allowed = false): string {
  const all = Object.values(networkInterfaces())
    .flat()
    .filter((i): i is NetworkInterfaceInfo => i !== undefined && !i.internal);
  const ipv4 = all.find((i) => i.family === 'IPv4');
  if (ipv4) return ipv4.address;
  const ipv6 = ipv6Allowed ? all.find((i) => i.family === 'IPv6' && i.scopeid === 0) : undefined;
  return ipv6?.address ?? '127.0.0.1';
}
