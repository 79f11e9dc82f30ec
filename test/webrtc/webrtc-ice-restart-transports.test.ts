/**
 * A call's ICE restarts are counted in the transports they regather. Each restart keeps the
 * sockets it gathered, about four for each ICE transport, for the rest of the call: an offer of
 * four unbundled sections restarted 10 times held 215 descriptors, where the process reckons 64
 * a peer connection when it sets `maxPeerConnections` (156 such calls: 33,540, past the usual
 * limit of 20,000). A browser bundles its media into one transport and keeps its 10 restarts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import type { SipResponse } from '../../sip/message/message.js';
import { browserOffer, unbundledOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { startBrowserEngine, type BrowserEngine } from '../support/websocket-browser-engine.js';

let setup: BrowserEngine;

beforeAll(async () => {
  setup = await startBrowserEngine(
    { minPort: 63500, maxPort: 63549 },
    { portRange: { min: 63550, max: 63599 } }
  );
});

afterAll(async () => {
  await setup?.stop();
  expect(openPeerConnections()).toBe(0);
});

/** `offer` with new ICE credentials in every section: an ICE restart, the `k`-th. */
function restarted(offer: string, k: number): string {
  return offer
    .replace(/a=ice-ufrag:([^\r]+)/g, `a=ice-ufrag:$1r${k}`)
    .replace(
      /a=ice-pwd:([^\r]+)/g,
      (_, pwd: string) => `a=ice-pwd:${pwd.slice(0, 20)}r${String(k).padStart(4, '0')}`
    );
}

/** Places a call of `offer`, restarts its ICE `times` times, and resolves with each restart's status. */
async function restartStatuses(offer: string, callId: string, times: number): Promise<number[]> {
  const { browser } = setup;
  const uri = 'sip:room@127.0.6.1';
  browser.send(browser.request('INVITE', uri, { callId, cseq: 1, body: offer }));
  const ok = await browser.waitFor(
    (m): m is SipResponse => 'status' in m && m.callId === callId && m.status >= 200 && m.cseq.seq === 1
  );
  expect(ok.status).toBe(200);
  const toTag = /;tag=([^;]+)/.exec(ok.get('To') ?? '')![1];
  browser.send(browser.request('ACK', uri, { callId, toTag, cseq: 1 }));
  const statuses: number[] = [];
  for (let k = 1; k <= times; k++) {
    const cseq = k + 1;
    browser.send(browser.request('INVITE', uri, { callId, toTag, cseq, body: restarted(offer, k) }));
    const final = await browser.waitFor(
      (m): m is SipResponse => 'status' in m && m.callId === callId && m.status >= 200 && m.cseq.seq === cseq
    );
    if (final.status === 200) browser.send(browser.request('ACK', uri, { callId, toTag, cseq }));
    statuses.push(final.status);
  }
  // The call goes on after a refused restart, and ends when asked.
  browser.send(browser.request('BYE', uri, { callId, toTag, cseq: times + 2 }));
  const bye = await browser.waitFor(
    (m): m is SipResponse => 'status' in m && m.callId === callId && m.cseq.method === 'BYE'
  );
  expect(bye.status).toBe(200);
  return statuses;
}

describe('ICE restarts counted in transports', () => {
  it('gives an offer of two unbundled sections 5 restarts, then 488', async () => {
    expect(await restartStatuses(unbundledOffer(2), 'two-transports', 6)).toEqual([
      ...Array<number>(5).fill(200),
      488
    ]);
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);

  it('gives a bundled browser offer its 10 restarts', async () => {
    expect(await restartStatuses(browserOffer(), 'one-transport', 11)).toEqual([
      ...Array<number>(10).fill(200),
      488
    ]);
    await waitFor(() => openPeerConnections() === 0);
  }, 60_000);
});
