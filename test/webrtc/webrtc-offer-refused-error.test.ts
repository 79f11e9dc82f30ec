/**
 * A browser offer that @roamhq/wrtc itself refuses (no ICE credentials, a fingerprint of a hash
 * it does not know, a BUNDLE group naming no section) gets 488, and the application's
 * `answer()` rejects with the `SipError` (`ERR_SIP_REJECTED`, status 488) that README documents
 * for a refused offer. Before, it rejected with wrtc's own DOMException (code 15, no `ERR_` code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, SipError } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { browserOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { WsSipClient } from '../support/ws-sip-client.js';

const HOST = '127.0.6.1';
let engine: Engine;
let browser: WsSipClient;
const answerErrors: unknown[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: HOST, port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 36600, maxPort: 36649 },
    webrtc: { iceServers: [], portRange: { min: 36650, max: 36699 } },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => void channel.answer().catch((error: unknown) => answerErrors.push(error)));
  await engine.start();
  browser = await WsSipClient.toEngine(engine, HOST);
});

afterAll(async () => {
  browser?.socket.terminate();
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

const offers: Array<[string, string]> = [
  ['no ICE credentials', browserOffer().replace(/a=ice-(ufrag|pwd):[^\r]*\r\n/g, '')],
  [
    'a fingerprint of an unknown hash',
    browserOffer().replace('a=fingerprint:sha-256', 'a=fingerprint:sha-999')
  ],
  ['a BUNDLE group naming no section', browserOffer().replace('a=group:BUNDLE 0', 'a=group:BUNDLE 0 7')]
];

describe('a browser offer the peer connection refuses', () => {
  it.each(offers)(
    'with %s: 488, and answer() rejects with SipError',
    async (_name, offer) => {
      const before = answerErrors.length;
      const callId = `refused-${before}`;
      const final = await browser.invite(`sip:room@${HOST}`, callId, offer);
      expect(final.status).toBe(488);
      await waitFor(() => answerErrors.length > before);
      const error = answerErrors[before];
      expect(error).toBeInstanceOf(SipError);
      expect((error as SipError).code).toBe('ERR_SIP_REJECTED');
      expect((error as SipError).status).toBe(488);
      expect(openPeerConnections()).toBe(0);
    },
    30_000
  );
});
