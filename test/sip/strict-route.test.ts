/**
 * A dialog whose first route is a strict router (a Record-Route URI without `lr`, RFC 2543's
 * proxies and some old SBCs), on real UDP sockets. RFC 3261 §12.2.1.1: the strict router's URI
 * becomes the Request-URI and the remote target the last Route; §8.1.2: the request goes to the
 * Request-URI. Before, the BYE and the ACK kept the remote target as Request-URI and the whole
 * route set as Route, so the strict router found its own address nowhere but in a Route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, type AnySipMessage } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const HOST = '127.0.4.1';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function agent(): Promise<{ ua: SipUserAgent; port: number }> {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: HOST, port: 0 }],
    timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  return { ua, port: ua.addresses()[0].port };
}

async function peer(host: string): Promise<UdpTestPeer> {
  const p = await new UdpTestPeer().open(host);
  cleanups.push(() => p.close());
  return p;
}

const isRequest =
  (method: string) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipRequest && m.method === method;

describe('strict routing (RFC 3261 §12.2.1.1)', () => {
  it('as UAS, sends its BYE to a strict first router with that router as Request-URI and the remote target last in Route', async () => {
    const { ua, port } = await agent();
    const caller = await peer('127.0.4.2');
    const strict = await peer('127.0.4.3');
    const loose = `<sip:127.0.4.4:5999;lr>`;
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    const invite = sipText(
      [
        `INVITE sip:room@${HOST}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.4.2:${caller.port};branch=z9hG4bK-strict-1;rport`,
        'Max-Forwards: 70',
        `Record-Route: <sip:127.0.4.3:${strict.port};transport=udp>`,
        `Record-Route: ${loose}`,
        'From: <sip:trunk@127.0.4.2>;tag=trunk',
        `To: <sip:room@${HOST}>`,
        'Call-ID: strict-uas',
        'CSeq: 1 INVITE',
        `Contact: <sip:trunk@127.0.4.2:${caller.port}>`,
        'Content-Type: application/sdp'
      ],
      testSdp(7000, 1, 'sendrecv', '127.0.4.2')
    );
    await caller.send(invite, port, HOST);
    const session = await incoming;
    const acked = session.accept(testSdp(8000, 1, 'sendrecv', HOST));
    const ok = await caller.next((m) => !(m instanceof SipRequest) && m.status === 200);
    await caller.send(
      sipText([
        `ACK sip:uasmedia@${HOST}:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.4.2:${caller.port};branch=z9hG4bK-strict-ack;rport`,
        'Max-Forwards: 70',
        'From: <sip:trunk@127.0.4.2>;tag=trunk',
        `To: ${ok.get('To')}`,
        'Call-ID: strict-uas',
        'CSeq: 1 ACK'
      ]),
      port,
      HOST
    );
    await acked;
    const byeDone = session.bye();
    const bye = (await strict.next(isRequest('BYE'))) as SipRequest;
    expect(bye.uri).toBe(`sip:127.0.4.3:${strict.port};transport=udp`);
    expect(bye.getList('Route')).toEqual([loose, `<sip:trunk@127.0.4.2:${caller.port}>`]);
    await strict.send(responseTo(bye, 200).toBuffer(), port, HOST);
    await byeDone;
  });

  it('as UAC, sends its ACK and BYE to a strict first router (the last Record-Route of the 2xx) the same way', async () => {
    const { ua, port } = await agent();
    const callee = await peer('127.0.4.5');
    const strict = await peer('127.0.4.6');
    const loose = `<sip:127.0.4.7:5999;lr>`;
    const call = ua.invite(`sip:bob@127.0.4.5:${callee.port}`, { body: testSdp(5000, 1, 'sendrecv', HOST) });
    const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
    const ok = responseTo(invite, 200, 'callee');
    ok.add('Record-Route', loose);
    ok.add('Record-Route', `<sip:127.0.4.6:${strict.port}>`);
    ok.add('Contact', `<sip:bob@127.0.4.5:${callee.port}>`);
    ok.add('Content-Type', 'application/sdp');
    ok.body = Buffer.from(testSdp(4000, 1, 'sendrecv', '127.0.4.5'));
    await callee.send(ok.toBuffer(), port, HOST);
    const ack = (await strict.next(isRequest('ACK'))) as SipRequest;
    expect(ack.uri).toBe(`sip:127.0.4.6:${strict.port}`);
    expect(ack.getList('Route')).toEqual([loose, `<sip:bob@127.0.4.5:${callee.port}>`]);
    await call.established;
    const byeDone = call.bye();
    const bye = (await strict.next(isRequest('BYE'))) as SipRequest;
    expect(bye.uri).toBe(`sip:127.0.4.6:${strict.port}`);
    expect(bye.getList('Route')).toEqual([loose, `<sip:bob@127.0.4.5:${callee.port}>`]);
    await strict.send(responseTo(bye, 200).toBuffer(), port, HOST);
    await byeDone;
  });
});
