/**
 * The secure WebSocket port (the join page and SIP over WSS) refuses TLS 1.2 renegotiation as SIP
 * over TLS does: each is a full handshake on the media's event loop that no connection limit sees.
 * As a plain `https` server it took three per connection in ten minutes, Node's default.
 */
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { hasPeer } from '../../support/peers.js';
import { makeTestCertificate, type TestCertificate } from '../../support/tls-certificate.js';

const haveOpenssl = hasPeer('openssl');
let certificate: TestCertificate;
const agents: SipUserAgent[] = [];

beforeAll(() => {
  if (haveOpenssl) certificate = makeTestCertificate();
});
afterAll(() => certificate?.remove());
afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

/** Connects over TLS 1.2 and asks for a renegotiation; what came of it. */
async function renegotiate(port: number): Promise<string> {
  const client = tls.connect({ host: '127.0.0.1', port, ca: certificate.cert, maxVersion: 'TLSv1.2' });
  client.on('error', () => undefined);
  try {
    await new Promise((resolve, reject) => {
      client.once('secureConnect', resolve);
      client.once('error', reject);
    });
    return await new Promise<string>((resolve) => {
      const asked = client.renegotiate({ rejectUnauthorized: false }, (error) =>
        resolve(error ? `refused: ${error.message}` : 'renegotiated')
      );
      if (!asked) resolve('not sent');
      client.once('error', (error) => resolve(`refused: ${error.message}`));
      client.once('close', () => resolve('closed'));
    });
  } finally {
    client.destroy();
  }
}

describe.skipIf(!haveOpenssl)('the WSS port and TLS renegotiation', () => {
  it('refuses a TLS 1.2 renegotiation', async () => {
    const ua = new SipUserAgent({
      transports: [
        {
          protocol: 'ws',
          host: '127.0.0.1',
          port: 0,
          ws: { tls: { cert: certificate.cert, key: certificate.key } }
        }
      ]
    });
    agents.push(ua);
    await ua.start();
    expect(await renegotiate(ua.addresses()[0].port)).toMatch(/^refused: .*no renegotiation/);
  });
});
