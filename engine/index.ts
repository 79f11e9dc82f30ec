/**
 * uasmedia's public API: everything an application may touch. The rest of the package is
 * internal.
 */
export { Engine, type EngineOptions, type EngineEvents } from './engine.js';
export {
  UASCallChannel,
  type ChannelEvents,
  type CallOptions,
  type RecordOptions,
  type RetrievalWaitOptions,
  type SendDtmfOptions
} from './channel/uas-call-channel.js';
export type { TransferOptions } from './channel/conference-transfer.js';
export { State, Cause, TransferCause } from './state.js';
export { ConferencePartyMediaSettings } from './settings/conference-party-media-settings.js';
export { ConferenceLifetimeControl } from './settings/conference-lifetime-control.js';
export type { TextToSayOptions } from './settings/media.js';
export type { GetDigitsOptions } from './dtmf/digit-collector.js';
export type {
  ConferenceMedia,
  ConferenceMediaEvents,
  RemoteTalkerEvent,
  RemotePartyEvent,
  SayOptions
} from './media/conference-media.js';
export type {
  ModerationAction,
  ModerationTarget,
  RemoteParty,
  RosterEntry
} from './conference/room-moderator.js';
export type { ClusterOptions } from './cluster/cluster-member.js';
export type { RedisConnectionOptions, RedisTarget } from './cluster/redis-target.js';
export type { Party, LeaveReason } from './conference/party.js';
export type { ConferenceRoom } from './conference/room.js';
export type { FrameClockStats } from './clock/frame-clock.js';
export type { SipRequest, AudioCodec } from '../sip/index.js';
export { PITCH_SEMITONES, RATE_WPM, TEXT_CHARS_MAX, type SpeechOptions } from '../tts/index.js';
export type { RtpSessionStats } from './rtp/rtp-session.js';
export type { WebSocketOptions } from './webrtc/websocket-options.js';
export type { WebRtcOptions } from './webrtc/webrtc-options.js';
export { openPeerConnections } from './webrtc/webrtc-peer.js';
export { WebRtcBusyError } from './webrtc/peer-connection-gate.js';
export type { ResourceCounts } from './observability/resources.js';
export {
  EngineError,
  InvalidStateError,
  InvalidArgumentError,
  HangupError,
  FileAccessError,
  ClosedError,
  AnnouncementError,
  type EngineErrorCode
} from './errors.js';
export { PortPoolExhaustedError } from './rtp/errors.js';
/** Lower layers' errors that reach callers: a SIP failure (answer, call) and a prompt failure (playText, playFile, announcements). */
export { SipError, type SipErrorCode } from '../sip/index.js';
export { TtsError, type TtsErrorCode } from '../tts/index.js';
export type { AccessOptions } from './admission/door.js';
export type { OverloadGuardOptions } from './admission/overload-guard.js';
export type { InbandDtmfMode } from './dtmf/inband-dtmf-mode.js';
export type { DigitRateLimitOptions } from './dtmf/digit-rate-limit.js';
export type { RegistrationEvent, RegistrationStatus } from './registration/upstream-registrations.js';
export type {
  CallLimitOptions,
  CredentialsLookup,
  DigestSecret,
  RegistrationOptions,
  RefusalCause
} from '../sip/index.js';
