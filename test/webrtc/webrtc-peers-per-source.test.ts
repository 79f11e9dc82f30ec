/**
 * One source holds at most its share of the process's browser peer connections
 * (`webrtc.maxPeerConnectionsPerSource`, default a quarter of `maxPeerConnections`). Before, one
 * WebSocket sending INVITEs in waves took every peer connection the process holds (156 in 17 s)
 * and each other browser's call got 503 for as long as it kept them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import type { SipResponse } from '../../sip/message/message.js';
import { browserOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import type { WsSipClient } from '../support/ws-sip-client.js';
import { WsBrowserEngine } from '../support/ws-browser-engine.js';

let site: WsBrowserEngine;

beforeAll(async () => {
  site = await WsBrowserEngine.start({
    rtp: { minPort: 62200, maxPort: 62299 },
    // A quarter of 4: one peer connection per source.
    webrtc: { iceServers: [], maxPeerConnections: 4 }
  });
});

afterAll(async () => {
  await site?.close();
  expect(openPeerConnections()).toBe(0);
});

const browserAt = (localAddress: string): Promise<WsSipClient> => site.browserAt(localAddress);
const hangUp = (c: WsSipClient, ok: SipResponse): Promise<void> => c.hangUp('sip:room@127.0.0.1', ok);

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

  it('gives a source its share back when its calls end while their answers are prepared (CANCEL, a closed WebSocket)', async () => {
    const racer = await browserAt('127.0.0.4');
    for (const delayMs of [0, 2, 10, 30, 60, 120]) {
      const callId = `cancelled-${delayMs}`;
      const invite = racer.request('INVITE', 'sip:room@127.0.0.1', { callId, body: browserOffer(), cseq: 1 });
      racer.send(invite);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const cancel = invite
        .replace(/^INVITE /, 'CANCEL ')
        .replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL')
        .replace(/Content-Type: application\/sdp\r\n/, '')
        .replace(/Content-Length: \d+\r\n\r\n[\s\S]*$/, 'Content-Length: 0\r\n\r\n');
      racer.send(cancel);
      const final = await racer.waitFor(
        (m): m is SipResponse =>
          'status' in m && m.callId === callId && m.status >= 200 && m.cseq.method === 'INVITE'
      );
      // Too late to cancel: the call was answered; it is hung up instead.
      if (final.status === 200) await hangUp(racer, final);
    }
    await waitFor(() => openPeerConnections() === 0);
    const leaver = await browserAt('127.0.0.4');
    leaver.send(leaver.request('INVITE', 'sip:room@127.0.0.1', { callId: 'left', body: browserOffer() }));
    // Closed while its peer connection is being made.
    await waitFor(() => openPeerConnections() === 1);
    leaver.socket.terminate();
    await waitFor(() => openPeerConnections() === 0);

    // Its share is whole again: one peer connection, so this call is answered, the next refused.
    const ok = await racer.invite('sip:room@127.0.0.1', 'after-races', browserOffer());
    expect(ok.status).toBe(200);
    const over = await racer.invite('sip:room@127.0.0.1', 'over-share', browserOffer());
    expect(over.status).toBe(486);
    await hangUp(racer, ok);
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);
});
