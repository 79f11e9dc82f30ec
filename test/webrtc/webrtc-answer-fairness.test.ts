/**
 * Browsers' answers wait for their turn fairly: turns go round the sources that wait, and one
 * source waits with at most 8. Before, the line was one queue of 64 in order: two sources that
 * kept it full had every other browser's call refused 503, and one that kept 39 answers waiting
 * made a browser from elsewhere wait 4.3 s for its answer.
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
    rtp: { minPort: 62300, maxPort: 62599 },
    logLevel: 'silent',
    webSocket: { port: 0 },
    // Each source's share of peer connections (40) is more than it asks for here.
    webrtc: { iceServers: [], maxPeerConnections: 160 },
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
  const cseq = ok.cseq.seq;
  c.send(c.request('ACK', 'sip:room@127.0.0.1', { callId: ok.callId, toTag, cseq }));
  c.send(c.request('BYE', 'sip:room@127.0.0.1', { callId: ok.callId, toTag, cseq: cseq + 1 }));
  await c.waitFor(
    (m): m is SipResponse => 'status' in m && m.callId === ok.callId && m.cseq.method === 'BYE'
  );
}

describe('the WebRTC answers waiting line', () => {
  it('answers a browser from a third address before two sources that fill the line', async () => {
    const hogs = await Promise.all([browserAt('127.0.0.5'), browserAt('127.0.0.6')]);
    const answeredAt = new Map<string, number>();
    const invite = (c: WsSipClient, callId: string): Promise<SipResponse> =>
      c.invite('sip:room@127.0.0.1', callId, browserOffer(), 30_000).then((response) => {
        if (response.status === 200) answeredAt.set(callId, performance.now());
        return response;
      });
    const flood = hogs.flatMap((hog, h) =>
      Array.from({ length: 33 }, (_, i) => ({ hog, call: invite(hog, `hog${h}-${i}`) }))
    );
    await waitFor(() => answeredAt.size >= 1);

    const browser = await browserAt('127.0.0.7');
    const welcome = await invite(browser, 'browser');
    expect(welcome.status).toBe(200);
    const hogResponses = await Promise.all(flood.map(({ call }) => call));
    // Its turn came round before the hogs' last waiting answers.
    const browserAnsweredAt = answeredAt.get('browser')!;
    for (const h of [0, 1]) {
      const last = Math.max(
        ...[...answeredAt].filter(([id]) => id.startsWith(`hog${h}-`)).map(([, at]) => at)
      );
      expect(
        browserAnsweredAt,
        `the browser's answer came ${Math.round(browserAnsweredAt - last)} ms after hog ${h}'s last`
      ).toBeLessThan(last);
    }

    // Each hog had at most 8 answers waiting; the rest were refused 486 at once.
    expect(hogResponses.filter((r) => r.status === 486).length).toBeGreaterThanOrEqual(2 * (33 - 10));

    await hangUp(browser, welcome);
    await Promise.all(
      flood.map(async ({ hog, call }) => {
        const response = await call;
        if (response.status === 200) await hangUp(hog, response);
      })
    );
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);
});
