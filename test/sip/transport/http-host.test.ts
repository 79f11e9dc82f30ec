/**
 * The Host check against DNS rebinding (sip/transport/http-host.ts): IP literals and localhost
 * are no domain an attacker can re-point at us; any other name must be listed.
 */
import { describe, expect, it } from 'vitest';
import { hostAllowed } from '../../../sip/transport/http-host.js';

describe('hostAllowed', () => {
  it('takes IP literals, with or without a port, and localhost in any case', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.1:8088',
      '192.0.2.7:80',
      '[::1]',
      '[::1]:8088',
      '[2001:db8::7]:443',
      '[::ffff:127.0.0.1]:8088',
      'localhost',
      'LocalHost:8088',
      'localhost.:8088'
    ])
      expect(hostAllowed(host), host).toBe(true);
  });

  it('refuses a name that is not listed, and no Host at all', () => {
    for (const host of [
      'evil.example',
      'evil.example:8088',
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      'evil-localhost',
      '2130706433:8088'
    ])
      expect(hostAllowed(host), host).toBe(false);
    expect(hostAllowed(undefined)).toBe(false);
  });

  it('refuses a Host it cannot read: an empty one, a bad port, an unbracketed or broken IPv6 literal', () => {
    for (const host of [
      '',
      ':8088',
      '127.0.0.1:',
      '127.0.0.1:80a',
      '127.0.0.1:123456',
      '::1',
      '[::1',
      '[::1]x',
      '[::1]:',
      '[evil.example]'
    ])
      expect(hostAllowed(host), host).toBe(false);
  });

  it('takes listed names in any case and with a port; a wildcard matches one label under it', () => {
    const allowed = ['pbx.example.com', '*.rooms.example.com', 'Upper.Example.'];
    for (const host of [
      'pbx.example.com',
      'PBX.Example.Com:8088',
      'pbx.example.com.',
      'a.rooms.example.com',
      'b-2.rooms.example.com:443',
      'upper.example'
    ])
      expect(hostAllowed(host, allowed), host).toBe(true);
    for (const host of [
      'example.com',
      'x.pbx.example.com',
      'rooms.example.com',
      'a.b.rooms.example.com',
      '.rooms.example.com',
      'evilrooms.example.com'
    ])
      expect(hostAllowed(host, allowed), host).toBe(false);
  });
});
