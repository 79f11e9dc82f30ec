/**
 * The answer to a browser's re-offer that keeps its transport (same ICE credentials and DTLS
 * certificate): the answer the call already has, its audio direction turned to the one RFC 3264
 * §6.1 requires for the re-offer's. sip.js puts a call on hold by re-offering `a=sendonly`; the
 * unchanged `a=sendrecv` answer made Chromium refuse it ("Incompatible receive direction") and
 * sip.js end the call with BYE. A section the re-offer adds (a camera) is refused in the answer
 * (port 0): the old answer, one section short, made Chromium refuse it and end the call the same
 * way. A re-offer that closes or changes one of the first offer's sections gets 488. An ICE
 * restart (new ICE credentials) is answered by the peer connection (media-leg.ts); its offer is
 * checked here.
 */
import { SdpNegotiationError } from '../../sip/index.js';
import { checkWebRtcOffer, mediaLines, sdpLines, type MediaSection } from './webrtc-offer.js';

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

const shape = (sections: MediaSection[]): string =>
  sections.map((m) => `${m.media}:${m.port === '0' ? 'closed' : 'open'}`).join(' ');

/**
 * Each section the re-offer adds past the first offer's, refused (port 0, RFC 3264 §6): the
 * answer has as many sections as the offer, and the peer connection's media stays as it is.
 */
function refusedSections(added: MediaSection[]): string {
  return added
    .map((m) => {
      const format =
        m.lines
          .find((l) => l.startsWith('a=rtpmap:'))
          ?.slice(9)
          .split(' ')[0] ?? '0';
      const mid = m.lines.find((l) => l.startsWith('a=mid:'));
      return `m=${m.media} 0 ${m.proto} ${format}\r\nc=IN IP4 0.0.0.0\r\n${mid ? `${mid}\r\n` : ''}a=inactive\r\n`;
    })
    .join('');
}

/**
 * `kept.local` answering `offer`, a re-offer of `kept.remote`'s transport. Throws
 * SdpNegotiationError (488) when the offer is no offer a browser makes (checkWebRtcOffer), or
 * its first sections differ from the first offer's.
 */
export function answerWebRtcReoffer(offer: string, kept: { remote: string; local: string }): string {
  checkWebRtcOffer(offer);
  const { session, media: sections } = sdpLines(offer);
  const first = mediaLines(kept.remote);
  if (shape(sections.slice(0, first.length)) !== shape(first))
    throw new SdpNegotiationError(
      `a WebRTC re-offer must keep the media sections of the first offer (${shape(first)}), not ${shape(sections)}`
    );
  const offered = sections.map((m) => ANSWERING[directionOf(m.lines, directionOf(session, 'sendrecv'))]);
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
    .join('\n')
    .concat(refusedSections(sections.slice(first.length)));
}

/**
 * Throws SdpNegotiationError (488) unless `offer`, an ICE restart of the browser's call whose
 * first offer was `first`, is an offer a browser makes with the same media sections: the peer
 * connection answers it itself, and a section it added (a camera) would be answered as its own.
 */
export function checkWebRtcRestart(offer: string, first: string): void {
  checkWebRtcOffer(offer);
  const was = shape(mediaLines(first));
  const now = shape(mediaLines(offer));
  if (now !== was)
    throw new SdpNegotiationError(
      `an ICE restart must keep the media sections of the first offer (${was}), not ${now}`
    );
}
