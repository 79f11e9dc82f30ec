/**
 * Browsers' offers are answered in turns, a few peer connections at a time, and the process
 * holds at most `webrtc.maxPeerConnections`. @roamhq/wrtc has each peer connection still gathering
 * gather again on the sockets of every one made after it: one WebSocket sending 34 offers of four
 * unbundled audio sections at once took 19,984 of the engine's 20,000 descriptors and libwebrtc
 * aborted the process. Here a burst of 10 such offers (6,278 descriptors before) must cost what
 * they cost one after another, and a call past the most gets 503 with Retry-After.
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import type { SipResponse } from '../../sip/message/message.js';
import { unbundledOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { WsSipClient } from '../support/ws-sip-client.js';

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

let engine: Engine;
let wsUrl: string;
const clients: WsSipClient[] = [];

beforeAll(async () => {
  ({ engine } = await startAnsweringEngine(
    { minPort: 61800, maxPort: 61899 },
    {
      webSocket: { port: 0 },
      // One client makes every call here: its source's share is lifted past the process's most.
      webrtc: { iceServers: [], maxPeerConnections: 12, maxPeerConnectionsPerSource: 20 },
      overloadGuard: false
    }
  ));
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  for (const client of clients) client.socket.terminate();
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

async function client(): Promise<WsSipClient> {
  const c = await WsSipClient.connect(wsUrl);
  clients.push(c);
  return c;
}

/** Sends an INVITE with `offer` and resolves with its final response. */
function invite(c: WsSipClient, callId: string, offer: string): Promise<SipResponse> {
  return c.invite('sip:room@127.0.0.1', callId, offer);
}

async function hangUp(c: WsSipClient, ok: SipResponse): Promise<void> {
  const toTag = /;tag=([^;]+)/.exec(ok.get('To') ?? '')![1];
  c.send(c.request('BYE', 'sip:room@127.0.0.1', { callId: ok.callId, toTag }));
  await c.response(ok.callId, 200);
}

describe('WebRTC answers in turns', () => {
  it('answers a burst of offers at the cost of answering them one after another', async () => {
    const browser = await client();
    const offer = unbundledOffer(4);
    const first = await invite(browser, 'one-alone', offer);
    expect(first.status).toBe(200);
    await hangUp(browser, first);
    await waitFor(() => openPeerConnections() === 0);

    const before = openDescriptors();
    const alone = await invite(browser, 'alone', offer);
    const perCall = openDescriptors() - before;
    await hangUp(browser, alone);
    await waitFor(() => openPeerConnections() === 0);

    const burstBefore = openDescriptors();
    const burst = await Promise.all(
      Array.from({ length: 10 }, (_, i) => invite(browser, `burst-${i}`, offer))
    );
    const burstCost = openDescriptors() - burstBefore;
    expect(burst.map((r) => r.status)).toEqual(new Array(10).fill(200));
    // Side by side each of the 10 had gathered again for those after it: 6,278 descriptors.
    expect(burstCost).toBeLessThan(10 * perCall * 2);
    await Promise.all(burst.map((ok) => hangUp(browser, ok)));
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);

  it('refuses a browser call past maxPeerConnections with 503 and Retry-After, and takes one again after a hang-up', async () => {
    const browser = await client();
    const offer = unbundledOffer(1);
    const held = await Promise.all(Array.from({ length: 12 }, (_, i) => invite(browser, `held-${i}`, offer)));
    expect(held.map((r) => r.status)).toEqual(new Array(12).fill(200));
    const refused = await invite(browser, 'one-too-many', offer);
    expect(refused.status).toBe(503);
    expect(refused.get('Retry-After')).toBe('5');
    expect(openPeerConnections()).toBe(12);
    await hangUp(browser, held[0]);
    await waitFor(() => openPeerConnections() === 11);
    const again = await invite(browser, 'room-again', offer);
    expect(again.status).toBe(200);
    await Promise.all([...held.slice(1), again].map((ok) => hangUp(browser, ok)));
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);
});
