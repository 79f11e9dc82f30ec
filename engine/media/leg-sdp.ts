/**
 * What a call's media leg says in SDP: the engine's codecs and SRTP policy, RFC 4733 events,
 * 20 ms packets asked for, on the address families its RTP sockets reach. The media leg answers
 * with it, and the engine's check of an INVITE's offer tries the same before the leg exists.
 */
import { SdpSession, type AudioCodec, type MediaAddressType, type SrtpPolicy } from '../../sip/index.js';

export interface LegSdpSettings {
  codecs: AudioCodec[];
  srtp?: SrtpPolicy;
  mediaFamilies: readonly MediaAddressType[];
}

/** The SDP session of a leg whose RTP is at `address`:`port`. */
export function legSdpSession(address: string, port: number, settings: LegSdpSettings): SdpSession {
  return new SdpSession({
    address,
    port,
    mediaFamilies: settings.mediaFamilies,
    codecs: settings.codecs,
    telephoneEvent: true,
    ptimeMs: 20,
    srtp: settings.srtp
  });
}
