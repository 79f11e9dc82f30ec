/**
 * The address our SDP names for RTP (o= and c=). RTP may be bound to a wildcard (0.0.0.0, ::),
 * but a wildcard in c= means "do not send to me" (RFC 3264 §8.4): the peer holds the call and
 * sends no audio. So a wildcard is never advertised. In its place goes, as Asterisk's
 * ast_ouraddrfor does, the local address the kernel sends from toward the call's SIP peer, found
 * by "connecting" a UDP socket to it (a route lookup: nothing is sent). That is the address the
 * peer reaches us on; the destination address of a datagram that arrived on a wildcard socket is
 * what we would rather use, but Node cannot read it (no IP_PKTINFO). With no peer to look
 * toward (a host name), the rule of the SIP Contact: the first non-loopback IPv4 interface, else
 * loopback. Behind NAT, `rtp.advertisedAddress` names the public address instead.
 */
import * as dgram from 'node:dgram';
import { isIP } from 'node:net';
import { interfaceAddress } from '../../sip/index.js';

/** 0.0.0.0 or :: (any spelling): an address to bind to, never one to send to. */
export function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || (isIP(address) === 6 && /^[0:]+$/.test(address));
}

/** The local address the kernel would send from toward `peer`; undefined when there is no route. */
function sourceAddressToward(peer: string, type: 'udp4' | 'udp6'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(type);
    let settled = false;
    const done = (address: string | undefined): void => {
      if (settled) return;
      settled = true;
      socket.close();
      resolve(address);
    };
    socket.once('error', () => done(undefined));
    // The discard port: connect() on UDP only picks the route and the source address. A failed
    // connect (no route) also calls back, unconnected: remoteAddress() throws then.
    socket.connect(9, peer, () => {
      let address: string | undefined;
      try {
        socket.remoteAddress();
        address = socket.address().address;
      } catch {
        address = undefined;
      }
      done(address);
    });
  });
}

export class AdvertisedAddress {
  /**
   * @param bindHost what RTP sockets are bound to (rtp.host, else sip.host)
   * @param configured `rtp.advertisedAddress`: named in every SDP as it is
   */
  constructor(
    private readonly bindHost: string,
    private readonly configured?: string
  ) {}

  /**
   * The address to advertise to a call whose SIP peer is `sipPeer` (an IP literal, else unknown),
   * whose offer (if any) sends its audio to `mediaPeer`. A socket bound to :: takes IPv4 too (dual
   * stack), so it advertises the peer's family: a peer that called over IPv4 may have no IPv6 at
   * all; but an offer whose audio is of the other family is answered in that one, for the peer
   * may have only it for media. One bound to 0.0.0.0 takes IPv4 only.
   */
  async toward(sipPeer: string | undefined, mediaPeer?: string): Promise<string> {
    if (this.configured !== undefined) return this.configured;
    if (!isWildcardAddress(this.bindHost)) return this.bindHost;
    const dualStack = isIP(this.bindHost) === 6;
    const mediaFamily = mediaPeer === undefined || isWildcardAddress(mediaPeer) ? 0 : isIP(mediaPeer);
    const peer = dualStack && mediaFamily !== 0 && mediaFamily !== isIP(sipPeer ?? '') ? mediaPeer : sipPeer;
    const family = peer === undefined ? 0 : isIP(peer);
    if (family === 4 || (family === 6 && dualStack)) {
      const source = await sourceAddressToward(peer as string, family === 4 ? 'udp4' : 'udp6');
      if (source !== undefined && !isWildcardAddress(source)) return source;
    }
    return interfaceAddress(dualStack);
  }
}
