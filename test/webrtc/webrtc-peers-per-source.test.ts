/**
 * One source holds at most its share of the process's browser peer connections
 * (`webrtc.maxPeerConnectionsPerSource`, default a quarter of `maxPeerConnections`). Before, one
 * WebSocket sending INVITEs in waves took every peer connection the process holds (156 in 17 s)
 * and each other browser's call got 503 for as long as it kept them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import type { SipResponse } from '../../sip/message/message.js';
import { browserOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { WsSipClient } from '../support/ws-sip-client.js';

let engine: Engine;
let wsUrl: string;
const clients: WsSipClient[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 62200, maxPort: 62299 },
    logLevel: 'silent',
    webSocket: { port: 0 },
    // A quarter of 4: one peer connection per source.
    webrtc: { iceServers: [], maxPeerConnections: 4 },
    overloadGuard: false
  });
  engine.on('call', (channel) => void channel.answer().catch(() => undefined));
  await engine.start();
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

async function browserAt(localAddress: string): Promise<WsSipClient> {
  const c = await WsSipClient.connect(wsUrl, ['sip'], { localAddress });
  clients.push(c);
  return c;
}

async function hangUp(c: WsSipClient, ok: SipResponse): Promise<void> {
  const toTag = /;tag=([^;]+)/.exec(ok.get('To') ?? '')![1];
  c.send(c.request('BYE', 'sip:room@127.0.0.1', { callId: ok.callId, toTag }));
  await c.response(ok.callId, 200);
}

describe('browser peer connections per source', () => {
  it('refuses a source past its share with 486 Busy Here, and a browser from another address still gets in', async () => {
    const hog = await browserAt('127.0.0.2');
    const tries = await Promise.all(
      Array.from({ length: 4 }, (_, i) => hog.invite('sip:room@127.0.0.1', `hog-${i}`, browserOffer()))
    );
    expect(tries.map((r) => r.status).sort()).toEqual([200, 486, 486, 486]);
    expect(tries.find((r) => r.status === 486)!.get('Retry-After')).toBeUndefined();
    expect(openPeerConnections()).toBe(1);

    const other = await browserAt('127.0.0.3');
    const welcome = await other.invite('sip:room@127.0.0.1', 'other-source', browserOffer());
    expect(welcome.status).toBe(200);

    // The share comes back when the source's call ends.
    const held = tries.find((r) => r.status === 200)!;
    await hangUp(hog, held);
    await waitFor(() => openPeerConnections() === 1);
    const again = await hog.invite('sip:room@127.0.0.1', 'hog-again', browserOffer());
    expect(again.status).toBe(200);
    await Promise.all([hangUp(hog, again), hangUp(other, welcome)]);
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);
});
