/**
 * One INVITE over the WebSocket whose audio asks the engine to send simulcast (RFC 8853:
 * `a=rid:a recv`, `a=rid:b recv`, `a=simulcast:recv a;b`) made @roamhq/wrtc 0.10 abort the whole
 * process (rtp_sender.cc: "Check failed: current_parameters.encodings.size() >=
 * init_parameters_.encodings.size() (1 vs. 2)"), every call with it. It gets 488 before a peer
 * connection exists, and the engine goes on answering browsers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import type { SipResponse } from '../../sip/message/message.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { browserOffer } from '../support/browser-offer.js';
import { WsSipClient } from '../support/ws-sip-client.js';

const HOST = '127.0.6.1';
let engine: Engine;
let browser: WsSipClient;

beforeAll(async () => {
  ({ engine } = await startAnsweringEngine(
    { minPort: 36400, maxPort: 36449 },
    {
      sip: { host: HOST, port: 0, transports: ['udp'] },
      webSocket: { port: 0 },
      webrtc: { iceServers: [], portRange: { min: 36450, max: 36499 } }
    }
  ));
  browser = await WsSipClient.toEngine(engine, HOST);
});

afterAll(async () => {
  browser?.socket.terminate();
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

const finalTo = (offer: string, callId: string): Promise<SipResponse> =>
  browser.invite(`sip:room@${HOST}`, callId, offer);

describe('a WebRTC offer of simulcast audio', () => {
  it('gets 488, and the next browser is answered', async () => {
    const simulcast = browserOffer().replace(
      'a=sendrecv',
      ['a=sendrecv', 'a=rid:a recv', 'a=rid:b recv', 'a=simulcast:recv a;b'].join('\r\n')
    );
    expect((await finalTo(simulcast, 'simulcast-audio')).status).toBe(488);
    expect(openPeerConnections()).toBe(0);
    expect((await finalTo(browserOffer(), 'after-simulcast')).status).toBe(200);
  }, 30_000);
});
