/**
 * An offer whose audio @roamhq/wrtc refuses without an error (a profile it does not speak, such
 * as `TCP/DTLS/RTP/SAVPF`): its answer names the section with port 0 and gathers no candidate.
 * Before, the answer waited out the whole ICE gathering timeout holding the process-wide answer
 * turn (every other browser's answer waited behind it), and the call was then answered 200 with
 * no media. It gets 488 at once now.
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
    { minPort: 36000, maxPort: 36099 },
    {
      sip: { host: HOST, port: 0, transports: ['udp'] },
      webSocket: { port: 0 },
      // Longer than the test waits for an answer: an answer that waits for gathering fails it.
      webrtc: { iceServers: [], portRange: { min: 36100, max: 36199 }, iceGatheringTimeoutMs: 60_000 }
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

describe('a WebRTC offer whose audio the peer connection refuses', () => {
  it.each(['TCP/DTLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVPFX'])(
    'gets 488 at once when its audio is %s',
    async (proto) => {
      const offer = browserOffer().replace('m=audio 9 UDP/TLS/RTP/SAVPF 111', `m=audio 9 ${proto} 111`);
      const final = await finalTo(offer, `refused-${proto.replace(/\W/g, '')}`);
      expect(final.status).toBe(488);
      expect(openPeerConnections()).toBe(0);
    },
    30_000
  );

  it('still answers a browser offer 200', async () => {
    const final = await finalTo(browserOffer(), 'refused-control');
    expect(final.status).toBe(200);
  }, 30_000);
});
