/**
 * `engine.stop()` while browsers' offers are still being answered (the peer connections gather
 * ICE candidates for up to 3 s): every peer connection is closed when stop() resolves, so an
 * application may `process.exit()` then (@roamhq/wrtc crashes a process that exits with one
 * open). Before, they stayed open until their gathering ended, about 3 s later.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { browserOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { WsSipClient } from '../support/ws-sip-client.js';

describe('engine.stop() during WebRTC answers', () => {
  it('closes every peer connection before it resolves', async () => {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      webSocket: { port: 0 },
      rtp: { minPort: 61700, maxPort: 61799 },
      webrtc: { iceServers: [] },
      logLevel: 'silent'
    });
    engine.on('call', (channel) => void channel.answer().catch(() => undefined));
    await engine.start();
    const wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
    const clients: WsSipClient[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        const client = await WsSipClient.connect(wsUrl);
        clients.push(client);
        client.send(
          client.request('INVITE', 'sip:room@127.0.0.1', {
            body: browserOffer([`a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host`])
          })
        );
      }
      await waitFor(() => openPeerConnections() === 3);
      await engine.stop();
      expect(openPeerConnections()).toBe(0);
    } finally {
      for (const client of clients) client.socket.terminate();
      await engine.stop();
    }
  });
});
