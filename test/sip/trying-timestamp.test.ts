/**
 * RFC 3261 §8.2.6.1: a 100 (Trying) copies the request's Timestamp, which a carrier's gateway
 * sends to time the round trip. It was left out, of the 100 to a new call and to a re-INVITE.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const HOST = '127.0.26.11';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a 100 Trying', () => {
  it('carries the Timestamp of the INVITE it answers', async () => {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: HOST, port: 0 }] });
    await ua.start();
    cleanups.push(() => ua.close());
    ua.on('invite', () => undefined);
    const peer = await new UdpTestPeer().open(HOST);
    cleanups.push(() => peer.close());
    const port = ua.addresses()[0].port;
    // Nobody answers: the 100 goes out once the call has waited TRYING_WITHIN_MS.
    const invite = sipText(
      [
        `INVITE sip:room@${HOST}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${HOST}:${peer.port};branch=z9hG4bK-ts-1;rport`,
        'Max-Forwards: 70',
        `From: <sip:+15551234567@carrier.example>;tag=carrier`,
        `To: <sip:room@${HOST}>`,
        'Call-ID: timestamp-1',
        'CSeq: 1 INVITE',
        `Contact: <sip:gw@${HOST}:${peer.port}>`,
        'Timestamp: 54.2 0.1',
        'Content-Type: application/sdp'
      ],
      testSdp(7000)
    );
    await peer.send(invite, port, HOST);
    const isTrying = (m: AnySipMessage): boolean => m instanceof SipResponse && m.status === 100;
    const trying = (await peer.next(isTrying)) as SipResponse;
    expect(trying.get('Timestamp')).toBe('54.2 0.1');
  });
});
