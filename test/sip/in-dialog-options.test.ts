/**
 * An OPTIONS within a call (a trunk's or SBC's keep-alive, or its probe of what the dialog may
 * carry) is answered as one outside a call is (RFC 3261 §11.2): 200 with Allow, Accept and
 * Supported. Before, the in-dialog 200 carried none of them, on real UDP sockets here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const HOST = '127.0.4.1';
const TRUNK = '127.0.4.9';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const answerTo =
  (method: string) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipResponse && m.cseq.method === method && m.status >= 200;

describe('OPTIONS within a dialog', () => {
  it('is answered 200 with Allow, Accept and Supported, as outside one', async () => {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: HOST, port: 0 }] });
    await ua.start();
    const peer = await new UdpTestPeer().open(TRUNK);
    cleanups.push(
      () => ua.close(),
      () => peer.close()
    );
    const port = ua.addresses()[0].port;
    const request = (method: string, seq: number, toTag = ''): string[] => [
      `${method} sip:room@${HOST}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${TRUNK}:${peer.port};branch=z9hG4bK-options-${method}-${seq};rport`,
      'Max-Forwards: 70',
      `From: <sip:trunk@${TRUNK}>;tag=trunk`,
      `To: <sip:room@${HOST}>${toTag}`,
      'Call-ID: in-dialog-options',
      `CSeq: ${seq} ${method}`,
      `Contact: <sip:trunk@${TRUNK}:${peer.port}>`
    ];
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(
      sipText(
        [...request('INVITE', 1), 'Content-Type: application/sdp'],
        testSdp(7000, 1, 'sendrecv', TRUNK)
      ),
      port,
      HOST
    );
    const session = await incoming;
    const acked = session.accept(testSdp(8000, 1, 'sendrecv', HOST));
    const ok = (await peer.next(answerTo('INVITE'))) as SipResponse;
    const toTag = `;tag=${ok.toTag}`;
    await peer.send(sipText(request('ACK', 1, toTag)), port, HOST);
    await acked;

    await peer.send(sipText(request('OPTIONS', 2, toTag)), port, HOST);
    const inDialog = (await peer.next(answerTo('OPTIONS'))) as SipResponse;
    expect(inDialog.status).toBe(200);
    expect(inDialog.getList('Allow')).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'BYE', 'OPTIONS']));
    expect(inDialog.getList('Accept')).toContain('application/sdp');
    expect(inDialog.getList('Supported')).toContain('timer');
  });
});
