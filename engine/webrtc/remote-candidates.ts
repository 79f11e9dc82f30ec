/**
 * The ICE candidates of a browser's offer the peer connection is given: those a browser could be
 * reached at, and no others. A line scanner; no patterns that backtrack.
 *
 * - TCP candidates are dropped. @roamhq/wrtc opens a TCP connection from each of its TCP host
 *   candidates to every TCP candidate an offer names (RFC 6544 passive or simultaneous-open),
 *   whatever its address and port, and keeps it for the call, sending STUN over it: one offer of
 *   32 such candidates had the engine connect 64 times to ports of the caller's choosing, on any
 *   host it can reach (its own, its LAN's), and the 156 peer connections a process holds 10,000
 *   times. A browser never needs the engine to connect to it: it offers TCP candidates of type
 *   active, and connects to the engine's own passive candidate (in the answer) if UDP is blocked.
 * - Candidates whose address is a host name are dropped: libwebrtc resolves each with the
 *   system's resolver (a candidate naming `localhost` drew 17 checks to 127.0.0.1), so an offer
 *   had the engine look up 32 names of a stranger's choosing in its own DNS, and check whatever
 *   internal addresses they stood for. A browser's are IP addresses, or mDNS `.local` names
 *   (RFC 8828 §5.2) that only a peer on its own link could resolve.
 * - Candidates that name no one peer are dropped: an unspecified address (0.0.0.0, ::), a
 *   multicast group, the limited broadcast address, port 0.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** `sdp` without the `a=candidate` lines the peer connection must not be given (see above). */
export function usableRemoteCandidates(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .filter((line) => !line.startsWith('a=candidate:') || usable(line))
    .join(eol);
}

function usable(line: string): boolean {
  // RFC 8839 §5.1: foundation component-id transport priority connection-address port "typ" type …
  const fields = line.slice('a=candidate:'.length).split(' ');
  const transport = (fields[2] ?? '').toLowerCase();
  const address = fields[4] ?? '';
  const port = Number(fields[5]);
  if (transport === 'tcp') return false;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return false;
  if (isIPv4(address)) return unicastIPv4(address);
  if (isIPv6(address)) return unicastIPv6(address);
  return false;
}

function unicastIPv4(address: string): boolean {
  const first = Number(address.slice(0, address.indexOf('.')));
  // 0.0.0.0/8 "this network", 224.0.0.0/4 multicast, 240.0.0.0/4 reserved and 255.255.255.255.
  return first !== 0 && first < 224;
}

function unicastIPv6(address: string): boolean {
  const lower = address.toLowerCase();
  // ::ffff:a.b.c.d is the IPv4 host a.b.c.d (RFC 4291 §2.5.5.2).
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return unicastIPv4(lower.slice(7));
  // ff00::/8 multicast.
  if (lower.startsWith('ff')) return false;
  // :: unspecified (any spelling of all zeros).
  for (let i = 0; i < lower.length; i++) if (lower[i] !== '0' && lower[i] !== ':') return true;
  return false;
}
