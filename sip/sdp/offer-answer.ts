/**
 * RFC 3264 offer/answer for one audio stream: build our offer, answer a peer's offer, and read
 * the peer's answer to ours. Other streams (video, a second audio, non-RTP/AVP transports) are
 * rejected with port 0 in the same position (RFC 3264 §6). Stateless: `SdpSession` adds the
 * o= version bookkeeping on top.
 */

import { randomInt } from 'node:crypto';
import { BlockList, isIP, isIPv6 } from 'node:net';
import { SDP_WARNINGS, SdpNegotiationError, SdpParseError } from './errors.js';
import {
  AUDIO_CODECS,
  DEFAULT_PTIME_MS,
  SUPPORTED_TELEPHONE_EVENTS,
  TELEPHONE_EVENT_PAYLOAD_TYPE,
  audioCodecOf,
  isComfortNoise,
  isTelephoneEvent,
  validateCapabilities,
  type AudioCodec,
  type LocalMediaCapabilities,
  type MediaAddressType,
  type NegotiatedAudio
} from './media-capabilities.js';
import { parseSdp } from './parse.js';
import {
  formatTelephoneEvents,
  isRtpAvp,
  maxPacketTimeMs,
  packetTimeMs,
  ipLiteralFamily,
  rtcpAttribute,
  rtpFormats,
  telephoneEvents,
  type RtpFormat
} from './rtp-formats.js';
import { serializeSdp } from './serialize.js';
import {
  formatCryptoAttribute,
  hasCryptoAttribute,
  isRtpSavp,
  mediaCryptos,
  type NegotiatedSrtp,
  type SdesCrypto
} from './sdes.js';
import {
  mediaConnection,
  mediaDirection,
  type MediaDescription,
  type MediaDirection,
  type SdpAttribute,
  type SdpConnection,
  type SdpOrigin,
  type SessionDescription
} from './session-description.js';

/** Builds the SDP offer for `local` (RFC 3264 §5). */
export function createOffer(local: LocalMediaCapabilities): string {
  return serializeSdp(buildOffer(local, originFor(local)));
}

/** Answers `offerText` (RFC 3264 §6). Throws `SdpParseError` (400) or `SdpNegotiationError` (488). */
export function createAnswer(
  offerText: string,
  local: LocalMediaCapabilities
): { answer: string; audio: NegotiatedAudio } {
  const { answer, audio } = answerOffer(parseSdp(offerText), local, originFor(local));
  return { answer: serializeSdp(answer), audio };
}

/**
 * The address of the offer's first active RTP audio stream, where its audio goes; undefined when
 * the offer does not parse or has none (answering it says why).
 */
export function offeredAudioAddress(offerText: string): string | undefined {
  let offer: SessionDescription;
  try {
    offer = parseSdp(offerText);
  } catch {
    return undefined;
  }
  const audio = offer.media.find(
    (media) => media.media.toLowerCase() === 'audio' && media.port !== 0 && isRtpProfile(media)
  );
  return audio && mediaConnection(offer, audio)?.address;
}

/** Reads the peer's answer to our offer (RFC 3264 §7). Throws `SdpParseError` or `SdpNegotiationError`. */
export function processAnswer(offerText: string, answerText: string): NegotiatedAudio {
  return negotiateAnswer(parseSdp(offerText), parseSdp(answerText));
}

/** Our o= line from the capabilities: a random session id unless one is given (RFC 4566 §5.2). */
export function originFor(local: LocalMediaCapabilities): SdpOrigin {
  return {
    username: local.username ?? '-',
    sessionId: local.sessionId ?? String(randomInt(1, 2 ** 47)),
    sessionVersion: String(local.sessionVersion ?? 0),
    netType: 'IN',
    addressType: addressType(local.address),
    address: local.address
  };
}

export function buildOffer(local: LocalMediaCapabilities, origin: SdpOrigin): SessionDescription {
  validateCapabilities(local);
  const formats: string[] = [];
  const attributes: SdpAttribute[] = [];
  for (const codec of dedupe(local.codecs)) {
    const info = AUDIO_CODECS[codec];
    formats.push(String(info.payloadType));
    attributes.push({
      name: 'rtpmap',
      value: `${info.payloadType} ${info.encodingName}/${info.clockRateHz}`
    });
  }
  if (local.telephoneEvent) {
    formats.push(String(TELEPHONE_EVENT_PAYLOAD_TYPE));
    attributes.push({ name: 'rtpmap', value: `${TELEPHONE_EVENT_PAYLOAD_TYPE} telephone-event/8000` });
    attributes.push({
      name: 'fmtp',
      value: `${TELEPHONE_EVENT_PAYLOAD_TYPE} ${formatTelephoneEvents(SUPPORTED_TELEPHONE_EVENTS)}`
    });
  }
  attributes.push({ name: 'ptime', value: String(local.ptimeMs ?? DEFAULT_PTIME_MS) });
  attributes.push({ name: local.direction ?? 'sendrecv' });
  const policy = local.srtp ?? 'off';
  if (policy !== 'off') {
    for (const crypto of ourKeys(local))
      attributes.push({ name: 'crypto', value: formatCryptoAttribute(crypto) });
  }
  // RFC 4568 §3.1.4 allows a=crypto on RTP/AVP: the peer may use SRTP or ignore it (best effort).
  return skeleton(local, origin, [
    audioMedia(local.port, formats, attributes, policy === 'required' ? 'RTP/SAVP' : 'RTP/AVP')
  ]);
}

function ourKeys(local: LocalMediaCapabilities): SdesCrypto[] {
  if (local.sdesKeys === undefined || local.sdesKeys.length === 0)
    throw new TypeError('SRTP is on but no SDES keys were given');
  return local.sdesKeys;
}

/** True for the RTP transports we answer: RTP/AVP and RTP/SAVP. */
function isRtpProfile(media: MediaDescription): boolean {
  return isRtpAvp(media) || isRtpSavp(media);
}

/**
 * RFC 4568 §7.1.2: which offered crypto line we take (the first whose suite we have a key for),
 * or why the stream cannot be accepted under our policy. `undefined` crypto means plain RTP.
 */
function chooseCrypto(
  offered: MediaDescription,
  local: LocalMediaCapabilities
): { ours: SdesCrypto; theirs: SdesCrypto } | undefined | string {
  const policy = local.srtp ?? 'off';
  const savp = isRtpSavp(offered);
  if (policy === 'off') return savp ? 'the offer asks for SRTP (RTP/SAVP) and SRTP is off here' : undefined;
  for (const theirs of mediaCryptos(offered)) {
    const key = ourKeys(local).find((k) => k.suite === theirs.suite);
    // Our own key offered back (a reflected offer): our packets bounced to us would authenticate.
    if (key !== undefined && !key.keySalt.equals(theirs.keySalt))
      return { ours: { ...key, tag: theirs.tag }, theirs };
  }
  if (savp || policy === 'required') {
    return hasCryptoAttribute(offered)
      ? 'no offered a=crypto line is usable: we accept AES_CM_128_HMAC_SHA1_80 or _32 with one inline key'
      : 'SRTP is required here and the offer is plain RTP/AVP without a=crypto';
  }
  return undefined;
}

export function answerOffer(
  offer: SessionDescription,
  local: LocalMediaCapabilities,
  origin: SdpOrigin
): { answer: SessionDescription; audio: NegotiatedAudio } {
  validateCapabilities(local);
  const media: MediaDescription[] = [];
  let audio: NegotiatedAudio | undefined;
  let audioOffered = false;
  let refusal: SdpNegotiationError | undefined;
  for (const offered of offer.media) {
    if (
      audio === undefined &&
      offered.media.toLowerCase() === 'audio' &&
      offered.port !== 0 &&
      isRtpProfile(offered)
    ) {
      audioOffered = true;
      const unreachable = addressFamilyRefusal(offer, offered, local.mediaFamilies);
      const accepted = unreachable ?? acceptAudio(offer, offered, local);
      if (accepted instanceof SdpNegotiationError) refusal ??= accepted;
      else if (typeof accepted === 'string') refusal ??= new SdpNegotiationError(accepted);
      else if (accepted !== undefined) {
        audio = accepted.audio;
        media.push(accepted.media);
        continue;
      }
    }
    media.push(rejectedMedia(offered));
  }
  if (audio === undefined) {
    throw (
      refusal ??
      (audioOffered
        ? new SdpNegotiationError(
            `no common audio codec: we accept ${local.codecs.join(', ')}`,
            SDP_WARNINGS.incompatibleMediaFormat
          )
        : new SdpNegotiationError(
            'the offer has no active RTP/AVP audio stream',
            SDP_WARNINGS.mediaTypeNotAvailable
          ))
    );
  }
  return { answer: skeleton(local, origin, media), audio };
}

/**
 * Reads `answer` to our `offer`; `families` are the address families our RTP socket reaches
 * (LocalMediaCapabilities.mediaFamilies), all when undefined.
 */
export function negotiateAnswer(
  offer: SessionDescription,
  answer: SessionDescription,
  families?: readonly MediaAddressType[]
): NegotiatedAudio {
  // RFC 3264 §6: one answer m-line per offer m-line, in the same order and of the same type.
  if (answer.media.length !== offer.media.length) {
    throw new SdpNegotiationError(
      `answer has ${answer.media.length} m-lines, the offer had ${offer.media.length}`
    );
  }
  for (let index = 0; index < offer.media.length; index++) {
    const offered = offer.media[index];
    const answered = answer.media[index];
    if (offered.media.toLowerCase() !== answered.media.toLowerCase()) {
      throw new SdpNegotiationError(
        `answer m-line ${index + 1} is "${answered.media}", the offer's is "${offered.media}"`
      );
    }
    if (
      offered.media.toLowerCase() !== 'audio' ||
      offered.port === 0 ||
      answered.port === 0 ||
      !isRtpProfile(offered)
    )
      continue;
    if (answered.protocol.toUpperCase() !== offered.protocol.toUpperCase()) {
      throw new SdpNegotiationError(`answer changed the transport to "${answered.protocol}"`);
    }
    const unreachable = addressFamilyRefusal(answer, answered, families);
    if (unreachable !== undefined) throw unreachable;
    const srtp = answeredSrtp(offered, answered);

    const ours = rtpFormats(offered);
    const theirs = rtpFormats(answered);
    // The answer lists the formats it will receive (RFC 3264 §6.1); take the first one we offered.
    let chosen: { codec: AudioCodec; format: RtpFormat } | undefined;
    for (const format of theirs) {
      const codec = audioCodecOf(format);
      if (codec !== undefined && ours.some((offeredFormat) => audioCodecOf(offeredFormat) === codec)) {
        chosen = { codec, format };
        break;
      }
    }
    if (chosen === undefined)
      throw new SdpNegotiationError(
        'answer accepts the audio stream with no codec we offered',
        SDP_WARNINGS.incompatibleMediaFormat
      );
    const events = theirs.find(
      (format) =>
        isTelephoneEvent(format) &&
        ours.some(
          (offeredFormat) =>
            isTelephoneEvent(offeredFormat) && offeredFormat.clockRateHz === format.clockRateHz
        )
    );
    const ourDirection = mediaDirection(offer, offered);
    const weOfferedToSend = ourDirection === 'sendrecv' || ourDirection === 'sendonly';
    const audio = negotiated(
      answer,
      answered,
      chosen.codec,
      chosen.format.payloadType,
      events,
      ourDirection,
      packetTimeMs(offered),
      weOfferedToSend,
      families
    );
    if (srtp !== undefined) audio.srtp = srtp;
    return audio;
  }
  throw new SdpNegotiationError('answer rejected every audio stream');
}

/** RFC 4568 §7.1.3: the answer's crypto line must carry one of our offered tags with its suite. */
function answeredSrtp(offered: MediaDescription, answered: MediaDescription): NegotiatedSrtp | undefined {
  const ours = mediaCryptos(offered);
  if (ours.length === 0) return undefined;
  const theirs = mediaCryptos(answered)[0];
  const match =
    theirs === undefined ? undefined : ours.find((c) => c.tag === theirs.tag && c.suite === theirs.suite);
  if (match === undefined || theirs === undefined) {
    if (isRtpSavp(offered))
      throw new SdpNegotiationError('answer to our RTP/SAVP offer has no a=crypto line matching ours');
    if (hasCryptoAttribute(answered))
      throw new SdpNegotiationError('answer a=crypto line matches no tag and suite we offered');
    return undefined; // best effort: the peer chose plain RTP
  }
  // Our key echoed back: our own packets reflected to us would authenticate as the peer's.
  if (theirs.keySalt.equals(match.keySalt)) throw new SdpNegotiationError("the answer's SRTP key is our own");
  return { suite: match.suite, localKeySalt: match.keySalt, remoteKeySalt: theirs.keySalt };
}

function acceptAudio(
  offer: SessionDescription,
  offered: MediaDescription,
  local: LocalMediaCapabilities
): { media: MediaDescription; audio: NegotiatedAudio } | undefined | string {
  const crypto = chooseCrypto(offered, local);
  if (typeof crypto === 'string') return crypto;
  const formats = rtpFormats(offered);
  let chosen: { codec: AudioCodec; format: RtpFormat } | undefined;
  for (const codec of local.codecs) {
    const format = formats.find((candidate) => audioCodecOf(candidate) === codec);
    if (format !== undefined) {
      chosen = { codec, format };
      break;
    }
  }
  if (chosen === undefined) return undefined;

  let events: RtpFormat | undefined;
  let eventList = '';
  if (local.telephoneEvent) {
    const rate = AUDIO_CODECS[chosen.codec].clockRateHz;
    const candidates = formats.filter(isTelephoneEvent);
    events = candidates.find((f) => f.clockRateHz === rate) ?? candidates.find((f) => f.clockRateHz === 8000);
    if (events !== undefined) {
      const common = new Set(
        [...telephoneEvents(events.parameters)].filter((e) => SUPPORTED_TELEPHONE_EVENTS.has(e))
      );
      eventList = formatTelephoneEvents(common);
      if (common.size === 0) events = undefined;
    }
  }

  // Accepted, never sent: its packets are taken as silence (a talkspurt's end), not dropped as an
  // unknown payload type and counted lost.
  const comfortNoise = formats.find(
    (f) => isComfortNoise(f) && f.clockRateHz === AUDIO_CODECS[chosen.codec].clockRateHz
  );

  // Direction of the answer: we do what we want to, limited by what the offer allows (RFC 3264 §6.1).
  const ourDirection = local.direction ?? 'sendrecv';
  const audio = negotiated(
    offer,
    offered,
    chosen.codec,
    chosen.format.payloadType,
    events,
    ourDirection,
    local.ptimeMs,
    true,
    local.mediaFamilies
  );
  const info = AUDIO_CODECS[chosen.codec];
  const formatsOut = [String(chosen.format.payloadType)];
  const attributes: SdpAttribute[] = [
    { name: 'rtpmap', value: `${chosen.format.payloadType} ${info.encodingName}/${info.clockRateHz}` }
  ];
  if (events !== undefined) {
    formatsOut.push(String(events.payloadType));
    attributes.push({ name: 'rtpmap', value: `${events.payloadType} telephone-event/${events.clockRateHz}` });
    attributes.push({ name: 'fmtp', value: `${events.payloadType} ${eventList}` });
  }
  if (comfortNoise !== undefined) {
    formatsOut.push(String(comfortNoise.payloadType));
    attributes.push({ name: 'rtpmap', value: `${comfortNoise.payloadType} CN/${comfortNoise.clockRateHz}` });
    audio.comfortNoisePayloadType = comfortNoise.payloadType;
  }
  attributes.push({ name: 'ptime', value: String(local.ptimeMs ?? DEFAULT_PTIME_MS) });
  attributes.push({ name: audio.direction });
  if (crypto !== undefined) {
    attributes.push({ name: 'crypto', value: formatCryptoAttribute(crypto.ours) });
    audio.srtp = {
      suite: crypto.ours.suite,
      localKeySalt: crypto.ours.keySalt,
      remoteKeySalt: crypto.theirs.keySalt
    };
  }
  // The answer keeps the offer's profile: RTP/SAVP(F), or RTP/AVP(F) with best-effort a=crypto.
  return {
    media: audioMedia(local.port, formatsOut, attributes, offered.protocol.toUpperCase() as RtpProfile),
    audio
  };
}

/**
 * What was agreed for one audio stream, seen from our side. `remote`/`remoteMedia` are the
 * peer's description, `ourDirection` what we asked for (or offered), `ourPtimeMs` what we asked
 * to receive, used as the sending ptime when the peer states none. `remoteMayReceive` is false
 * when our own offer told the peer not to receive, so its refusal is no hold. `families` are the
 * address types our RTP reaches (all when undefined).
 */
function negotiated(
  remote: SessionDescription,
  remoteMedia: MediaDescription,
  codec: AudioCodec,
  payloadType: number,
  events: RtpFormat | undefined,
  ourDirection: MediaDirection,
  ourPtimeMs: number | undefined,
  remoteMayReceive: boolean,
  families: readonly MediaAddressType[] | undefined
): NegotiatedAudio {
  const connection = mediaConnection(remote, remoteMedia);
  if (connection === undefined) throw new SdpParseError('audio stream has no "c=" at media or session level');
  checkMediaAddress(connection);
  const remoteDirection = mediaDirection(remote, remoteMedia);
  // RFC 3264 §8.4: c=0.0.0.0 is the RFC 2543 way of saying "do not send to me" (and :: in IP6).
  const nullAddress = isNullAddress(connection.address);
  const remoteSends = remoteDirection === 'sendrecv' || remoteDirection === 'sendonly';
  const remoteReceives = (remoteDirection === 'sendrecv' || remoteDirection === 'recvonly') && !nullAddress;
  const weWantToSend = ourDirection === 'sendrecv' || ourDirection === 'sendonly';
  const weWantToReceive = ourDirection === 'sendrecv' || ourDirection === 'recvonly';
  const direction = directionFrom(weWantToSend && remoteReceives, weWantToReceive && remoteSends);

  let ptimeMs = packetTimeMs(remoteMedia) ?? ourPtimeMs ?? DEFAULT_PTIME_MS;
  const maxPtimeMs = maxPacketTimeMs(remoteMedia);
  if (maxPtimeMs !== undefined && ptimeMs > maxPtimeMs) ptimeMs = maxPtimeMs;

  const rtcp = usableRtcp(rtcpAttribute(remoteMedia), families);
  const info = AUDIO_CODECS[codec];
  const audio: NegotiatedAudio = {
    codec,
    payloadType,
    clockRateHz: info.clockRateHz,
    channels: 1,
    ptimeMs,
    remoteAddress: connection.address,
    remotePort: remoteMedia.port,
    remoteRtcpPort: rtcp?.port ?? (remoteMedia.port < 65535 ? remoteMedia.port + 1 : undefined),
    remoteRtcpAddress: rtcp?.address ?? connection.address,
    direction,
    onHold: remoteMayReceive && !remoteReceives
  };
  if (events !== undefined) {
    audio.telephoneEventPayloadType = events.payloadType;
    audio.telephoneEventClockRateHz = events.clockRateHz;
  }
  return audio;
}

/**
 * The refusal (RFC 3261 §20.43's 301) of a stream whose `c=` names an address type our RTP socket
 * cannot send to: an IPv6 address to a socket bound to an IPv4 one, say. Answered, the call would
 * connect and stay silent both ways. A stream with no `c=` is left to `negotiated` to refuse.
 */
function addressFamilyRefusal(
  description: SessionDescription,
  media: MediaDescription,
  families: readonly MediaAddressType[] | undefined
): SdpNegotiationError | undefined {
  const connection = mediaConnection(description, media);
  if (families === undefined || connection === undefined) return undefined;
  const type = connection.addressType.toUpperCase();
  if ((families as readonly string[]).includes(type)) return undefined;
  return new SdpNegotiationError(
    `the audio stream's address "${connection.addressType} ${connection.address}" is not one our RTP can reach (${families.join(', ')})`,
    SDP_WARNINGS.incompatibleAddressFormat
  );
}

/** c=0.0.0.0 or c=::, "do not send to me". */
export function isNullAddress(address: string): boolean {
  return address === '0.0.0.0' || (isIP(address) === 6 && /^[0:]+$/.test(address));
}

/**
 * Refuses (488) a media address the engine will not send RTP to: anything but an IP literal of
 * the family `c=` names (a host name would be looked up for every packet, and chosen by the
 * caller), and multicast or broadcast. The address is where RTP goes before the peer's first
 * packet arrives.
 */
function checkMediaAddress(connection: SdpConnection): void {
  const { address } = connection;
  const family = ipLiteralFamily(connection.netType, connection.addressType, address);
  if (family === 0) {
    throw new SdpNegotiationError(
      `media address "${connection.netType} ${connection.addressType} ${address}" is not an IP literal of its family`
    );
  }
  if (NOT_UNICAST.check(address, family === 4 ? 'ipv4' : 'ipv6'))
    throw new SdpNegotiationError(`media address ${address} is multicast or broadcast`);
}

/**
 * RFC 3605's a=rtcp, where it names somewhere RTCP can go: port 0 says nothing (RTP port + 1
 * stands), and an address that is null, multicast or broadcast, or of a family our sockets cannot
 * send to, is dropped for the c= one.
 */
function usableRtcp(
  rtcp: { port: number; address?: string } | undefined,
  families: readonly MediaAddressType[] | undefined
): { port: number; address?: string } | undefined {
  if (rtcp === undefined || rtcp.port === 0) return undefined;
  const { address } = rtcp;
  if (address === undefined) return rtcp;
  const family = isIP(address) === 4 ? 'IP4' : 'IP6';
  const usable =
    !isNullAddress(address) &&
    !NOT_UNICAST.check(address, family === 'IP4' ? 'ipv4' : 'ipv6') &&
    (families === undefined || families.includes(family));
  return usable ? rtcp : { port: rtcp.port };
}

const NOT_UNICAST = (() => {
  const list = new BlockList();
  list.addSubnet('224.0.0.0', 4, 'ipv4');
  list.addAddress('255.255.255.255', 'ipv4');
  list.addSubnet('ff00::', 8, 'ipv6');
  return list;
})();

function directionFrom(send: boolean, receive: boolean): MediaDirection {
  if (send && receive) return 'sendrecv';
  if (send) return 'sendonly';
  if (receive) return 'recvonly';
  return 'inactive';
}

/** RFC 3264 §6: a refused stream keeps its type, transport and formats, with port 0. */
function rejectedMedia(offered: MediaDescription): MediaDescription {
  return {
    media: offered.media,
    port: 0,
    protocol: offered.protocol,
    formats: offered.formats.length > 0 ? [...offered.formats] : ['0'],
    connections: [],
    bandwidths: [],
    attributes: []
  };
}

/** The RTP profiles we answer: plain or SRTP (SDES), each with or without RTCP feedback. */
type RtpProfile = 'RTP/AVP' | 'RTP/SAVP' | 'RTP/AVPF' | 'RTP/SAVPF';

function audioMedia(
  port: number,
  formats: string[],
  attributes: SdpAttribute[],
  protocol: RtpProfile
): MediaDescription {
  return { media: 'audio', port, protocol, formats, connections: [], bandwidths: [], attributes };
}

function skeleton(
  local: LocalMediaCapabilities,
  origin: SdpOrigin,
  media: MediaDescription[]
): SessionDescription {
  return {
    version: 0,
    origin,
    sessionName: '-',
    emails: [],
    phones: [],
    connection: { netType: 'IN', addressType: addressType(local.address), address: local.address },
    bandwidths: [],
    timings: [{ startTime: '0', stopTime: '0', repeats: [] }],
    attributes: [],
    media
  };
}

function addressType(address: string): 'IP4' | 'IP6' {
  return isIPv6(address) ? 'IP6' : 'IP4';
}

function dedupe<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
