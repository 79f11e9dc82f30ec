/**
 * What a channel needs from its engine: the shared media machinery, the SIP user agent and the
 * conference directory. The engine implements it; channels never reach into the engine itself.
 */
import type { Logger } from 'pino';
import type { AudioCodec, SipUserAgent, SrtpPolicy } from '../../sip/index.js';
import type { LatchingMode } from '../rtp/peer-latch.js';
import type { InbandDtmfMode } from '../dtmf/inband-dtmf-mode.js';
import type { DigitRateLimitOptions } from '../dtmf/digit-rate-limit.js';
import type { RoomRegistry } from '../conference/room-registry.js';
import type { ConferenceRoom } from '../conference/room.js';
import type { DspKernels } from '../dsp/kernels.js';
import type { RtpPortPool } from '../rtp/port-pool.js';
import type { AdvertisedAddress } from '../rtp/advertised-address.js';
import type { ConferenceMedia } from '../media/conference-media.js';
import type { MediaResolver } from '../media/media-resolver.js';
import type { MixLoop } from '../media/mix-loop.js';
import type { RecordFolder } from '../media/file-folders.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { WebRtcOptions } from '../webrtc/webrtc-options.js';

export interface ChannelContext {
  readonly kernels: DspKernels;
  readonly loop: MixLoop;
  readonly ports: RtpPortPool;
  /** The address our SDP names for RTP, per call (never a wildcard). */
  readonly rtpAddress: AdvertisedAddress;
  readonly roomSampleRateHz: 8000 | 16000;
  readonly codecs: AudioCodec[];
  readonly jitter?: { minDelayMs?: number; maxDelayMs?: number; startDelayMs?: number };
  readonly srtp?: SrtpPolicy;
  readonly latching?: LatchingMode;
  readonly inbandDtmf: InbandDtmfMode;
  /** How many DTMF digits a second a call may hand the application. */
  readonly dtmfRateLimit: Required<DigitRateLimitOptions>;
  readonly userAgent: SipUserAgent;
  readonly rooms: RoomRegistry;
  readonly resolver: MediaResolver;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  /** ICE settings for browsers' legs. */
  readonly webrtc?: WebRtcOptions;
  /** Where `record` may write (refuses everything when no folder is configured). */
  readonly recordFolder: RecordFolder;
  /** A call whose peer sends no RTP or RTCP for this long is ended (undefined: never). */
  readonly rtpInactivityTimeoutMs?: number;
  /** The media of a live conference room (created with the room). */
  conferenceMedia(room: ConferenceRoom): ConferenceMedia;
  /** Tells the engine a channel was closed for good. */
  channelClosed(id: string): void;
  /** Whether the engine takes new calls now (running: not starting, stopping or stopped). */
  takesCalls(): boolean;
}

/**
 * The context of a cluster's trunk leg, which carries another node's mix, not a keypad: its
 * parties' digits are taken on their own node. It listens for no tones in the audio, which a
 * mix of voices or music can hold without anyone pressing a key: two parties whose tones made
 * the pair of '1' between them had their node's whole section cut out of the other node's mix,
 * as a digit's tone is kept out of it.
 */
export function trunkLegContext(ctx: ChannelContext): ChannelContext {
  return { ...ctx, inbandDtmf: 'never' };
}
