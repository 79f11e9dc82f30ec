/**
 * The UAS side driven by a raw SIP peer on real sockets: 2xx retransmission until ACK,
 * absorbed INVITE retransmissions, re-INVITE offer/answer (hold, new address, 488, 491),
 * CSeq ordering, 481 for unknown dialogs, and digest authentication of our UAC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import { createChallenge, verifyAuthorization } from '../../sip/auth/digest.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { InviteAdmission, type AdmissionResult } from '../../sip/admission/invite-admission.js';
import { OFFER_ANSWER_TIMEOUT_MS } from '../../sip/session/invite-session.js';
import { systemClock, type Clock, type TimerHandle } from '../../sip/transaction/timers.js';
import { testSdp } from '../support/sip-sdp.js';
import { responseTo } from '../support/sip-messages.js';
import { UdpTestPeer, optionsText, sipText } from '../support/sip-udp-peer.js';
import { SIP_I_CONTENT_TYPE, sipIBody } from '../support/sip-i-body.js';
import { waitFor } from '../support/wait.js';

const TIMERS = { t1Ms: 40, t2Ms: 320, t4Ms: 400 };
const cleanups: Array<() => Promise<void>> = [];

async function setup(clock?: Clock): Promise<{ ua: SipUserAgent; peer: UdpTestPeer; port: number }> {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: TIMERS,
    clock
  });
  await ua.start();
  const peer = await new UdpTestPeer().open();
  cleanups.push(
    () => ua.close(),
    () => peer.close()
  );
  return { ua, peer, port: ua.addresses()[0].port };
}

afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

let branchCounter = 0;
function inviteText(
  peerPort: number,
  uaPort: number,
  opts: {
    callId: string;
    cseq?: number;
    method?: string;
    toTag?: string;
    body?: string;
    branch?: string;
    contentType?: string;
  }
): string {
  const method = opts.method ?? 'INVITE';
  const body = opts.body ?? (method === 'INVITE' ? testSdp(7000) : '');
  const lines = [
    `${method} sip:room@127.0.0.1:${uaPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${opts.branch ?? `z9hG4bK-peer-${++branchCounter}`};rport`,
    'Max-Forwards: 70',
    '"Peer Phone" <sip:peer@127.0.0.1>;tag=peer-tag'.replace(/^/, 'From: '),
    `To: <sip:room@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    `Contact: <sip:peer@127.0.0.1:${peerPort}>`
  ];
  if (body.length > 0) lines.push(`Content-Type: ${opts.contentType ?? 'application/sdp'}`);
  return sipText(lines, body);
}

function ackText(
  peerPort: number,
  uaPort: number,
  callId: string,
  toTag: string,
  cseq = 1,
  body = '',
  contentType = 'application/sdp'
): string {
  const lines = [
    `ACK sip:uasmedia@127.0.0.1:${uaPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-ack-${++branchCounter};rport`,
    'Max-Forwards: 70',
    'From: <sip:peer@127.0.0.1>;tag=peer-tag',
    `To: <sip:room@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ACK`
  ];
  if (body) lines.push(`Content-Type: ${contentType}`);
  return sipText(lines, body);
}

const isResponse =
  (callId: string, status: number, method = 'INVITE') =>
  (m: AnySipMessage) =>
    m instanceof SipResponse && m.callId === callId && m.status === status && m.cseq.method === method;

async function establish(
  ua: SipUserAgent,
  peer: UdpTestPeer,
  port: number,
  callId: string
): Promise<{ session: IncomingInvite; toTag: string }> {
  const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
  await peer.send(inviteText(peer.port, port, { callId }), port);
  const session = await incoming;
  const acked = session.accept(testSdp(8000));
  const ok = (await peer.next(isResponse(callId, 200))) as SipResponse;
  const toTag = ok.toTag ?? '';
  await peer.send(ackText(peer.port, port, callId, toTag), port);
  await acked;
  return { session, toTag };
}

describe('UAS INVITE handling over real UDP', () => {
  it('answers 100 Trying at once and absorbs a retransmitted INVITE (one invite event)', async () => {
    const { ua, peer, port } = await setup();
    let invites = 0;
    ua.on('invite', () => invites++);
    const text = inviteText(peer.port, port, { callId: 'absorb-1', branch: 'z9hG4bK-same' });
    await peer.send(text, port);
    await peer.next(isResponse('absorb-1', 100));
    await peer.send(text, port);
    await peer.next(isResponse('absorb-1', 100));
    expect(invites).toBe(1);
  });

  it('retransmits the 200 OK until the ACK arrives, then stops (§13.3.1.4)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(inviteText(peer.port, port, { callId: 'rtx-1' }), port);
    const session = await incoming;
    const acked = session.accept(testSdp(8000));
    const first = (await peer.next(isResponse('rtx-1', 200))) as SipResponse;
    await peer.next(isResponse('rtx-1', 200), 1000);
    await peer.next(isResponse('rtx-1', 200), 1000);
    expect(first.body.toString()).toContain('m=audio 8000');
    expect(first.get('Contact')).toContain(`127.0.0.1:${port}`);
    await peer.send(ackText(peer.port, port, 'rtx-1', first.toTag ?? ''), port);
    await acked;
    const countAfterAck = peer.received.filter(isResponse('rtx-1', 200)).length;
    await new Promise((r) => setTimeout(r, 8 * TIMERS.t1Ms));
    expect(peer.received.filter(isResponse('rtx-1', 200)).length).toBe(countAfterAck);
  });

  it('without any ACK, rejects accept() after 64*T1 and sends BYE', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(inviteText(peer.port, port, { callId: 'noack-1' }), port);
    const session = await incoming;
    const ended = new Promise((resolve) => session.once('terminated', (e) => resolve(e.reason)));
    await expect(session.accept(testSdp(8000))).rejects.toMatchObject({ code: 'ERR_SIP_TIMEOUT' });
    expect(await ended).toBe('timeout');
    const bye = (await peer.next(
      (m) => m instanceof SipRequest && m.method === 'BYE' && m.callId === 'noack-1'
    )) as SipRequest;
    expect(bye.uri).toBe(`sip:peer@127.0.0.1:${peer.port}`);
  });

  it('re-INVITE to hold and to a new address goes through offerHandler and emits reinvite', async () => {
    const { ua, peer, port } = await setup();
    const { session, toTag } = await establish(ua, peer, port, 'reinv-1');
    const offers: string[] = [];
    session.offerHandler = (offer) => {
      offers.push(offer);
      return testSdp(8000, 2, offer.includes('sendonly') ? 'recvonly' : 'sendrecv');
    };
    const events: Array<{ remoteSdp: string; localSdp: string }> = [];
    session.on('reinvite', (e) => events.push(e));
    const hold = testSdp(7000, 2, 'sendonly');
    await peer.send(inviteText(peer.port, port, { callId: 'reinv-1', cseq: 2, toTag, body: hold }), port);
    const ok = (await peer.next(isResponse('reinv-1', 200))) as SipResponse;
    expect(ok.body.toString()).toContain('a=recvonly');
    await peer.send(ackText(peer.port, port, 'reinv-1', toTag, 2), port);
    const moved = testSdp(7100, 3, 'sendrecv', '127.0.0.2');
    await peer.send(inviteText(peer.port, port, { callId: 'reinv-1', cseq: 3, toTag, body: moved }), port);
    await peer.next(isResponse('reinv-1', 200));
    expect(offers).toEqual([hold, moved]);
    expect(events.map((e) => e.remoteSdp)).toEqual([hold, moved]);
    expect(session.remoteSdp).toContain('c=IN IP4 127.0.0.2');
  });

  it('takes the SDP of a multipart re-INVITE and ACK, and answers 415 to a required part it does not understand', async () => {
    const { ua, peer, port } = await setup();
    const { session, toTag } = await establish(ua, peer, port, 'reinv-mp');
    const offers: string[] = [];
    session.offerHandler = (offer) => {
      offers.push(offer);
      return testSdp(8000, offers.length + 1, offer.includes('sendonly') ? 'recvonly' : 'sendrecv');
    };
    const hold = testSdp(7000, 2, 'sendonly');
    const reinvite = (cseq: number, body: string, contentType = SIP_I_CONTENT_TYPE) =>
      peer.send(inviteText(peer.port, port, { callId: 'reinv-mp', cseq, toTag, body, contentType }), port);
    await reinvite(2, sipIBody(hold, 'optional'));
    const ok = (await peer.next(isResponse('reinv-mp', 200))) as SipResponse;
    expect(ok.body.toString()).toContain('a=recvonly');
    await peer.send(ackText(peer.port, port, 'reinv-mp', toTag, 2), port);
    expect(offers).toEqual([hold]);

    await reinvite(3, sipIBody(testSdp(7000, 3), 'required'));
    const refused = (await peer.next(isResponse('reinv-mp', 415))) as SipResponse;
    expect(refused.get('Accept')).toContain('multipart/mixed');
    expect(offers).toHaveLength(1);
    expect(session.terminated).toBe(false);

    // An offerless re-INVITE: our offer goes in the 200 and the answer comes in a multipart ACK.
    await reinvite(4, '', 'application/sdp');
    await peer.next(isResponse('reinv-mp', 200));
    const answer = testSdp(7200, 4);
    await peer.send(
      ackText(peer.port, port, 'reinv-mp', toTag, 4, sipIBody(answer, 'optional'), SIP_I_CONTENT_TYPE),
      port
    );
    await waitFor(() => session.remoteSdp === answer, 5000);
    expect(session.terminated).toBe(false);
  });

  it('answers a re-INVITE with the offerHandler’s status (488) and keeps the call', async () => {
    const { ua, peer, port } = await setup();
    const { session, toTag } = await establish(ua, peer, port, 'reinv-488');
    session.offerHandler = () => {
      throw Object.assign(new Error('no common codec'), { status: 488 });
    };
    await peer.send(
      inviteText(peer.port, port, { callId: 'reinv-488', cseq: 2, toTag, body: testSdp(7000, 2) }),
      port
    );
    await peer.next(isResponse('reinv-488', 488));
    expect(session.terminated).toBe(false);
  });

  it("waits for an offerHandler's promise: 100 Trying, then its answer; another offer meanwhile gets 500 with a Retry-After, and our own re-INVITE is refused", async () => {
    const { ua, peer, port } = await setup();
    const { session, toTag } = await establish(ua, peer, port, 'reinv-async');
    let answer: (sdp: string) => void = () => undefined;
    session.offerHandler = () => new Promise<string>((resolve) => (answer = resolve));
    const events: string[] = [];
    session.on('reinvite', (e) => events.push(e.localSdp));
    const reinvite = (cseq: number, method = 'INVITE') =>
      peer.send(
        inviteText(peer.port, port, {
          callId: 'reinv-async',
          cseq,
          toTag,
          method,
          body: testSdp(7000, cseq)
        }),
        port
      );
    await reinvite(2);
    await peer.next(isResponse('reinv-async', 100));
    await reinvite(3);
    const second = (await peer.next(isResponse('reinv-async', 500))) as SipResponse;
    expect(Number(second.get('Retry-After'))).toBeGreaterThanOrEqual(0);
    expect(Number(second.get('Retry-After'))).toBeLessThanOrEqual(10);
    expect(second.cseq.seq).toBe(3);
    await reinvite(4, 'UPDATE');
    expect(
      ((await peer.next(isResponse('reinv-async', 500, 'UPDATE'))) as SipResponse).has('Retry-After')
    ).toBe(true);
    const ours = await session.reinvite(testSdp(8000, 5)).catch((error: unknown) => error);
    expect(ours).toMatchObject({ code: 'ERR_INVALID_STATE' });
    expect(events).toEqual([]);

    answer(testSdp(8000, 6));
    const ok = (await peer.next(isResponse('reinv-async', 200))) as SipResponse;
    expect(ok.cseq.seq).toBe(2);
    expect(ok.bodyText).toBe(testSdp(8000, 6));
    await peer.send(ackText(peer.port, port, 'reinv-async', toTag, 2), port);
    expect(events).toEqual([testSdp(8000, 6)]);
    // The next offer is taken again.
    session.offerHandler = () => testSdp(8000, 7);
    await reinvite(5);
    expect(((await peer.next(isResponse('reinv-async', 200))) as SipResponse).cseq.seq).toBe(5);
    expect(session.terminated).toBe(false);
  });

  // A promise that never settled held the re-INVITE's transaction, and refused every later offer
  // of the call with 500, for good.
  it("refuses a re-INVITE whose offerHandler's promise does not settle in OFFER_ANSWER_TIMEOUT_MS with 500 and a Retry-After; the call takes the next offer, a late answer does nothing, no bound is left running", async () => {
    // The system clock, keeping count of the bounds (timers of OFFER_ANSWER_TIMEOUT_MS) set and not yet cleared or fired.
    const bounds = new Set<TimerHandle>();
    const clock: Clock = {
      setTimeout(callback, delayMs) {
        if (delayMs !== OFFER_ANSWER_TIMEOUT_MS) return systemClock.setTimeout(callback, delayMs);
        const handle = systemClock.setTimeout(() => {
          bounds.delete(handle);
          callback();
        }, delayMs);
        bounds.add(handle);
        return handle;
      },
      clearTimeout(handle) {
        bounds.delete(handle);
        systemClock.clearTimeout(handle);
      }
    };
    const { ua, peer, port } = await setup(clock);
    const { session, toTag } = await establish(ua, peer, port, 'reinv-stuck');
    const events: string[] = [];
    session.on('reinvite', (e) => events.push(e.localSdp));
    const answered =
      (status: number, cseq: number, method = 'INVITE') =>
      (m: AnySipMessage) =>
        isResponse('reinv-stuck', status, method)(m) && (m as SipResponse).cseq.seq === cseq;
    const reinvite = (cseq: number, method = 'INVITE') =>
      peer.send(
        inviteText(peer.port, port, {
          callId: 'reinv-stuck',
          cseq,
          toTag,
          method,
          body: testSdp(7000, cseq)
        }),
        port
      );

    // Answered in time: its bound goes with the answer.
    session.offerHandler = () => Promise.resolve(testSdp(8000, 2));
    await reinvite(2);
    await peer.next(answered(200, 2));
    await peer.send(ackText(peer.port, port, 'reinv-stuck', toTag, 2), port);
    expect(bounds.size).toBe(0);

    // Never answered: 500 once the bound has passed, and the call goes on.
    let late: (sdp: string) => void = () => undefined;
    session.offerHandler = () => new Promise<string>((resolve) => (late = resolve));
    const sentAt = performance.now();
    await reinvite(3);
    await peer.next(answered(100, 3));
    expect(bounds.size).toBe(1);
    const refused = (await peer.next(answered(500, 3), OFFER_ANSWER_TIMEOUT_MS + 20_000)) as SipResponse;
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(OFFER_ANSWER_TIMEOUT_MS - 5);
    expect(Number(refused.get('Retry-After'))).toBeGreaterThanOrEqual(0);
    expect(Number(refused.get('Retry-After'))).toBeLessThanOrEqual(10);
    expect(refused.get('Warning')).toMatch(/^399 /);
    expect(bounds.size).toBe(0);
    expect(session.terminated).toBe(false);

    // The dialog takes the next offer: a re-INVITE, then an UPDATE.
    session.offerHandler = () => testSdp(8000, 4);
    await reinvite(4);
    await peer.next(answered(200, 4));
    await peer.send(ackText(peer.port, port, 'reinv-stuck', toTag, 4), port);
    session.offerHandler = () => testSdp(8000, 5);
    await reinvite(5, 'UPDATE');
    await peer.next(answered(200, 5, 'UPDATE'));

    // The answer that comes too late is neither sent nor taken as the session's.
    late(testSdp(8000, 9));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(
      peer.received.filter((m) => m instanceof SipResponse && m.cseq.seq === 3 && m.status === 200)
    ).toEqual([]);
    expect(events).toEqual([testSdp(8000, 2), testSdp(8000, 4), testSdp(8000, 5)]);

    // An offer still waiting when the call ends: 487, and its bound goes with the session.
    session.offerHandler = () => new Promise<string>(() => undefined);
    await reinvite(6);
    await peer.next(answered(100, 6));
    expect(bounds.size).toBe(1);
    await reinvite(7, 'BYE');
    await peer.next(answered(487, 6));
    expect(session.terminated).toBe(true);
    expect(bounds.size).toBe(0);
  });

  it("answers 487 to a re-INVITE whose offerHandler's promise the peer's BYE overtakes, and a rejection with its status", async () => {
    const { ua, peer, port } = await setup();
    const rejected = await establish(ua, peer, port, 'reinv-reject');
    rejected.session.offerHandler = () =>
      Promise.reject(Object.assign(new Error('no common codec'), { status: 488 }));
    await peer.send(
      inviteText(peer.port, port, {
        callId: 'reinv-reject',
        cseq: 2,
        toTag: rejected.toTag,
        body: testSdp(7000, 2)
      }),
      port
    );
    await peer.next(isResponse('reinv-reject', 488));
    expect(rejected.session.terminated).toBe(false);

    const { session, toTag } = await establish(ua, peer, port, 'reinv-bye');
    let answer: (sdp: string) => void = () => undefined;
    session.offerHandler = () => new Promise<string>((resolve) => (answer = resolve));
    await peer.send(
      inviteText(peer.port, port, { callId: 'reinv-bye', cseq: 2, toTag, body: testSdp(7000, 2) }),
      port
    );
    await peer.next(isResponse('reinv-bye', 100));
    await peer.send(
      inviteText(peer.port, port, { callId: 'reinv-bye', cseq: 3, toTag, method: 'BYE', body: '' }),
      port
    );
    await peer.next(isResponse('reinv-bye', 200, 'BYE'));
    await peer.next(isResponse('reinv-bye', 487));
    answer(testSdp(8000, 3));
    await peer.send(ackText(peer.port, port, 'reinv-bye', toTag, 2), port);
    expect(session.terminated).toBe(true);
    // Nothing is left of either call.
    await waitFor(() => ua.activity.dialogs === 1 && ua.activity.sessions === 1);
  });

  it('answers 491 to a re-INVITE while our own offer (delayed-offer 2xx) awaits its ACK', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(inviteText(peer.port, port, { callId: 'glare-1', body: '' }), port);
    const session = await incoming;
    expect(session.remoteSdp).toBeUndefined();
    const acked = session.accept(testSdp(8000));
    const ok = (await peer.next(isResponse('glare-1', 200))) as SipResponse;
    const toTag = ok.toTag ?? '';
    await peer.send(
      inviteText(peer.port, port, { callId: 'glare-1', cseq: 2, toTag, body: testSdp(7000, 2) }),
      port
    );
    await peer.next(isResponse('glare-1', 491));
    await peer.send(ackText(peer.port, port, 'glare-1', toTag, 1, testSdp(7000)), port);
    await acked;
    expect(session.remoteSdp).toContain('m=audio 7000');
  });

  it('answers 500 to an in-dialog request with a lower CSeq (§12.2.2) and 481 to unknown dialogs', async () => {
    const { ua, peer, port } = await setup();
    const { toTag } = await establish(ua, peer, port, 'cseq-1');
    await peer.send(
      inviteText(peer.port, port, { callId: 'cseq-1', method: 'INFO', cseq: 5, toTag, body: '' }),
      port
    );
    await peer.next(isResponse('cseq-1', 200, 'INFO'));
    await peer.send(
      inviteText(peer.port, port, { callId: 'cseq-1', method: 'INFO', cseq: 4, toTag, body: '' }),
      port
    );
    await peer.next(isResponse('cseq-1', 500, 'INFO'));
    await peer.send(
      inviteText(peer.port, port, { callId: 'nobody', method: 'BYE', cseq: 2, toTag: 'unknown' }),
      port
    );
    await peer.next(isResponse('nobody', 481, 'BYE'));
    await peer.send(inviteText(peer.port, port, { callId: 'cseq-1', method: 'BYE', cseq: 6, toTag }), port);
    await peer.next(isResponse('cseq-1', 200, 'BYE'));
  });

  it("answers 200 to the peer's BYE crossing ours, and 481 once our BYE has its answer", async () => {
    const { ua, peer, port } = await setup();
    const { session, toTag } = await establish(ua, peer, port, 'bye-glare');
    const byed = session.bye();
    const ours = (await peer.next(
      (m) => m instanceof SipRequest && m.method === 'BYE' && m.callId === 'bye-glare'
    )) as SipRequest;
    expect(session.terminated).toBe(true);
    // The peer hung up too: its BYE crosses ours, before it answers ours.
    await peer.send(
      inviteText(peer.port, port, { callId: 'bye-glare', method: 'BYE', cseq: 2, toTag }),
      port
    );
    await peer.next(isResponse('bye-glare', 200, 'BYE'));
    await peer.send(responseTo(ours, 200).toString(), port);
    await byed;
    expect(ua.activity.dialogs).toBe(0);
    await peer.send(
      inviteText(peer.port, port, { callId: 'bye-glare', method: 'BYE', cseq: 3, toTag }),
      port
    );
    await peer.next(isResponse('bye-glare', 481, 'BYE'));
  });

  it('copies Record-Route into the 200 and routes its own BYE through the route set (§12.1.1, §12.2.1.1)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    const text = inviteText(peer.port, port, { callId: 'rr-1' })
      .replace(`Contact: <sip:peer@127.0.0.1:${peer.port}>`, 'Contact: <sip:peer@127.0.0.1:9>')
      .replace('Max-Forwards: 70', `Max-Forwards: 70\r\nRecord-Route: <sip:127.0.0.1:${peer.port};lr>`);
    await peer.send(text, port);
    const session = await incoming;
    const acked = session.accept(testSdp(8000));
    const ok = (await peer.next(isResponse('rr-1', 200))) as SipResponse;
    expect(ok.get('Record-Route')).toBe(`<sip:127.0.0.1:${peer.port};lr>`);
    await peer.send(ackText(peer.port, port, 'rr-1', ok.toTag ?? ''), port);
    await acked;
    const byeDone = session.bye();
    const bye = (await peer.next(
      (m) => m instanceof SipRequest && m.method === 'BYE' && m.callId === 'rr-1'
    )) as SipRequest;
    expect(bye.uri).toBe('sip:peer@127.0.0.1:9');
    expect(bye.get('Route')).toBe(`<sip:127.0.0.1:${peer.port};lr>`);
    expect(bye.fromTag).toBe(ok.toTag);
    expect(bye.toTag).toBe('peer-tag');
    const byeOk = new SipResponse(200, 'OK');
    for (const v of bye.getAll('Via')) byeOk.add('Via', v);
    byeOk
      .add('From', bye.get('From') ?? '')
      .add('To', bye.get('To') ?? '')
      .add('Call-ID', 'rr-1')
      .add('CSeq', bye.get('CSeq') ?? '');
    await peer.send(byeOk.toBuffer(), port);
    await byeDone;
  });

  it('copies Record-Route, in order, into the 180 and 183 that create the early dialog as into the 200 (§12.1.1)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    const routes = ['<sip:p1.example;lr>, <sip:p2.example;lr>', '<sip:p3.example;lr>'];
    const text = inviteText(peer.port, port, { callId: 'rr-early' }).replace(
      'Max-Forwards: 70',
      `Max-Forwards: 70\r\n${routes.map((r) => `Record-Route: ${r}`).join('\r\n')}`
    );
    await peer.send(text, port);
    const session = await incoming;
    session.progress(180);
    session.progress(183, testSdp(8000));
    const acked = session.accept(testSdp(8000));
    const ringing = (await peer.next(isResponse('rr-early', 180))) as SipResponse;
    const progress = (await peer.next(isResponse('rr-early', 183))) as SipResponse;
    const ok = (await peer.next(isResponse('rr-early', 200))) as SipResponse;
    for (const response of [ringing, progress, ok]) {
      expect(response.toTag).toBe(session.localTag);
      expect(response.getAll('Record-Route')).toEqual(routes);
    }
    await peer.send(ackText(peer.port, port, 'rr-early', ok.toTag ?? ''), port);
    await acked;
  });

  it('says what it implements and supports: Allow in the 200 to an INVITE, Supported: timer in the 200 to OPTIONS (§13.3.1.4, §11.2)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(inviteText(peer.port, port, { callId: 'allow-1' }), port);
    const acked = (await incoming).accept(testSdp(8000));
    const ok = (await peer.next(isResponse('allow-1', 200))) as SipResponse;
    expect(ok.get('Allow')).toBe('INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE');
    await peer.send(ackText(peer.port, port, 'allow-1', ok.toTag ?? ''), port);
    await acked;
    await peer.send(optionsText('options-supported', 'UDP', peer.port, port), port);
    const options = (await peer.next(isResponse('options-supported', 200, 'OPTIONS'))) as SipResponse;
    expect(options.getList('Supported')).toEqual(['timer']);
  });

  it('answers 482 to the same INVITE arriving by a second path (merged request, §8.2.2.2)', async () => {
    const { ua, peer, port } = await setup();
    let invites = 0;
    ua.on('invite', () => invites++);
    await peer.send(inviteText(peer.port, port, { callId: 'merged-1', branch: 'z9hG4bK-path-a' }), port);
    await peer.next(isResponse('merged-1', 100));
    await peer.send(inviteText(peer.port, port, { callId: 'merged-1', branch: 'z9hG4bK-path-b' }), port);
    await peer.next(isResponse('merged-1', 482));
    expect(invites).toBe(1);
  });

  it('answers 482 to the same INVITE by a second path that writes its CSeq otherwise (`01  INVITE`): the check compares the number (§8.2.2.2)', async () => {
    const { ua, peer, port } = await setup();
    let invites = 0;
    ua.on('invite', () => invites++);
    await peer.send(inviteText(peer.port, port, { callId: 'merged-2', branch: 'z9hG4bK-path-a' }), port);
    await peer.next(isResponse('merged-2', 100));
    const respelled = inviteText(peer.port, port, { callId: 'merged-2', branch: 'z9hG4bK-path-b' }).replace(
      'CSeq: 1 INVITE',
      'CSeq: 01  INVITE'
    );
    await peer.send(respelled, port);
    // It was a second call: the raw header text differed.
    await peer.next(isResponse('merged-2', 482));
    expect(invites).toBe(1);
  });

  it('takes an INFO in its early dialog (after our 180 with a To tag) with 200 and reports its digit: it got 481 (RFC 6086 §4.2)', async () => {
    const { ua, peer, port } = await setup();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await peer.send(inviteText(peer.port, port, { callId: 'early-info' }), port);
    const session = await incoming;
    const digits: string[] = [];
    session.on('info', (info) => digits.push(info.dtmf?.digit ?? ''));
    session.progress(180);
    const ringing = (await peer.next(isResponse('early-info', 180))) as SipResponse;
    const info = (seq: number, toTag: string | undefined): string =>
      inviteText(peer.port, port, {
        callId: 'early-info',
        method: 'INFO',
        cseq: seq,
        toTag,
        contentType: 'application/dtmf-relay',
        body: 'Signal=5\r\nDuration=160\r\n'
      });
    await peer.send(info(2, ringing.toTag), port);
    await peer.next(isResponse('early-info', 200, 'INFO'));
    expect(digits).toEqual(['5']);
    // A stranger's INFO naming no early dialog still gets 481.
    await peer.send(info(3, 'nobody'), port);
    await peer.next(isResponse('early-info', 481, 'INFO'));
    const acked = session.accept(testSdp(8000));
    const ok = (await peer.next(isResponse('early-info', 200))) as SipResponse;
    expect(ok.toTag).toBe(ringing.toTag);
    await peer.send(
      inviteText(peer.port, port, { callId: 'early-info', method: 'ACK', toTag: ok.toTag }),
      port
    );
    await acked;
    expect(session.terminated).toBe(false);
  });

  it('answers a CANCEL during asynchronous admission with a 200 and a 487 carrying one To tag (§8.2.6.2, §9.2)', async () => {
    const { ua, peer, port } = await setup();
    let decide: (result: AdmissionResult) => void = () => undefined;
    ua.inviteAdmission = new (class extends InviteAdmission {
      override admit(): Promise<AdmissionResult> {
        return new Promise((resolve) => (decide = resolve));
      }
    })({});
    let invites = 0;
    ua.on('invite', () => invites++);
    const branch = 'z9hG4bK-admitting';
    await peer.send(inviteText(peer.port, port, { callId: 'cancel-admitting', branch }), port);
    await peer.next(isResponse('cancel-admitting', 100));
    await peer.send(
      inviteText(peer.port, port, { callId: 'cancel-admitting', branch, method: 'CANCEL' }),
      port
    );
    const ok = (await peer.next(isResponse('cancel-admitting', 200, 'CANCEL'))) as SipResponse;
    const terminated = (await peer.next(isResponse('cancel-admitting', 487))) as SipResponse;
    expect(ok.toTag).toMatch(/^[0-9a-f]+$/);
    expect(terminated.toTag).toBe(ok.toTag);
    // Admitted after all: the slot goes back and no call reaches the application.
    const released = new Promise<void>((resolve) => decide({ admitted: true, release: resolve }));
    await released;
    expect(invites).toBe(0);
  });

  it('answers a CANCEL with the To tag of the INVITE responses: after a 180, and after a final response', async () => {
    const { ua, peer, port } = await setup();
    ua.on('invite', (session: IncomingInvite) => {
      if (session.callId === 'cancel-ringing') session.progress(180);
      else session.reject(486);
    });
    for (const callId of ['cancel-ringing', 'cancel-rejected']) {
      const branch = `z9hG4bK-${callId}`;
      await peer.send(inviteText(peer.port, port, { callId, branch }), port);
      const first = (await peer.next(
        isResponse(callId, callId === 'cancel-ringing' ? 180 : 486)
      )) as SipResponse;
      await peer.send(inviteText(peer.port, port, { callId, branch, method: 'CANCEL' }), port);
      const ok = (await peer.next(isResponse(callId, 200, 'CANCEL'))) as SipResponse;
      expect(first.toTag).toMatch(/^[0-9a-f]+$/);
      expect(ok.toTag).toBe(first.toTag);
    }
    const terminated = (await peer.next(isResponse('cancel-ringing', 487))) as SipResponse;
    expect(terminated.toTag).toBe(
      (peer.received.find(isResponse('cancel-ringing', 180)) as SipResponse).toTag
    );
  });

  it('answers 481 to a CANCEL that matches no INVITE', async () => {
    const { peer, port } = await setup();
    await peer.send(inviteText(peer.port, port, { callId: 'lonely-cancel', method: 'CANCEL' }), port);
    await peer.next(isResponse('lonely-cancel', 481, 'CANCEL'));
  });

  it('keeps no transaction for OPTIONS, a stray BYE or CANCEL, and answers each retransmission afresh', async () => {
    // Held for timer J (32 s over UDP), each cost about 4 kB: a flood from forged sources piled up.
    const { ua, peer, port } = await setup();
    const strays: Array<[string, string]> = [];
    for (let i = 0; i < 20; i++) {
      const branch = `z9hG4bK-stray-${i}`;
      const text =
        i % 3 === 0
          ? optionsText(`stray-${i}`, 'UDP', peer.port, port)
          : inviteText(peer.port, port, {
              callId: `stray-${i}`,
              method: i % 3 === 1 ? 'BYE' : 'CANCEL',
              toTag: i % 3 === 1 ? 'no-such-dialog' : undefined,
              branch
            });
      strays.push([`stray-${i}`, text]);
      await peer.send(text, port);
    }
    for (const [callId] of strays) await peer.next((m) => m instanceof SipResponse && m.callId === callId);
    expect(ua.activity.transactions).toBe(0);
    const [callId, text] = strays[1];
    await peer.send(text, port);
    await peer.next(isResponse(callId, 481, 'BYE'));
    const options = peer.received.find(
      (m) => m instanceof SipResponse && m.callId === strays[0][0]
    ) as SipResponse;
    expect(options.status).toBe(200);
    expect(options.get('Allow')).toContain('INVITE');
    expect(ua.activity.transactions).toBe(0);
  });
});

describe('UAC digest authentication against a challenging peer', () => {
  it.each([
    [401, 'WWW-Authenticate', 'Authorization'],
    [407, 'Proxy-Authenticate', 'Proxy-Authorization']
  ])(
    'answers %i with %s → %s built from the challenge, ACKs the challenge and the 200',
    async (status, challengeHeader, credentialsHeader) => {
      const { ua, peer } = await setup();
      const call = ua.invite(`sip:bob@127.0.0.1:${peer.port}`, {
        body: testSdp(4000),
        auth: { username: 'alice', password: 's3cret' }
      });
      const first = (await peer.next((m) => m instanceof SipRequest && m.method === 'INVITE')) as SipRequest;
      expect(first.has('Authorization')).toBe(false);
      const nonce = 'n0nce-1';
      const challenge = new SipResponse(status, 'Authenticate');
      for (const v of first.getAll('Via')) challenge.add('Via', v);
      challenge
        .add('From', first.get('From') ?? '')
        .add('To', `${first.get('To')};tag=uas1`)
        .add('Call-ID', first.callId)
        .add('CSeq', first.get('CSeq') ?? '');
      challenge.add(challengeHeader, createChallenge({ realm: 'test', nonce }));
      await peer.send(challenge.toBuffer(), ua.addresses()[0].port);
      const ack401 = (await peer.next((m) => m instanceof SipRequest && m.method === 'ACK')) as SipRequest;
      expect(ack401.getList('Via')[0]).toBe(first.getList('Via')[0]);
      const second = (await peer.next(
        (m) => m instanceof SipRequest && m.method === 'INVITE' && m.has(credentialsHeader)
      )) as SipRequest;
      expect(second.cseq.seq).toBe(first.cseq.seq + 1);
      expect(second.callId).toBe(first.callId);
      const verdict = verifyAuthorization(second.get(credentialsHeader) ?? '', {
        method: 'INVITE',
        password: 's3cret',
        realm: 'test',
        nonce,
        username: 'alice',
        uri: first.uri
      });
      expect(verdict).toMatchObject({ ok: true });
      const ok = new SipResponse(200, 'OK');
      for (const v of second.getAll('Via')) ok.add('Via', v);
      ok.add('From', second.get('From') ?? '')
        .add('To', `${second.get('To')};tag=uas2`)
        .add('Call-ID', second.callId)
        .add('CSeq', second.get('CSeq') ?? '');
      ok.add('Contact', `<sip:bob@127.0.0.1:${peer.port}>`).add('Content-Type', 'application/sdp');
      ok.body = Buffer.from(testSdp(9000));
      await peer.send(ok.toBuffer(), ua.addresses()[0].port);
      await expect(call.established).resolves.toEqual({ answerSdp: testSdp(9000) });
      const ack = (await peer.next(
        (m) => m instanceof SipRequest && m.method === 'ACK' && m.cseq.seq === second.cseq.seq
      )) as SipRequest;
      expect(ack.uri).toBe(`sip:bob@127.0.0.1:${peer.port}`);
      expect(ack.toTag).toBe('uas2');
    }
  );

  it('answers a chain of challenges (two proxies, then the UAS) with credentials for every realm, §22.3', async () => {
    const { ua, peer } = await setup();
    const call = ua.invite(`sip:bob@127.0.0.1:${peer.port}`, {
      body: testSdp(4000),
      auth: { username: 'alice', password: 's3cret' }
    });
    const isInvite = (m: AnySipMessage): boolean => m instanceof SipRequest && m.method === 'INVITE';
    const chain: Array<[number, string, string]> = [
      [407, 'Proxy-Authenticate', 'proxy-a'],
      [407, 'Proxy-Authenticate', 'proxy-b'],
      [401, 'WWW-Authenticate', 'uas']
    ];
    let invite = (await peer.next(isInvite)) as SipRequest;
    for (const [status, header, realm] of chain) {
      const challenge = responseTo(invite, status, `t-${realm}`);
      challenge.add(header, createChallenge({ realm, nonce: `nonce-${realm}` }));
      await peer.send(challenge.toBuffer(), ua.addresses()[0].port);
      invite = (await peer.next(
        (m) => isInvite(m) && (m as SipRequest).cseq.seq > invite.cseq.seq
      )) as SipRequest;
    }
    const answers = [
      ...invite.getAll('Proxy-Authorization').map((value) => ({ value, proxy: true })),
      ...invite.getAll('Authorization').map((value) => ({ value, proxy: false }))
    ];
    expect(answers).toHaveLength(3);
    // Each realm's answer verifies, and one sent again on its nonce carries the next count.
    const counts = chain.map(([status, , realm]) => {
      const answer = answers.find(
        (a) => a.proxy === (status === 407) && a.value.includes(`realm="${realm}"`)
      );
      const verdict = verifyAuthorization(answer?.value ?? '', {
        method: 'INVITE',
        password: 's3cret',
        realm,
        nonce: `nonce-${realm}`,
        username: 'alice',
        uri: invite.uri
      });
      expect(verdict).toMatchObject({ ok: true });
      return verdict.ok ? verdict.nonceCount : undefined;
    });
    expect(counts).toEqual([3, 2, 1]);
    const ok = responseTo(invite, 200, 'uas2');
    ok.add('Contact', `<sip:bob@127.0.0.1:${peer.port}>`).add('Content-Type', 'application/sdp');
    ok.body = Buffer.from(testSdp(9000));
    await peer.send(ok.toBuffer(), ua.addresses()[0].port);
    await expect(call.established).resolves.toEqual({ answerSdp: testSdp(9000) });
  });
});
