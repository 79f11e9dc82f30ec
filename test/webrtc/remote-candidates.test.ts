/**
 * The peer connection is given only the offer's candidates a browser could be reached at. Before,
 * a candidate naming a host name was resolved with the engine's own resolver (one naming
 * `localhost` drew 17 checks to 127.0.0.1), so an offer had the engine look up 32 names of a
 * stranger's choosing and check whatever addresses they stood for; unspecified, multicast and
 * broadcast addresses and port 0 name no one peer at all.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usableRemoteCandidates } from '../../engine/webrtc/remote-candidates.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { browserOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { startBrowserEngine, type BrowserEngine } from '../support/websocket-browser-engine.js';

const candidate = (address: string, port = 5000, transport = 'udp'): string =>
  `a=candidate:1 1 ${transport} 2122260223 ${address} ${port} typ host`;

describe('usableRemoteCandidates', () => {
  it('keeps UDP candidates at unicast IP addresses', () => {
    for (const address of ['192.0.2.7', '10.1.2.3', '127.0.0.1', '2001:db8::7', 'fe80::1', '::1']) {
      const sdp = browserOffer([candidate(address)]);
      expect(usableRemoteCandidates(sdp)).toBe(sdp);
    }
  });

  it('drops candidates at host names, unspecified, multicast and broadcast addresses, port 0, and TCP ones', () => {
    const dropped = [
      candidate('localhost'),
      candidate('pbx.internal.example'),
      candidate('0a1b2c3d-1111-2222-3333-444455556666.local'),
      candidate('0.0.0.0'),
      candidate('::'),
      candidate('0:0::0'),
      candidate('224.0.0.251', 5353),
      candidate('239.1.2.3'),
      candidate('255.255.255.255'),
      candidate('ff02::1'),
      candidate('::ffff:224.0.0.1'),
      candidate('192.0.2.7', 0),
      candidate('192.0.2.7', 5000, 'tcp'),
      'a=candidate:garbage'
    ];
    const kept = candidate('192.0.2.7');
    expect(usableRemoteCandidates(browserOffer([...dropped, kept]))).toBe(browserOffer([kept]));
  });
});

describe("a browser offer's host-name candidates", () => {
  let setup: BrowserEngine;
  const checks = { byName: 0, byAddress: 0 };
  const byName = dgram.createSocket('udp4');
  const byAddress = dgram.createSocket('udp4');

  beforeAll(async () => {
    setup = await startBrowserEngine(
      { minPort: 36800, maxPort: 36849 },
      { portRange: { min: 36850, max: 36899 } }
    );
    byName.on('message', () => checks.byName++);
    byAddress.on('message', () => checks.byAddress++);
    // `localhost` is 127.0.0.1 in /etc/hosts: the engine's resolver answers it without the network.
    await new Promise<void>((resolve) => byName.bind(0, '127.0.0.1', () => resolve()));
    await new Promise<void>((resolve) => byAddress.bind(0, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    await setup?.stop();
    byName.close();
    byAddress.close();
    expect(openPeerConnections()).toBe(0);
  });

  it('sends no check to the address a host name resolves to, and checks an IP address candidate', async () => {
    const final = await setup.inviteRoom(
      browserOffer([
        candidate('localhost', byName.address().port),
        candidate('127.0.0.1', byAddress.address().port)
      ]),
      'host-name-candidate'
    );
    expect(final.status).toBe(200);
    await waitFor(() => checks.byAddress >= 3);
    // The name's resolution runs beside the checks: give it time to have been made.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(checks.byName).toBe(0);
  }, 30_000);
});
