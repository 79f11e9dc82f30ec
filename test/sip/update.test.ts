/**
 * UPDATE (RFC 3311) from a trunk, SBC or phone, on real UDP sockets: a session refresh without a
 * body (RFC 4028 §7.4), a new offer in a call, and UPDATEs in early dialogs, ours and a callee's.
 * Before, every UPDATE got 405, so a peer refreshing its session by UPDATE had its call ended by
 * our session timer at expiry, and a hold sent as UPDATE was refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { FakeClock } from '../support/sip-fake-clock.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, optionsText, sipText } from '../support/sip-udp-peer.js';

const HOST = '127.0.4.1';
const PEER = '127.0.4.10';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An agent on a fake clock with 90 s sessions (unrefreshed, one ends at 60 s), and a peer. */
async function setup(): Promise<{ ua: SipUserAgent; clock: FakeClock; peer: UdpTestPeer; port: number }> {
  const clock = new FakeClock();
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: HOST, port: 0 }],
    clock,
    sessionTimer: { expiresSeconds: 90, minSeSeconds: 90 }
  });
  await ua.start();
  const peer = await new UdpTestPeer().open(PEER);
  cleanups.push(
    () => ua.close(),
    () => peer.close()
  );
  return { ua, clock, peer, port: ua.addresses()[0].port };
}

/** A request of the caller's in call `callId` (its To tag once it has one), with extra header lines. */
function callerRequest(
  method: string,
  port: number,
  peer: UdpTestPeer,
  callId: string,
  seq: number,
  toTag?: string,
  extra: string[] = []
): string[] {
  return [
    `${method} sip:room@${HOST}:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${PEER}:${peer.port};branch=z9hG4bK-${callId}-${method}-${seq};rport`,
    'Max-Forwards: 70',
    `From: <sip:trunk@${PEER}>;tag=trunk`,
    `To: <sip:room@${HOST}>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${callId}`,
    `CSeq: ${seq} ${method}`,
    `Contact: <sip:trunk@${PEER}:${peer.port}>`,
    ...extra
  ];
}

const withSdp = (lines: string[], sdp: string): string =>
  sipText([...lines, 'Content-Type: application/sdp'], sdp);

const answerTo =
  (method: string, callId: string) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipResponse && m.callId === callId && m.cseq.method === method && m.status >= 200;

/** The agent has handled all the peer sent before, and the peer has all the agent sent before. */
async function barrier(peer: UdpTestPeer, port: number, name: string): Promise<void> {
  await peer.send(optionsText(name, 'UDP', peer.port, port).replaceAll('127.0.0.1', PEER), port, HOST);
  await peer.next(answerTo('OPTIONS', name));
}

/** A call the agent answered and the caller ACKed, the caller refreshing it every 90 s. */
async function answeredCall(callId: string) {
  const { ua, clock, peer, port } = await setup();
  const ended: string[] = [];
  const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
  const timer = ['Supported: timer', 'Session-Expires: 90;refresher=uac'];
  await peer.send(
    withSdp(
      callerRequest('INVITE', port, peer, callId, 1, undefined, timer),
      testSdp(7000, 1, 'sendrecv', PEER)
    ),
    port,
    HOST
  );
  const session = await incoming;
  session.on('terminated', (e: { reason: string }) => ended.push(e.reason));
  const acked = session.accept(testSdp(8000, 1, 'sendrecv', HOST));
  const ok = (await peer.next(answerTo('INVITE', callId))) as SipResponse;
  expect(ok.get('Allow')).toContain('UPDATE');
  const toTag = ok.toTag ?? '';
  await peer.send(sipText(callerRequest('ACK', port, peer, callId, 1, toTag)), port, HOST);
  await acked;
  return { clock, peer, port, session, toTag, ended };
}

describe('UPDATE (RFC 3311)', () => {
  it('takes a session refresh by UPDATE without a body: 200 with Session-Expires, and the call outlives its first expiry', async () => {
    const { clock, peer, port, toTag, ended } = await answeredCall('update-refresh');
    clock.advance(45_000);
    const refresh = ['Supported: timer', 'Session-Expires: 90;refresher=uac'];
    await peer.send(
      sipText(callerRequest('UPDATE', port, peer, 'update-refresh', 2, toTag, refresh)),
      port,
      HOST
    );
    const ok = (await peer.next(answerTo('UPDATE', 'update-refresh'))) as SipResponse;
    expect(ok.status).toBe(200);
    expect(ok.get('Session-Expires')).toBe('90;refresher=uac');
    expect(ok.body.length).toBe(0);
    // Unrefreshed, the session ended 60 s after the 200 (90 − 90/3); refreshed at 45 s, it runs to 105.
    clock.advance(50_000);
    await barrier(peer, port, 'update-refresh-barrier');
    expect(peer.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
    expect(ended).toEqual([]);
  });

  it('answers an offer in an UPDATE in its 200 through the offer handler, and reports it as a re-INVITE is', async () => {
    const { peer, port, session, toTag } = await answeredCall('update-offer');
    const offers: string[] = [];
    session.offerHandler = (offer) => {
      offers.push(offer);
      return testSdp(8000, 2, 'recvonly', HOST);
    };
    const changed = new Promise<{ remoteSdp: string }>((resolve) => session.once('reinvite', resolve));
    const hold = testSdp(7000, 2, 'sendonly', PEER);
    await peer.send(withSdp(callerRequest('UPDATE', port, peer, 'update-offer', 2, toTag), hold), port, HOST);
    const ok = (await peer.next(answerTo('UPDATE', 'update-offer'))) as SipResponse;
    expect(ok.status).toBe(200);
    expect(ok.get('Content-Type')).toBe('application/sdp');
    expect(ok.bodyText).toContain('a=recvonly');
    expect(offers).toEqual([hold]);
    expect((await changed).remoteSdp).toBe(hold);
  });

  it('in our early dialog takes an UPDATE without a body, and answers an offer 500 with Retry-After (§5.2)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(
      withSdp(callerRequest('INVITE', port, peer, 'update-early', 1), testSdp(7000, 1, 'sendrecv', PEER)),
      port,
      HOST
    );
    const session = await incoming;
    session.progress(180);
    const ringing = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'update-early' && m.status === 180
    )) as SipResponse;
    const toTag = ringing.toTag ?? '';
    await peer.send(sipText(callerRequest('UPDATE', port, peer, 'update-early', 2, toTag)), port, HOST);
    expect(((await peer.next(answerTo('UPDATE', 'update-early'))) as SipResponse).status).toBe(200);
    await peer.send(
      withSdp(
        callerRequest('UPDATE', port, peer, 'update-early', 3, toTag),
        testSdp(7002, 2, 'sendrecv', PEER)
      ),
      port,
      HOST
    );
    const refused = (await peer.next(answerTo('UPDATE', 'update-early'))) as SipResponse;
    expect(refused.status).toBe(500);
    expect(Number(refused.get('Retry-After'))).toBeLessThanOrEqual(10);
    session.reject(486);
    await peer.next(answerTo('INVITE', 'update-early'));
  });

  it('answers a re-INVITE in our early dialog 500 with Retry-After, and the call can still be answered (RFC 3261 §14.2)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(
      withSdp(callerRequest('INVITE', port, peer, 'reinvite-early', 1), testSdp(7000, 1, 'sendrecv', PEER)),
      port,
      HOST
    );
    const session = await incoming;
    session.progress(180);
    const ringing = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'reinvite-early' && m.status === 180
    )) as SipResponse;
    await peer.send(
      withSdp(
        callerRequest('INVITE', port, peer, 'reinvite-early', 2, ringing.toTag),
        testSdp(7002, 2, 'sendrecv', PEER)
      ),
      port,
      HOST
    );
    const refused = (await peer.next(
      (m) => answerTo('INVITE', 'reinvite-early')(m) && (m as SipResponse).cseq.seq === 2
    )) as SipResponse;
    // It was 481: the early dialog does exist, and a 481 has the caller end it (§12.2.1.2).
    expect(refused.status).toBe(500);
    expect(Number(refused.get('Retry-After'))).toBeLessThanOrEqual(10);
    void session.accept(testSdp(5000, 1, 'sendrecv', HOST)).catch(() => undefined);
    const ok = (await peer.next(answerTo('INVITE', 'reinvite-early'))) as SipResponse;
    expect([ok.status, ok.cseq.seq]).toEqual([200, 1]);
  });

  it("answers a re-INVITE in a callee's early dialog 491 while our INVITE is unanswered (RFC 3261 §14.2)", async () => {
    const { ua, peer, port } = await setup();
    const call = ua.invite(`sip:bob@${PEER}:${peer.port}`, { body: testSdp(5000, 1, 'sendrecv', HOST) });
    const invite = (await peer.next((m) => m instanceof SipRequest && m.method === 'INVITE')) as SipRequest;
    const ringing = responseTo(invite, 180, 'callee').add('Contact', `<sip:bob@${PEER}:${peer.port}>`);
    await peer.send(ringing.toBuffer(), port, HOST);
    const reinvite = [
      `INVITE sip:uasmedia@${HOST}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${PEER}:${peer.port};branch=z9hG4bK-callee-reinvite;rport`,
      'Max-Forwards: 70',
      `From: ${invite.get('To')};tag=callee`,
      `To: ${invite.get('From')}`,
      `Call-ID: ${invite.callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:bob@${PEER}:${peer.port}>`
    ];
    await peer.send(withSdp(reinvite, testSdp(4000, 1, 'sendrecv', PEER)), port, HOST);
    const refused = (await peer.next(
      (m) => answerTo('INVITE', invite.callId)(m) && m.get('Via')?.includes('callee-reinvite') === true
    )) as SipResponse;
    expect(refused.status).toBe(491);
    await peer.send(responseTo(invite, 486, 'callee').toBuffer(), port, HOST);
    await expect(call.established).rejects.toMatchObject({ status: 486 });
  });

  it("in a callee's early dialog takes an UPDATE without a body, and answers an offer 491 (§5.2)", async () => {
    const { ua, peer, port } = await setup();
    const call = ua.invite(`sip:bob@${PEER}:${peer.port}`, { body: testSdp(5000, 1, 'sendrecv', HOST) });
    const invite = (await peer.next((m) => m instanceof SipRequest && m.method === 'INVITE')) as SipRequest;
    const ringing = responseTo(invite, 180, 'callee').add('Contact', `<sip:bob@${PEER}:${peer.port}>`);
    await peer.send(ringing.toBuffer(), port, HOST);
    const calleeRequest = (seq: number): string[] => [
      `UPDATE sip:uasmedia@${HOST}:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${PEER}:${peer.port};branch=z9hG4bK-callee-update-${seq};rport`,
      'Max-Forwards: 70',
      `From: ${invite.get('To')};tag=callee`,
      `To: ${invite.get('From')}`,
      `Call-ID: ${invite.callId}`,
      `CSeq: ${seq} UPDATE`,
      `Contact: <sip:bob@${PEER}:${peer.port}>`
    ];
    await peer.send(sipText(calleeRequest(1)), port, HOST);
    expect(((await peer.next(answerTo('UPDATE', invite.callId))) as SipResponse).status).toBe(200);
    await peer.send(withSdp(calleeRequest(2), testSdp(4000, 1, 'sendrecv', PEER)), port, HOST);
    expect(((await peer.next(answerTo('UPDATE', invite.callId))) as SipResponse).status).toBe(491);
    await peer.send(responseTo(invite, 486, 'callee').toBuffer(), port, HOST);
    await expect(call.established).rejects.toMatchObject({ status: 486 });
  });
});
