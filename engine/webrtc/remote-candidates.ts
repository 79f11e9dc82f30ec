/**
 * The ICE candidates of a browser's offer the peer connection is given. @roamhq/wrtc opens a TCP
 * connection from each of its TCP host candidates to every TCP candidate an offer names (RFC 6544
 * passive or simultaneous-open), whatever its address and port, and keeps it for the call,
 * sending STUN over it: one offer of 32 such candidates had the engine connect 64 times to ports of
 * the caller's choosing, on any host it can reach (its own, its LAN's), and the 156 peer
 * connections a process holds 10,000 times. A browser never needs the engine to connect to it:
 * it offers TCP candidates of type active, and connects to the engine's own passive candidate
 * (in the answer) if UDP is blocked. So every TCP candidate of the offer is dropped; UDP ones stay.
 * A line scanner; no patterns that backtrack.
 */

/** `sdp` without its `a=candidate` lines whose transport is TCP. */
export function withoutTcpCandidates(sdp: string): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .filter((line) => !isTcpCandidate(line))
    .join(eol);
}

function isTcpCandidate(line: string): boolean {
  if (!line.startsWith('a=candidate:')) return false;
  // foundation component transport priority address port "typ" type [extensions]
  const transport = line.slice('a=candidate:'.length).split(' ')[2] ?? '';
  return transport.toLowerCase() === 'tcp';
}
