/**
 * An offer whose audio @roamhq/wrtc refuses without an error (a profile it does not speak, such
 * as `TCP/DTLS/RTP/SAVPF`): its answer names the section with port 0 and gathers no candidate.
 * Before, the answer waited out the whole ICE gathering timeout holding the process-wide answer
 * turn (every other browser's answer waited behind it), and the call was then answered 200 with
 * no media. It gets 488 at once now.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { browserOffer } from '../support/browser-offer.js';
import { startBrowserEngine, type BrowserEngine } from '../support/websocket-browser-engine.js';

let setup: BrowserEngine;

beforeAll(async () => {
  setup = await startBrowserEngine(
    { minPort: 36000, maxPort: 36099 },
    // Longer than the test waits for an answer: an answer that waits for gathering fails it.
    { portRange: { min: 36100, max: 36199 }, iceGatheringTimeoutMs: 60_000 }
  );
});

afterAll(async () => {
  await setup?.stop();
  expect(openPeerConnections()).toBe(0);
});

describe('a WebRTC offer whose audio the peer connection refuses', () => {
  it.each(['TCP/DTLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVPFX'])(
    'gets 488 at once when its audio is %s',
    async (proto) => {
      const offer = browserOffer().replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', `m=audio 9 ${proto} 111`);
      const final = await setup.inviteRoom(offer, `refused-${proto.replace(/\W/g, '')}`);
      expect(final.status).toBe(488);
      expect(openPeerConnections()).toBe(0);
    },
    30_000
  );

  it('still answers a browser offer 200', async () => {
    const final = await setup.inviteRoom(browserOffer(), 'refused-control');
    expect(final.status).toBe(200);
  }, 30_000);
});
