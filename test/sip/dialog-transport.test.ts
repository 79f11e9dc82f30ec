/**
 * A dialog set up over UDP whose remote target names another transport (RFC 3263 §4.1): a trunk
 * or SBC that sends its INVITE over UDP with `Contact: <sip:...;transport=tcp>`, on real sockets.
 * Its requests within the dialog go over TCP to that Contact, as FreeSWITCH and Asterisk send
 * them; before, the BYE went over UDP whatever the Contact said, to a port that may listen only
 * for TCP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { TcpListeningTestPeer, UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const HOST = '127.0.4.1';
const TRUNK = '127.0.4.8';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('a dialog whose remote target names its transport', () => {
  it('sends its BYE over TCP to a Contact with transport=tcp though the INVITE came over UDP', async () => {
    const ua = new SipUserAgent({
      transports: [
        { protocol: 'udp', host: HOST, port: 0 },
        { protocol: 'tcp', host: HOST, port: 0 }
      ],
      timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400 }
    });
    await ua.start();
    cleanups.push(() => ua.close());
    const port = ua.addresses().find((a) => a.protocol === 'udp')!.port;
    const udp = await new UdpTestPeer().open(TRUNK);
    const tcp = await new TcpListeningTestPeer().listen(TRUNK);
    cleanups.push(
      () => udp.close(),
      () => tcp.close()
    );
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    const from = `<sip:trunk@${TRUNK}>;tag=trunk`;
    await udp.send(
      sipText(
        [
          `INVITE sip:room@${HOST}:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP ${TRUNK}:${udp.port};branch=z9hG4bK-tcp-contact;rport`,
          'Max-Forwards: 70',
          `From: ${from}`,
          `To: <sip:room@${HOST}>`,
          'Call-ID: tcp-contact',
          'CSeq: 1 INVITE',
          `Contact: <sip:trunk@${TRUNK}:${tcp.port};transport=tcp>`,
          'Content-Type: application/sdp'
        ],
        testSdp(7000, 1, 'sendrecv', TRUNK)
      ),
      port,
      HOST
    );
    const session = await incoming;
    const acked = session.accept(testSdp(8000, 1, 'sendrecv', HOST));
    const ok = (await udp.next((m) => m instanceof SipResponse && m.status === 200)) as SipResponse;
    await udp.send(
      sipText([
        `ACK sip:uasmedia@${HOST}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP ${TRUNK}:${udp.port};branch=z9hG4bK-tcp-contact-ack;rport`,
        'Max-Forwards: 70',
        `From: ${from}`,
        `To: ${ok.get('To')}`,
        'Call-ID: tcp-contact',
        'CSeq: 1 ACK'
      ]),
      port,
      HOST
    );
    await acked;
    const byeDone = session.bye();
    const bye = (await tcp.next((m) => m instanceof SipRequest && m.method === 'BYE')) as SipRequest;
    expect(bye.uri).toBe(`sip:trunk@${TRUNK}:${tcp.port};transport=tcp`);
    expect(bye.vias[0].transport).toBe('TCP');
    await tcp.send(responseTo(bye, 200).toBuffer());
    await byeDone;
    expect(udp.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
  });
});
