/**
 * The audio formats uasmedia speaks and the shapes offer/answer exchanges with the engine:
 * what we can do (`LocalMediaCapabilities`) and what was agreed (`NegotiatedAudio`).
 */

import type { MediaDirection } from './session-description.js';
import type { RtpFormat } from './rtp-formats.js';
import { SRTP_POLICIES, type NegotiatedSrtp, type SdesCrypto, type SrtpPolicy } from './sdes.js';

export type AudioCodec = 'PCMU' | 'PCMA' | 'L16' | 'G722';

/** The address types of `c=` that RTP can be sent to: IPv4 and IPv6. */
export type MediaAddressType = 'IP4' | 'IP6';

export interface LocalMediaCapabilities {
  /** Our RTP address (IPv4 or IPv6). */
  address: string;
  /** Our RTP port. */
  port: number;
  /**
   * The address families our RTP socket can send to (one bound to :: takes both); default both.
   * An offer whose audio names another is refused with 488 and Warning 301, and so is an answer.
   */
  mediaFamilies?: readonly MediaAddressType[];
  /** Codecs we accept, most preferred first. */
  codecs: AudioCodec[];
  /** Offer/accept telephone-event (RFC 4733). */
  telephoneEvent: boolean;
  /** Packet time we want to receive; default 20. */
  ptimeMs?: number;
  /** What we want to do; default sendrecv. 'sendonly' puts the peer on hold (RFC 3264 §8.4). */
  direction?: MediaDirection;
  sessionId?: string;
  sessionVersion?: number;
  username?: string;
  /** SRTP with SDES keys (RFC 4568); default off. */
  srtp?: SrtpPolicy;
  /** Our a=crypto keys, one per suite; `SdpSession` makes fresh ones when SRTP is not off. */
  sdesKeys?: SdesCrypto[];
}

export interface NegotiatedAudio {
  codec: AudioCodec;
  /** Payload type to send with (the peer's number for the codec). */
  payloadType: number;
  clockRateHz: number;
  channels: 1;
  /** Payload type of telephone-event, undefined if not negotiated. */
  telephoneEventPayloadType?: number;
  /** Clock rate of telephone-event: the codec's rate, or 8000 (RFC 4733 §2.1). */
  telephoneEventClockRateHz?: number;
  /** Payload type of comfort noise (RFC 3389) at the codec's clock, undefined if not negotiated: its packets are silence. */
  comfortNoisePayloadType?: number;
  /** Packet time to send with: the peer's a=ptime (capped by its a=maxptime), else ours. */
  ptimeMs: number;
  remoteAddress: string;
  remotePort: number;
  /**
   * a=rtcp (RFC 3605) if present, else remotePort + 1 (RFC 3550 §11), also for an odd port as
   * Asterisk and FreeSWITCH do. Undefined for m= port 65535 without a=rtcp: there is no port
   * after it, so RTCP goes to the peer only once its own RTCP shows where.
   */
  remoteRtcpPort?: number;
  /** a=rtcp address if present, else remoteAddress. */
  remoteRtcpAddress: string;
  /** OUR direction: what we may do. */
  direction: MediaDirection;
  /** The peer refuses to receive from us (sendonly/inactive, or c=0.0.0.0): it put us on hold. */
  onHold: boolean;
  /** SRTP keys when the stream is encrypted (RFC 4568); undefined for plain RTP. */
  srtp?: NegotiatedSrtp;
}

export interface AudioCodecInfo {
  encodingName: string;
  clockRateHz: number;
  /** The payload type we offer it with: static where RFC 3551 assigns one, else dynamic. */
  payloadType: number;
}

export const AUDIO_CODECS: Readonly<Record<AudioCodec, AudioCodecInfo>> = {
  PCMU: { encodingName: 'PCMU', clockRateHz: 8000, payloadType: 0 },
  PCMA: { encodingName: 'PCMA', clockRateHz: 8000, payloadType: 8 },
  // RFC 3551 §4.5.2: 16 kHz audio, but its RTP clock runs at 8000 (an error kept for compatibility).
  G722: { encodingName: 'G722', clockRateHz: 8000, payloadType: 9 },
  // RFC 3551 §4.5.11: L16 mono; only the 16 kHz wideband variant is spoken here.
  L16: { encodingName: 'L16', clockRateHz: 16000, payloadType: 96 }
};

/** Dynamic payload type we offer telephone-event/8000 with. */
export const TELEPHONE_EVENT_PAYLOAD_TYPE = 101;
/** RFC 4733 §3.2 DTMF events 0-15 (0-9 * # A-D) and 16 (flash). */
export const SUPPORTED_TELEPHONE_EVENTS: ReadonlySet<number> = new Set(
  Array.from({ length: 17 }, (_, i) => i)
);
export const DEFAULT_PTIME_MS = 20;

/** Which of our codecs an offered/answered format is, if any. */
export function audioCodecOf(format: RtpFormat): AudioCodec | undefined {
  if (format.channels !== 1) return undefined;
  const name = format.encodingName.toUpperCase();
  for (const codec of Object.keys(AUDIO_CODECS) as AudioCodec[]) {
    const info = AUDIO_CODECS[codec];
    if (info.encodingName === name && info.clockRateHz === format.clockRateHz) return codec;
  }
  return undefined;
}

/** Comfort noise (RFC 3389), the silence a sender suppressing it describes between talkspurts. */
export function isComfortNoise(format: RtpFormat): boolean {
  return format.encodingName.toUpperCase() === 'CN' && format.channels === 1;
}

export function isTelephoneEvent(format: RtpFormat): boolean {
  return format.encodingName.toLowerCase() === 'telephone-event' && format.channels === 1;
}

/** Rejects programming errors in our own capabilities before they reach the wire. */
export function validateCapabilities(local: LocalMediaCapabilities): void {
  if (typeof local.address !== 'string' || local.address.trim() === '' || /\s/.test(local.address)) {
    throw new TypeError(
      `local media address "${String(local.address)}" must be a non-empty host without spaces`
    );
  }
  if (!Number.isInteger(local.port) || local.port < 1 || local.port > 65535) {
    throw new RangeError(`local RTP port ${local.port} must be an integer in 1..65535`);
  }
  if (!Array.isArray(local.codecs) || local.codecs.length === 0)
    throw new TypeError('local codecs must list at least one codec');
  for (const codec of local.codecs) {
    if (!(codec in AUDIO_CODECS))
      throw new TypeError(`unknown codec "${String(codec)}", expected PCMU, PCMA, G722 or L16`);
  }
  if (
    local.ptimeMs !== undefined &&
    (!Number.isInteger(local.ptimeMs) || local.ptimeMs < 1 || local.ptimeMs > 1000)
  ) {
    throw new RangeError(`ptimeMs ${local.ptimeMs} must be an integer in 1..1000`);
  }
  if (
    local.sessionVersion !== undefined &&
    (!Number.isSafeInteger(local.sessionVersion) || local.sessionVersion < 0)
  ) {
    throw new RangeError(`sessionVersion ${local.sessionVersion} must be a non-negative integer`);
  }
  if (local.sessionId !== undefined && !/^[0-9]+$/.test(local.sessionId)) {
    throw new TypeError(`sessionId "${local.sessionId}" must be a decimal number (RFC 4566 §5.2)`);
  }
  if (local.srtp !== undefined && !(SRTP_POLICIES as readonly string[]).includes(local.srtp)) {
    throw new TypeError(`srtp policy "${String(local.srtp)}" must be off, offered or required`);
  }
  if (
    local.mediaFamilies !== undefined &&
    (local.mediaFamilies.length === 0 || local.mediaFamilies.some((f) => f !== 'IP4' && f !== 'IP6'))
  ) {
    throw new TypeError(`mediaFamilies ${JSON.stringify(local.mediaFamilies)} must list IP4, IP6 or both`);
  }
  if (local.username !== undefined && (local.username === '' || /\s/.test(local.username))) {
    throw new TypeError(`username "${local.username}" must be non-empty without spaces`);
  }
}
