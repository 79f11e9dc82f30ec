/**
 * The host names the engine's WebSocket port answers besides IP addresses and localhost
 * (engine/webrtc/websocket-options.ts): the listed ones and the ones the engine knows itself by.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ownHostNames } from '../../engine/webrtc/websocket-options.js';
import { hasPeer } from '../support/peers.js';
import { makeTestCertificate, type TestCertificate } from '../support/tls-certificate.js';

const certificates: TestCertificate[] = [];
afterAll(() => certificates.forEach((c) => c.remove()));

describe('ownHostNames', () => {
  it('are the listed names, and the bind and SIP hosts when they are names rather than addresses', () => {
    expect(ownHostNames({ allowedHosts: ['rooms.example.com'] }, '127.0.0.1')).toEqual(['rooms.example.com']);
    expect(ownHostNames({ host: '0.0.0.0' }, '::')).toEqual([]);
    expect(ownHostNames({}, 'pbx.example.com')).toEqual(['pbx.example.com']);
    expect(
      ownHostNames({ host: 'ws.example.com', allowedHosts: ['a.example.com'] }, 'sip.example.com')
    ).toEqual(['a.example.com', 'ws.example.com', 'sip.example.com']);
  });

  it.skipIf(!hasPeer('openssl'))(
    'include the DNS names of the TLS certificate, wildcards as they are',
    () => {
      const certificate = makeTestCertificate(['pbx.example.com', '*.rooms.example.com']);
      certificates.push(certificate);
      const tls = { cert: certificate.cert, key: certificate.key };
      expect(ownHostNames({ tls }, '127.0.0.1')).toEqual(['pbx.example.com', '*.rooms.example.com']);
      expect(ownHostNames({ tls: { cert: 'not a certificate', key: '' } }, '127.0.0.1')).toEqual([]);
    }
  );
});
