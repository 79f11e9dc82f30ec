/**
 * The per-source key (sip/admission/source-key.ts): an IPv4 host however the socket spelled it,
 * an IPv6 source by its /64, since a host holding a /64 chooses its own interface identifiers.
 */
import { describe, expect, it } from 'vitest';
import { sourceKey } from '../../../sip/admission/source-key.js';

describe('sourceKey', () => {
  it('keys two IPv6 addresses of one /64 alike, however they are written', () => {
    const key = sourceKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const same of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:1234:5678:9abc:def0',
      '[2001:db8:1:2::7]',
      '2001:db8:1:2:0:0:192.0.2.7'
    ])
      expect(sourceKey(same), same).toBe(key);
  });

  it('keys neighbouring /64s apart', () => {
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(sourceKey('2001:db8:1:2::1'));
    expect(sourceKey('2001:db8:1:2::1')).not.toBe(sourceKey('2001:db9:1:2::1'));
  });

  it("expands '::' wherever it stands", () => {
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('::')).toBe('0:0:0:0::/64');
    expect(sourceKey('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('2001::1:2:3:4')).toBe('2001:0:0:0::/64');
    expect(sourceKey('1:2:3::4:5:6')).toBe('1:2:3:0::/64');
    expect(sourceKey('1:2:3:4::')).toBe('1:2:3:4::/64');
  });

  it('keeps a link-local zone in the key: one /64 per interface', () => {
    expect(sourceKey('fe80::1%eth0')).toBe('fe80:0:0:0::%eth0/64');
    expect(sourceKey('fe80::2%eth0')).toBe(sourceKey('fe80::1%eth0'));
    expect(sourceKey('fe80::1%eth1')).not.toBe(sourceKey('fe80::1%eth0'));
  });

  it('keys an IPv4 host by its address, IPv4-mapped spellings included', () => {
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('192.0.2.8')).toBe('192.0.2.8');
    for (const mapped of [
      '::ffff:192.0.2.7',
      '::FFFF:192.0.2.7',
      '0:0:0:0:0:ffff:192.0.2.7',
      '::ffff:c000:207',
      '[::ffff:192.0.2.7]'
    ])
      expect(sourceKey(mapped), mapped).toBe('192.0.2.7');
  });

  it('leaves what is not an IP address as it is, in lower case', () => {
    expect(sourceKey('Host.Example')).toBe('host.example');
    expect(sourceKey('')).toBe('');
    expect(sourceKey('2001:db8::1::2')).toBe('2001:db8::1::2');
    expect(sourceKey('1.2.3.256')).toBe('1.2.3.256');
  });
});
