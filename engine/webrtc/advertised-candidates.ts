/**
 * An engine behind 1:1 NAT (a cloud host whose public address is on no interface) gathers ICE
 * host candidates at its private address, which a browser on the Internet cannot reach; phones
 * reach it through `rtp.advertisedAddress`. As FreeSWITCH's ext-rtp-ip and Janus's
 * nat_1_1_mapping do, the answer also names each UDP host candidate at the advertised address,
 * same port, as a server-reflexive candidate (RFC 8445 §5.1.1.2: what the NAT maps it to) with its
 * private address as the base, so browsers on the host's own network still use the host one.
 * A line scanner; no patterns that backtrack.
 */
import { isIP } from 'node:net';

/** RFC 8445 §5.1.2.2: type preference of server-reflexive candidates. */
const SRFLX_TYPE_PREFERENCE = 100;
/** RFC 8839 §5.1: a foundation is 1 to 32 ice-chars. */
const MAX_FOUNDATION = 32;

/** `sdp` with a candidate at `address` after each UDP host candidate of its family. */
export function withAdvertisedCandidates(sdp: string, address: string | undefined): string {
  if (address === undefined) return sdp;
  const family = isIP(address);
  if (family === 0) return sdp;
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(eol);
  const out: string[] = [];
  for (const line of lines) {
    out.push(line);
    const mapped = mappedCandidate(line, address, family);
    if (mapped !== undefined && !lines.includes(mapped)) out.push(mapped);
  }
  return out.join(eol);
}

/** The srflx twin of a UDP host candidate line at `address`, or undefined for any other line. */
function mappedCandidate(line: string, address: string, family: number): string | undefined {
  if (!line.startsWith('a=candidate:')) return undefined;
  // foundation component transport priority address port "typ" type [extensions]
  const fields = line.slice('a=candidate:'.length).split(' ');
  if (fields.length < 8 || fields[6] !== 'typ' || fields[7] !== 'host') return undefined;
  const [foundation, component, transport, priority, host, port] = fields;
  if (transport.toLowerCase() !== 'udp' || isIP(host) !== family || host === address) return undefined;
  const componentId = Number(component);
  const localPreference = Math.floor(Number(priority) / 256) % 65536;
  if (!Number.isInteger(componentId) || componentId < 1 || componentId > 256) return undefined;
  const srflxPriority = SRFLX_TYPE_PREFERENCE * 2 ** 24 + localPreference * 2 ** 8 + (256 - componentId);
  const mappedFoundation = `n${foundation}`.slice(0, MAX_FOUNDATION);
  const extensions = fields.slice(8).join(' ');
  return (
    `a=candidate:${mappedFoundation} ${component} ${transport} ${srflxPriority} ${address} ${port} ` +
    `typ srflx raddr ${host} rport ${port}${extensions.length > 0 ? ` ${extensions}` : ''}`
  );
}
