/**
 * Tells a WebRTC offer (RFC 8829 / RFC 8834: ICE, DTLS-SRTP, `UDP/TLS/RTP/SAVPF`) from a
 * phone's plain RTP offer, and refuses one the engine cannot answer before any peer
 * connection exists. A line scanner over the SDP text; no backtracking patterns.
 */
import { SdpNegotiationError } from '../../sip/index.js';
import { webRtcTransports, type WebRtcOptions } from './webrtc-options.js';

export type MediaSection = { media: string; port: string; proto: string; lines: string[] };

/** An SDP's lines, carriage returns taken off: those before its first `m=`, then each media section's. */
export function sdpLines(sdp: string): { session: string[]; media: MediaSection[] } {
  const session: string[] = [];
  const media: MediaSection[] = [];
  for (const raw of sdp.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('m=')) {
      const [kind = '', port = '', proto = ''] = line.slice(2).split(' ');
      media.push({ media: kind, port, proto, lines: [] });
    } else if (media.length > 0) {
      media[media.length - 1].lines.push(line);
    } else {
      session.push(line);
    }
  }
  return { session, media };
}

export function mediaLines(sdp: string): MediaSection[] {
  return sdpLines(sdp).media;
}

/**
 * The ICE transports an offer asks for: one for the open sections its BUNDLE group names
 * (RFC 9143), one for each other open section. Each is a set of sockets the peer connection gathers.
 */
export function iceTransports(sdp: string): number {
  const { session, media } = sdpLines(sdp);
  const bundled = new Set<string>();
  for (const line of session) {
    if (line.startsWith('a=group:BUNDLE ')) for (const mid of line.slice(15).split(' ')) bundled.add(mid);
  }
  let unbundled = 0;
  let anyBundled = false;
  for (const section of media) {
    if (section.port === '0') continue;
    const mid = section.lines
      .find((l) => l.startsWith('a=mid:'))
      ?.slice(6)
      .trim();
    if (mid !== undefined && bundled.has(mid)) anyBundled = true;
    else unbundled++;
  }
  return unbundled + (anyBundled ? 1 : 0);
}

/** Whether any media section uses a DTLS-SRTP profile (then a peer connection answers it). */
export function isWebRtcOffer(sdp: string): boolean {
  return mediaLines(sdp).some(
    (m) => m.proto.startsWith('UDP/TLS/RTP/') || m.proto.startsWith('TCP/DTLS/RTP/')
  );
}

/** The first value of each attribute that names a WebRTC transport: ICE credentials and the DTLS certificate. */
function transportIdentity(sdp: string): string | undefined {
  const wanted = ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:'];
  const found: string[] = [];
  for (const prefix of wanted) {
    let value: string | undefined;
    for (const raw of sdp.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.startsWith(prefix)) {
        value = line.slice(prefix.length).trim().toLowerCase();
        break;
      }
    }
    if (value === undefined || value.length === 0) return undefined;
    found.push(value);
  }
  return found.join(' ');
}

/**
 * Whether two WebRTC descriptions name the same transport: the same ICE username fragment and
 * password and the same DTLS fingerprint, so no ICE restart and no new certificate. A browser's
 * session refresh (RFC 4028) re-offers so.
 */
export function sameWebRtcTransport(a: string, b: string): boolean {
  const identity = transportIdentity(a);
  return identity !== undefined && identity === transportIdentity(b);
}

/**
 * Most media sections, and of them most not refused (port 0), an offer may have: a browser's has
 * one audio section, perhaps video and data beside it. The peer connection opens sockets for
 * each section it does not bundle: one INVITE with 300 sections took 2,400 sockets for 30 s.
 */
const MAX_SECTIONS = 16;
const MAX_OPEN_SECTIONS = 4;
/** Most ICE candidates: each is a remote address the engine sends connectivity checks to. */
const MAX_CANDIDATES = 32;

/**
 * Throws SdpNegotiationError (488) unless the offer has an audio section with Opus and a DTLS
 * fingerprint, and no more sections or candidates than a browser sends.
 */
export function checkWebRtcOffer(sdp: string): void {
  const sections = mediaLines(sdp);
  const open = sections.filter((m) => m.port !== '0');
  if (sections.length > MAX_SECTIONS || open.length > MAX_OPEN_SECTIONS) {
    throw new SdpNegotiationError(
      `the WebRTC offer has ${sections.length} media sections, ${open.length} of them open ` +
        `(at most ${MAX_SECTIONS}, ${MAX_OPEN_SECTIONS} open)`
    );
  }
  let candidates = 0;
  for (const m of sections) for (const l of m.lines) if (l.startsWith('a=candidate:')) candidates++;
  if (candidates > MAX_CANDIDATES)
    throw new SdpNegotiationError(
      `the WebRTC offer has ${candidates} ICE candidates (at most ${MAX_CANDIDATES})`
    );
  const audio = open.filter((m) => m.media === 'audio');
  if (audio.length === 0)
    throw new SdpNegotiationError('the WebRTC offer has no audio section (only audio is taken)');
  const section = audio[0];
  if (!section.proto.includes('SAVPF'))
    throw new SdpNegotiationError(`audio profile ${section.proto} is not UDP/TLS/RTP/SAVPF`);
  if (
    !section.lines.some(
      (l) => l.toLowerCase().startsWith('a=rtpmap:') && l.toLowerCase().includes(' opus/48000')
    )
  ) {
    throw new SdpNegotiationError('the WebRTC offer does not offer Opus');
  }
  // @roamhq/wrtc 0.10 aborts the process (rtp_sender.cc: "Check failed:
  // current_parameters.encodings.size() >= init_parameters_.encodings.size()") answering an audio
  // section that asks us to send simulcast (RFC 8853, `a=simulcast:recv a;b`), every call with it.
  // No browser sends simulcast audio.
  if (
    sections.some(
      (m) => m.media === 'audio' && m.lines.some((l) => l.toLowerCase().startsWith('a=simulcast'))
    )
  )
    throw new SdpNegotiationError('the WebRTC offer has simulcast audio (RFC 8853), which is not taken');
  const sessionFingerprint = sdp.includes('\na=fingerprint:');
  if (!sessionFingerprint)
    throw new SdpNegotiationError('the WebRTC offer has no DTLS fingerprint (RFC 8122)');
}

/**
 * Throws SdpNegotiationError (488) when the peer connection's answer refuses every audio section
 * (port 0): @roamhq/wrtc takes a profile it does not speak (`TCP/DTLS/RTP/SAVPF`, a misspelt one)
 * without an error and rejects the section. Such an answer gathers no candidate, so it held the
 * process-wide answer turn for the whole gathering timeout, and the call was then answered 200
 * with no media at all.
 */
export function checkWebRtcAnswer(answerSdp: string): void {
  const audio = mediaLines(answerSdp).filter((m) => m.media === 'audio' && m.port !== '0');
  if (audio.length === 0)
    throw new SdpNegotiationError("the peer connection refused the offer's audio section");
}

/**
 * Throws SdpNegotiationError (488) unless a WebRTC offer that came over SIP transport `protocol`
 * may be taken there (`webrtc.transports`) and passes `checkWebRtcOffer`.
 */
export function checkWebRtcOfferOver(
  sdp: string,
  protocol: string,
  options: WebRtcOptions | undefined
): void {
  const transports = webRtcTransports(options);
  if (!transports.includes(protocol))
    throw new SdpNegotiationError(
      `a WebRTC offer is taken over ${transports.join(', ')} only, not ${protocol} (webrtc.transports)`
    );
  checkWebRtcOffer(sdp);
}
