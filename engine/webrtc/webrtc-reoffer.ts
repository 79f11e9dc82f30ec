/**
 * The answer to a browser's re-offer that keeps its transport (same ICE credentials and DTLS
 * certificate): the answer the call already has, its audio direction turned to the one RFC 3264
 * §6.1 requires for the re-offer's. sip.js puts a call on hold by re-offering `a=sendonly`; the
 * unchanged `a=sendrecv` answer made Chromium refuse it ("Incompatible receive direction") and
 * sip.js end the call with BYE. A re-offer that adds, removes or closes a media section (a camera
 * added) is refused with 488, which leaves the call as it was; the old answer, one section short,
 * made Chromium refuse it and end the call the same way.
 */
import { SdpNegotiationError } from '../../sip/index.js';
import { mediaLines } from './webrtc-offer.js';

const DIRECTIONS = ['sendrecv', 'sendonly', 'recvonly', 'inactive'] as const;
type Direction = (typeof DIRECTIONS)[number];
const ANSWERING: Record<Direction, Direction> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive'
};

function directionOf(lines: string[], fallback: Direction): Direction {
  for (const line of lines) {
    const value = line.startsWith('a=') ? line.slice(2).trim() : '';
    if ((DIRECTIONS as readonly string[]).includes(value)) return value as Direction;
  }
  return fallback;
}

/** The session-level lines of an SDP: those before its first `m=`. */
function sessionLines(sdp: string): string[] {
  const lines: string[] = [];
  for (const raw of sdp.split('\n')) {
    if (raw.startsWith('m=')) break;
    lines.push(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  }
  return lines;
}

const shape = (sdp: string): string =>
  mediaLines(sdp)
    .map((m) => `${m.media}:${m.port === '0' ? 'closed' : 'open'}`)
    .join(' ');

/**
 * `kept.local` answering `offer`, a re-offer of `kept.remote`'s transport. Throws
 * SdpNegotiationError (488) when the offer's media sections differ from the first offer's.
 */
export function answerWebRtcReoffer(offer: string, kept: { remote: string; local: string }): string {
  if (shape(offer) !== shape(kept.remote))
    throw new SdpNegotiationError(
      `a WebRTC re-offer must keep the media sections of the first offer (${shape(kept.remote)}), not ${shape(offer)}`
    );
  const offered = mediaLines(offer).map(
    (m) => ANSWERING[directionOf(m.lines, directionOf(sessionLines(offer), 'sendrecv'))]
  );
  let section = -1;
  return kept.local
    .split('\n')
    .map((raw) => {
      if (raw.startsWith('m=')) section++;
      const cr = raw.endsWith('\r') ? '\r' : '';
      const line = cr ? raw.slice(0, -1) : raw;
      if (section < 0 || !(DIRECTIONS as readonly string[]).includes(line.slice(2)) || !line.startsWith('a='))
        return raw;
      return `a=${offered[section] ?? line.slice(2)}${cr}`;
    })
    .join('\n');
}
