/**
 * The address our SDP names for RTP when RTP is bound to a wildcard: the local address the kernel
 * routes from toward the SIP peer (real route lookups on loopback), never 0.0.0.0 or ::.
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AdvertisedAddress, isWildcardAddress } from '../../engine/rtp/advertised-address.js';

describe('AdvertisedAddress', () => {
  it('a concrete bind address is named as it is, and a configured one wins over everything', async () => {
    expect(await new AdvertisedAddress('127.0.0.1').toward('::1')).toBe('127.0.0.1');
    expect(await new AdvertisedAddress('0.0.0.0', '203.0.113.7').toward('127.0.0.1')).toBe('203.0.113.7');
  });

  it('0.0.0.0 names the IPv4 source toward the peer; toward an IPv6 peer or none, a concrete IPv4 address', async () => {
    const wildcard = new AdvertisedAddress('0.0.0.0');
    expect(await wildcard.toward('127.0.0.1')).toBe('127.0.0.1');
    for (const peer of ['::1', undefined, 'phone.example']) {
      const address = await wildcard.toward(peer);
      expect({ peer, family: isIP(address), wildcard: isWildcardAddress(address) }).toEqual({
        peer,
        family: 4,
        wildcard: false
      });
    }
  });

  it(':: names the source of the peer’s own family: IPv6 toward an IPv6 peer, IPv4 toward an IPv4 one', async () => {
    const wildcard = new AdvertisedAddress('::');
    expect(await wildcard.toward('::1')).toBe('::1');
    expect(await wildcard.toward('127.0.0.1')).toBe('127.0.0.1');
    const unknown = await wildcard.toward(undefined);
    expect(isIP(unknown) !== 0 && !isWildcardAddress(unknown)).toBe(true);
  });

  it('recognises every spelling of the wildcards', () => {
    expect(['0.0.0.0', '::', '0::0', '0:0:0:0:0:0:0:0'].map(isWildcardAddress)).toEqual([
      true,
      true,
      true,
      true
    ]);
    expect(['127.0.0.1', '::1', 'host.example'].map(isWildcardAddress)).toEqual([false, false, false]);
  });
});
