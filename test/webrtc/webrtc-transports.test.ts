/**
 * A WebRTC offer is taken over WebSocket only, by default: over UDP (whose source anyone can
 * forge) it gets 488 before any peer connection exists, so the engine sends no STUN check to the
 * addresses the offer names. Before, one such datagram had it send STUN to up to 32 addresses of
 * the sender's choosing for about 18 s. `webrtc.transports` opens other transports.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { SipResponse } from '../../sip/message/message.js';
import { browserOffer } from '../support/browser-offer.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function engineWith(transports?: Array<'ws' | 'udp'>): Promise<number> {
  const engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    rtp: { minPort: 61600, maxPort: 61699 },
    webrtc: { iceServers: [], transports },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => void channel.answer().catch(() => undefined));
  await engine.start();
  cleanups.push(() => engine.stop());
  return engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
}

/** A WebRTC INVITE over UDP whose one candidate is a socket of ours: its final status, and what that socket got. */
async function inviteOverUdp(sipPort: number): Promise<{ status: number; stunReceived: () => number }> {
  const target = dgram.createSocket('udp4');
  let received = 0;
  target.on('message', () => received++);
  await new Promise<void>((resolve) => target.bind(0, '127.0.0.1', () => resolve()));
  const peer = await new UdpTestPeer().open();
  cleanups.push(async () => {
    target.close();
    await peer.close();
  });
  const candidate = `a=candidate:1 1 udp 2122260223 127.0.0.1 ${target.address().port} typ host`;
  await peer.send(
    sipText(
      [
        `INVITE sip:room@127.0.0.1:${sipPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKwebrtcudp`,
        'Max-Forwards: 70',
        'From: <sip:stranger@127.0.0.1>;tag=s1',
        `To: <sip:room@127.0.0.1:${sipPort}>`,
        'Call-ID: webrtc-over-udp',
        'CSeq: 1 INVITE',
        `Contact: <sip:stranger@127.0.0.1:${peer.port}>`,
        'Content-Type: application/sdp'
      ],
      browserOffer([candidate])
    ),
    sipPort
  );
  const final = (await peer.next((m) => m instanceof SipResponse && m.status >= 200, 15000)) as SipResponse;
  return { status: final.status, stunReceived: () => received };
}

describe('WebRTC offers by transport', () => {
  it('refuses one over UDP with 488, and sends nothing to its candidates', async () => {
    const { status, stunReceived } = await inviteOverUdp(await engineWith());
    expect(status).toBe(488);
    expect(openPeerConnections()).toBe(0);
    await sleep(1000);
    expect(stunReceived()).toBe(0);
  });

  it("takes one over UDP when webrtc.transports names 'udp' (an SBC in front)", async () => {
    const { status, stunReceived } = await inviteOverUdp(await engineWith(['ws', 'udp']));
    expect(status).toBe(200);
    expect(openPeerConnections()).toBe(1);
    const until = Date.now() + 10_000;
    while (stunReceived() === 0 && Date.now() < until) await sleep(50);
    expect(stunReceived()).toBeGreaterThan(0); // its connectivity checks go to the candidate
  });
});
