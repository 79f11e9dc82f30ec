/**
 * A browser that offers and vanishes: its peer connection never connects (here: no candidate at
 * all). The RTP inactivity timeout ends its call as it ends a silent phone's; before, the leg
 * had no RTP session to ask, so the call, its seat in the room, its DSP slot and its peer
 * connection stayed until a session refresh failed, by default half an hour later.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor, sleep } from '../support/wait.js';
import { WebRtcCaller } from '../support/webrtc-caller.js';
import { browserOffer } from '../support/browser-offer.js';

let engine: Engine;
let sipPort: number;
let wsUrl: string;
const channels: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 55000, maxPort: 55099, inactivityTimeoutSeconds: 2 },
    // The caller that vanishes is a bare SIP peer over UDP (WebSocket is the default, and only, transport).
    webrtc: { iceServers: [], transports: ['ws', 'udp'] },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => {
    channels.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  await engine?.stop();
  expect(openPeerConnections()).toBe(0);
});

describe('a WebRTC caller whose peer connection never connects', () => {
  it('is hung up by the inactivity timeout, and its peer connection closed', async () => {
    const peer = await new UdpTestPeer().open();
    try {
      const head = (method: string, branch: string, to: string): string[] => [
        `${method} sip:room@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${branch}`,
        'Max-Forwards: 70',
        'From: <sip:browser@127.0.0.1>;tag=vanish',
        `To: ${to}`,
        'Call-ID: webrtc-vanish',
        `CSeq: 1 ${method}`,
        `Contact: <sip:browser@127.0.0.1:${peer.port}>`
      ];
      const to = `<sip:room@127.0.0.1:${sipPort}>`;
      await peer.send(
        sipText([...head('INVITE', 'inv', to), 'Content-Type: application/sdp'], browserOffer()),
        sipPort
      );
      const ok = (await peer.next((m) => m instanceof SipResponse && m.status >= 200, 15000)) as SipResponse;
      expect(ok.status).toBe(200);
      await peer.send(sipText(head('ACK', 'ack', ok.get('To')!)), sipPort);
      expect(openPeerConnections()).toBe(1);
      // 2 s of inactivity, checked once a second: the BYE comes within about 3 s.
      const bye = (await peer.next(
        (m) => m instanceof SipRequest && m.method === 'BYE',
        15000
      )) as SipRequest;
      expect(bye.callId).toBe('webrtc-vanish');
      await waitFor(() => channels[0]?.state === State.IDLE && openPeerConnections() === 0);
    } finally {
      await peer.close();
    }
  }, 30000);

  it('while a browser whose connection is up stays, past the timeout', async () => {
    const caller = new WebRtcCaller({ toneHz: 440, user: 'stays' });
    try {
      const before = channels.length;
      const ok = await caller.call(wsUrl, 'sip:room2@127.0.0.1');
      expect(ok.status).toBe(200);
      await waitFor(() => channels.length > before && channels[before].state === State.ANSWERED);
      await sleep(4000); // twice the timeout
      expect(channels[before].state).toBe(State.ANSWERED);
      await channels[before].hangUp();
    } finally {
      await caller.close();
    }
  }, 30000);
});
