/**
 * A user agent closing while an INVITE waits for its application's answer (the engine stopping
 * while a call's channel is still being set up): the caller gets a final 503 before the transports
 * close. Before, it got nothing and retransmitted its INVITE until Timer B (32 s).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';

const peers: UdpTestPeer[] = [];

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

describe('closing with an INVITE not yet answered', () => {
  it('answers it 503 before the transports close', async () => {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    let arrived = false;
    ua.on('invite', () => (arrived = true)); // the application never answers
    await ua.start();
    const uaPort = ua.addresses()[0].port;
    const peer = await new UdpTestPeer().open();
    peers.push(peer);
    await peer.send(
      sipText([
        `INVITE sip:room@127.0.0.1:${uaPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKclosepending`,
        'From: <sip:caller@127.0.0.1>;tag=cp',
        'To: <sip:room@127.0.0.1>',
        'Call-ID: close-with-invite-pending',
        'CSeq: 1 INVITE',
        'Max-Forwards: 70',
        `Contact: <sip:caller@127.0.0.1:${peer.port}>`
      ]),
      uaPort
    );
    await waitFor(() => arrived);
    await ua.close();
    const final = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'close-with-invite-pending' && m.status >= 200,
      5000
    )) as SipResponse;
    expect(final.status).toBe(503);
  });
});
