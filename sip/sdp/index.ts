/**
 * SDP for uasmedia: the RFC 4566 object model with its parser and serializer, RFC 3264
 * offer/answer for one audio stream, and `SdpSession` for a call's evolving description.
 */

export {
  SDP_WARNINGS,
  SdpNegotiationError,
  SdpParseError,
  SdpStateError,
  type SdpWarning
} from './errors.js';
export { AUDIO_CODECS } from './media-capabilities.js';
export type {
  AudioCodec,
  LocalMediaCapabilities,
  MediaAddressType,
  NegotiatedAudio
} from './media-capabilities.js';
export {
  createAnswer,
  createOffer,
  isNullAddress,
  offeredAudioAddress,
  processAnswer
} from './offer-answer.js';
export { parseSdp } from './parse.js';
export { serializeSdp } from './serialize.js';
export { SdpSession } from './sdp-session.js';
export {
  SDES_SUITES,
  SRTP_POLICIES,
  parseCryptoAttribute,
  type NegotiatedSrtp,
  type SdesCrypto,
  type SdesSuite,
  type SrtpPolicy
} from './sdes.js';
export {
  attributeValue,
  attributeValues,
  mediaConnection,
  mediaDirection,
  type MediaDescription,
  type MediaDirection,
  type SdpAttribute,
  type SdpBandwidth,
  type SdpConnection,
  type SdpOrigin,
  type SdpTiming,
  type SessionDescription
} from './session-description.js';
export { rtpFormats, type RtpFormat } from './rtp-formats.js';
