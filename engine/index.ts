/**
 * uasmedia's public API: everything an application may touch. The rest of the package is
 * internal.
 */
export { Engine, type EngineOptions, type EngineEvents } from './engine.js';
export {
  UASCallChannel,
  type ChannelEvents,
  type CallOptions,
  type RecordOptions
} from './channel/uas-call-channel.js';
export type { TransferOptions } from './channel/conference-transfer.js';
export { State, Cause, TransferCause } from './state.js';
export { ConferencePartyMediaSettings } from './settings/conference-party-media-settings.js';
export { ConferenceLifetimeControl } from './settings/conference-lifetime-control.js';
export type { TextToSayOptions } from './settings/media.js';
export type { GetDigitsOptions } from './dtmf/digit-collector.js';
export type { ConferenceMedia, RemoteTalkerEvent } from './media/conference-media.js';
export type { ClusterOptions } from './cluster/cluster-member.js';
export type { RtpSessionStats } from './rtp/rtp-session.js';
export {
  EngineError,
  InvalidStateError,
  InvalidArgumentError,
  HangupError,
  TransferTimeoutError,
  ClosedError
} from './errors.js';
