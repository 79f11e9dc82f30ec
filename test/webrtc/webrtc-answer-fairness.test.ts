/**
 * Browsers' answers wait for their turn fairly: turns go round the sources that wait, and one
 * source waits with at most 8. Before, the line was one queue of 64 in order: two sources that
 * kept it full had every other browser's call refused 503, and one that kept 39 answers waiting
 * made a browser from elsewhere wait 4.3 s for its answer.
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
    rtp: { minPort: 62300, maxPort: 62599 },
    // Each source's share of peer connections (40) is more than it asks for here.
    webrtc: { iceServers: [], maxPeerConnections: 160 }
  });
});

afterAll(async () => {
  await site?.close();
  expect(openPeerConnections()).toBe(0);
});

const browserAt = (localAddress: string): Promise<WsSipClient> => site.browserAt(localAddress);
const hangUp = (c: WsSipClient, ok: SipResponse): Promise<void> => c.hangUp('sip:room@127.0.0.1', ok);

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
