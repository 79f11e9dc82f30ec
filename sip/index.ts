/**
 * The SIP stack's entry: the user agent, its session types and errors. Everything else in
 * `sip/` is internal to the stack (SDP and digest auth have their own entries in `sdp/`, `auth/`).
 */
export * from './user-agent.js';
/** The typed, listener-safe event emitter of the SIP stack, which the engine's objects use as well. */
export { SafeEmitter, type EventMap, type ListenerErrorEvent } from './safe-emitter.js';
export { SipError, SipParseError, SipInvalidStateError, type SipErrorCode } from './errors.js';
export type { DtmfInfo } from './session/dtmf-info.js';
export { SdpNegotiationError, SdpParseError, SdpSession, type AudioCodec, type NegotiatedAudio } from './sdp/index.js';
export { parseUri, isSipUri, unescape } from './message/uri.js';
