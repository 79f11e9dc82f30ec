/**
 * Whether the engine can answer an INVITE's offer, checked when the INVITE comes, before a port is
 * taken or the application hears of the call: an offer it cannot take gets 488 (with a Warning
 * that says why) at once, as Asterisk answers one, instead of ringing first and refusing at
 * answer(). The answer made here is thrown away; the media leg makes the call's own.
 */
import { SdpNegotiationError, SdpParseError } from '../../sip/index.js';
import type { ChannelContext } from '../channel/channel-context.js';
import { checkWebRtcOfferOver, isWebRtcOffer } from '../webrtc/webrtc-offer.js';
import { legSdpSession } from './leg-sdp.js';

/** Why `offer`, come over SIP transport `protocol`, cannot be answered; undefined when it can. */
export function offerRefusal(
  offer: string,
  protocol: string,
  ctx: Pick<ChannelContext, 'codecs' | 'srtp' | 'webrtc' | 'ports'>
): SdpNegotiationError | SdpParseError | undefined {
  try {
    if (isWebRtcOffer(offer)) checkWebRtcOfferOver(offer, protocol, ctx.webrtc);
    else {
      const address = ctx.ports.mediaFamilies.includes('IP4') ? '127.0.0.1' : '::1';
      const settings = { codecs: ctx.codecs, srtp: ctx.srtp, mediaFamilies: ctx.ports.mediaFamilies };
      legSdpSession(address, 9, settings).createAnswer(offer);
    }
    return undefined;
  } catch (error) {
    if (error instanceof SdpNegotiationError || error instanceof SdpParseError) return error;
    throw error;
  }
}
