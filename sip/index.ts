/**
 * The SIP stack's entry: the user agent, its session types and errors. Everything else in
 * `sip/` is internal to the stack (SDP and digest auth have their own entries in `sdp/`, `auth/`).
 */
export * from './user-agent.js';
/** The typed, listener-safe event emitter of the SIP stack, which the engine's objects use as well. */
export { SafeEmitter, type EventMap, type ListenerErrorEvent } from './safe-emitter.js';
export { SipError, SipParseError, SipInvalidStateError, type SipErrorCode } from './errors.js';
export type { DtmfInfo } from './session/dtmf-info.js';
export { DEFAULT_MESSAGE_LIMITS, resolveMessageLimits, type SipMessageLimits } from './message/limits.js';
export {
  DEFAULT_CONNECTION_LIMITS,
  resolveConnectionLimits,
  GUARDED_TRANSPORTS,
  type ConnectionLimits,
  type ConnectionGuardStats,
  type GuardedTransport
} from './transport/connection-guard.js';
export type { DatagramRateStats } from './transport/datagram-rate.js';
export {
  SdpNegotiationError,
  SdpParseError,
  SdpSession,
  offeredAudioAddress,
  type MediaAddressType,
  isNullAddress,
  AUDIO_CODECS,
  SRTP_POLICIES,
  type AudioCodec,
  type NegotiatedAudio,
  type SrtpPolicy
} from './sdp/index.js';
export { parseUri, isSipUri, unescape } from './message/uri.js';
export { isToken } from './message/scanner.js';
export { warningHeaders } from './message/responses.js';
export { unmappedAddress } from './transport/peer-address.js';
export { interfaceAddress } from './transport/interface-address.js';
export { hostAllowed } from './transport/http-host.js';
export { PipelinedRequestLimit } from './transport/http-pipelining.js';
export { DEFAULT_TIMERS, MAX_TIMER_MS } from './transaction/timers.js';
export { DEFAULT_SESSION_TIMER } from './session/session-timer.js';
export { SourceFilter, type SourceFilterOptions } from './admission/source-filter.js';
export { sourceKey } from './admission/source-key.js';
export { TrustedProxies, FORWARDED_SOURCE_HEADER } from './admission/trusted-proxies.js';
export {
  InviteAdmission,
  DEFAULT_AUTH_LOCKOUT,
  type AuthLockoutOptions,
  type InviteAdmissionOptions,
  type AdmissionResult,
  type SharedFailure,
  type SharedFailureCount
} from './admission/invite-admission.js';
export type { CallLimitOptions } from './admission/call-limiter.js';
export { FailureLockout, type FailureLockoutLimits } from './admission/failure-lockout.js';
export { TokenBucket, type RateOptions } from './admission/token-bucket.js';
export {
  REFUSAL_CAUSES,
  serviceUnavailable,
  type Refusal,
  type RefusalCause,
  type Unavailable
} from './admission/refusal.js';
export type { CredentialsLookup, DigestSecret, DigestAuthenticatorOptions } from './auth/digest-server.js';
export {
  Registration,
  checkRegistrationOptions,
  type RegistrationOptions,
  type RegistrationState,
  type RegistrationEvents
} from './registration/registration.js';
export type { TransportSpec } from './transport/transport-set.js';
export type { TlsTransportOptions } from './transport/tls.js';
export type { WsTransportOptions } from './transport/ws.js';
