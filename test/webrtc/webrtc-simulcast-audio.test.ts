/**
 * One INVITE over the WebSocket whose audio asks the engine to send simulcast (RFC 8853:
 * `a=rid:a recv`, `a=rid:b recv`, `a=simulcast:recv a;b`) made @roamhq/wrtc 0.10 abort the whole
 * process (rtp_sender.cc: "Check failed: current_parameters.encodings.size() >=
 * init_parameters_.encodings.size() (1 vs. 2)"), every call with it. It gets 488 before a peer
 * connection exists, and the engine goes on answering browsers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { browserOffer } from '../support/browser-offer.js';
import { startBrowserEngine, type BrowserEngine } from '../support/websocket-browser-engine.js';

let setup: BrowserEngine;

beforeAll(async () => {
  setup = await startBrowserEngine(
    { minPort: 36400, maxPort: 36449 },
    { portRange: { min: 36450, max: 36499 } }
  );
});

afterAll(async () => {
  await setup?.stop();
  expect(openPeerConnections()).toBe(0);
});

describe('a WebRTC offer of simulcast audio', () => {
  it('gets 488, and the next browser is answered', async () => {
    const simulcast = browserOffer().replace(
      'a=sendrecv',
      ['a=sendrecv', 'a=rid:a recv', 'a=rid:b recv', 'a=simulcast:recv a;b'].join('\r\n')
    );
    expect((await setup.inviteRoom(simulcast, 'simulcast-audio')).status).toBe(488);
    expect(openPeerConnections()).toBe(0);
    expect((await setup.inviteRoom(browserOffer(), 'after-simulcast')).status).toBe(200);
  }, 30_000);
});
