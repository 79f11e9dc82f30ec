/**
 * Session timers (RFC 4028) as a caller sends them, over a real UDP socket: `Require: timer` is
 * taken, a Session-Expires past what Node's timers hold does not end the call at once, and a
 * refresh of ours that meets 491 is sent again before the session expires (timers on a fake clock).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { FakeClock } from '../support/sip-fake-clock.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, optionsText, sipText } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function invite(uaPort: number, peerPort: number, callId: string, extra: string[]): string {
  return sipText(
    [
      `INVITE sip:room1@127.0.0.1:${uaPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${callId};rport`,
      'Max-Forwards: 70',
      'From: <sip:alice@127.0.0.1>;tag=caller',
      'To: <sip:room1@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${peerPort}>`,
      ...extra,
      'Content-Type: application/sdp'
    ],
    testSdp(4000)
  );
}

function ack(uaPort: number, peerPort: number, callId: string, toTag: string, seq = 1): string {
  return sipText([
    `ACK sip:uasmedia@127.0.0.1:${uaPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${callId}-ack-${seq};rport`,
    'Max-Forwards: 70',
    'From: <sip:alice@127.0.0.1>;tag=caller',
    `To: <sip:room1@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    `CSeq: ${seq} ACK`
  ]);
}

/** The caller's re-INVITE (CSeq `seq`) in its call with the agent, offering its SDP again. */
function peerReinvite(uaPort: number, peerPort: number, callId: string, toTag: string, seq: number): string {
  return sipText(
    [
      `INVITE sip:uasmedia@127.0.0.1:${uaPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${callId}-reinvite-${seq};rport`,
      'Max-Forwards: 70',
      'From: <sip:alice@127.0.0.1>;tag=caller',
      `To: <sip:room1@127.0.0.1>;tag=${toTag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${seq} INVITE`,
      `Contact: <sip:alice@127.0.0.1:${peerPort}>`,
      'Content-Type: application/sdp'
    ],
    testSdp(4000)
  );
}

/** The peer's response to a request of ours, with a Contact, and an SDP body on a 2xx to an INVITE. */
function answer(request: SipRequest, status: number, peerPort: number, toTag?: string): Buffer {
  const response = responseTo(request, status, toTag).add('Contact', `<sip:peer@127.0.0.1:${peerPort}>`);
  if (status === 200 && request.method === 'INVITE') {
    response.add('Content-Type', 'application/sdp');
    response.body = Buffer.from(testSdp(4000));
  }
  return response.toBuffer();
}

const isRequest =
  (method: string, callId: string, afterSeq = 0) =>
  (m: AnySipMessage) =>
    m instanceof SipRequest && m.method === method && m.callId === callId && m.cseq.seq > afterSeq;

/**
 * A fake-clock agent refreshing every 45 s (90 s sessions, expiring at 60 s unrefreshed), and a
 * peer; T1 `t1Ms`.
 */
async function clockedAgent(t1Ms = 500): Promise<{
  ua: SipUserAgent;
  clock: FakeClock;
  peer: UdpTestPeer;
  uaPort: number;
}> {
  const clock = new FakeClock();
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    clock,
    timers: { t1Ms },
    sessionTimer: { expiresSeconds: 90, minSeSeconds: 90 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const peer = await new UdpTestPeer().open();
  cleanups.push(() => peer.close());
  return { ua, clock, peer, uaPort: ua.addresses()[0].port };
}

let barriers = 0;
/**
 * Waits until the agent has handled everything the peer sent before, and the peer has received
 * everything the agent sent before: an OPTIONS and its 200 follow the same path in order.
 */
async function barrier(peer: UdpTestPeer, uaPort: number): Promise<void> {
  const callId = `barrier-${++barriers}`;
  await peer.send(optionsText(callId, 'UDP', peer.port, uaPort), uaPort);
  await peer.next((m) => m instanceof SipResponse && m.callId === callId && m.status === 200);
}

/**
 * A call the fake-clock agent answers and left the caller to refresh (so the agent refreshes,
 * every 45 s), ACKed and settled: the 200 it was answered with, and why its session ended, if it did.
 */
async function refresherCall(
  callId: string,
  t1Ms?: number
): Promise<{
  ua: SipUserAgent;
  clock: FakeClock;
  peer: UdpTestPeer;
  uaPort: number;
  ok: SipResponse;
  ended: string[];
  session: IncomingInvite;
}> {
  const { ua, clock, peer, uaPort } = await clockedAgent(t1Ms);
  const ended: string[] = [];
  let answered: IncomingInvite | undefined;
  ua.on('invite', (session: IncomingInvite) => {
    answered = session;
    session.on('terminated', (e: { reason: string }) => ended.push(e.reason));
    void session.accept(testSdp(5000)).catch(() => undefined);
  });
  await peer.send(invite(uaPort, peer.port, callId, []), uaPort);
  const ok = (await peer.next(
    (m) => m instanceof SipResponse && m.callId === callId && m.status === 200
  )) as SipResponse;
  await peer.send(ack(uaPort, peer.port, callId, ok.toTag ?? ''), uaPort);
  await barrier(peer, uaPort);
  if (!answered) throw new Error('no session was answered');
  return { ua, clock, peer, uaPort, ok, ended, session: answered };
}

describe('session timers on the wire', () => {
  it('answers an INVITE that requires timers; a Session-Expires of 3 000 000 s is lowered to ours and does not end the call', async () => {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    await ua.start();
    cleanups.push(() => ua.close());
    const uaPort = ua.addresses()[0].port;
    const ended: string[] = [];
    ua.on('invite', (session: IncomingInvite) => {
      session.on('terminated', (e: { reason: string }) => ended.push(e.reason));
      void session.accept(testSdp(5000)).catch(() => undefined);
    });
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    const extra = ['Supported: timer', 'Require: timer', 'Session-Expires: 3000000;refresher=uac'];
    await peer.send(invite(uaPort, peer.port, 'long-timer', extra), uaPort);
    const ok = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'long-timer' && m.status >= 200
    )) as SipResponse;
    expect(ok.status).toBe(200);
    // Granted as asked, a peer held its call for good without refreshing (RFC 4028 §9 lets the
    // UAS lower it); and Node runs a timer past 2^31-1 ms at once: it was hung up a millisecond later.
    expect(ok.get('Session-Expires')).toBe('1800;refresher=uac');
    await sleep(200);
    expect(peer.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
    expect(ended).toEqual([]);
  });

  it('keeps the defaults of session timer and transaction timer values given as undefined (an unset environment variable)', async () => {
    const unset = process.env.UASMEDIA_TEST_UNSET_VALUE;
    const ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      timers: { t1Ms: unset ? Number(unset) : undefined },
      sessionTimer: { expiresSeconds: unset ? Number(unset) : undefined }
    });
    await ua.start();
    cleanups.push(() => ua.close());
    const uaPort = ua.addresses()[0].port;
    ua.on('invite', (session: IncomingInvite) => void session.accept(testSdp(5000)).catch(() => undefined));
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    await peer.send(invite(uaPort, peer.port, 'unset-timer', ['Supported: timer']), uaPort);
    const ok = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'unset-timer' && m.status >= 200
    )) as SipResponse;
    // It was 'NaN;refresher=...', and a T1 of NaN ms retransmitted the 200 at once, without end.
    expect(ok.get('Session-Expires')).toMatch(/^1800;refresher=/);
    await sleep(200);
    const oks = peer.received.filter(
      (m) => m instanceof SipResponse && m.callId === 'unset-timer' && m.status === 200
    );
    expect(oks).toHaveLength(1);
  });

  it('as the refresher the caller left it to be, sends a refresh that met 491 again within 2 s and keeps the call past the old expiry (RFC 3261 §14.1)', async () => {
    const callId = 'refresh-491-uas';
    const { clock, peer, uaPort, ok, ended } = await refresherCall(callId);
    expect(ok.get('Session-Expires')).toBe('90;refresher=uas');

    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    expect(refresh.get('Session-Expires')).toBe('90;refresher=uac');
    await peer.send(answer(refresh, 491, peer.port), uaPort);
    await peer.next(isRequest('ACK', callId, refresh.cseq.seq - 1));
    // We did not choose the Call-ID: the retry comes within 2 s.
    clock.advance(2_000);
    const retry = (await peer.next(isRequest('INVITE', callId, refresh.cseq.seq), 10_000)) as SipRequest;
    expect(retry.get('Session-Expires')).toBe('90;refresher=uac');
    await peer.send(answer(retry, 200, peer.port), uaPort);
    await peer.next(isRequest('ACK', callId, retry.cseq.seq - 1));

    // Past the expiry the first refresh left armed (60 s): the call goes on.
    clock.advance(20_000);
    await barrier(peer, uaPort);
    expect(peer.received.filter(isRequest('BYE', callId))).toEqual([]);
    expect(ended).toEqual([]);
  });

  it('as caller and refresher, sends a refresh that met 491 again 2.1-4 s later: it chose the Call-ID (RFC 3261 §14.1)', async () => {
    const { ua, clock, peer, uaPort } = await clockedAgent();
    const call = ua.invite(`sip:room@127.0.0.1:${peer.port}`, { body: testSdp(5000) });
    const initial = (await peer.next(isRequest('INVITE', call.callId))) as SipRequest;
    // The callee ignores timers: the caller refreshes at its own interval.
    await peer.send(answer(initial, 200, peer.port, 'callee'), uaPort);
    await call.established;
    await peer.next(isRequest('ACK', call.callId));

    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', call.callId, 1))) as SipRequest;
    await peer.send(answer(refresh, 491, peer.port), uaPort);
    await peer.next(isRequest('ACK', call.callId, refresh.cseq.seq - 1));
    const invites = (): number => peer.received.filter(isRequest('INVITE', call.callId)).length;
    clock.advance(2_090);
    await barrier(peer, uaPort);
    expect(invites()).toBe(2);
    clock.advance(1_910);
    const retry = (await peer.next(isRequest('INVITE', call.callId, refresh.cseq.seq), 10_000)) as SipRequest;
    await peer.send(answer(retry, 200, peer.port), uaPort);
    await peer.next(isRequest('ACK', call.callId, retry.cseq.seq - 1));
    expect(call.terminated).toBe(false);
  });

  it.each([408, 481])(
    'ends the session with BYE when its refresh meets %i (RFC 4028 §10)',
    async (status) => {
      const callId = `refresh-${status}`;
      const { clock, peer, uaPort, ended } = await refresherCall(callId);
      clock.advance(45_000);
      const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
      await peer.send(answer(refresh, status, peer.port), uaPort);
      const bye = (await peer.next(isRequest('BYE', callId))) as SipRequest;
      await peer.send(answer(bye, 200, peer.port), uaPort);
      expect(ended).toEqual(['error']);
    }
  );

  it('ends a refresh the peer answered only with 100 Trying once the session is over: no transaction is left for good (timer B stops at a 1xx, RFC 3261 §17.1.1.2)', async () => {
    const callId = 'refresh-100-only';
    const { ua, clock, peer, uaPort, ended } = await refresherCall(callId);
    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    await peer.send(answer(refresh, 100, peer.port), uaPort);
    await barrier(peer, uaPort);
    clock.advance(15_000); // unrefreshed, the session expires at 60 s
    const bye = (await peer.next(isRequest('BYE', callId))) as SipRequest;
    await peer.send(answer(bye, 200, peer.port), uaPort);
    await barrier(peer, uaPort);
    expect(ended).toEqual(['expired']);
    // The refresh's final response may still cross the BYE for 64*T1; after that nothing is left.
    // It stayed in the transaction table, and held its session, until the agent closed.
    clock.advance(64 * 500);
    expect(ua.activity).toEqual({ transactions: 0, dialogs: 0, sessions: 0 });
    expect(clock.pendingCount).toBe(0);
  });

  // A T1 of 100 ms: the refresh is cancelled (64*T1 after its 100) before the session would expire.
  it("cancels a refresh answered only with 100 Trying after 64*T1, ACKs the 487 and keeps the call: the peer's re-INVITE is answered 200, not 491 (RFC 3261 §9.1, §14.1)", async () => {
    const callId = 'refresh-100-cancel';
    const { ua, clock, peer, uaPort, ok, ended, session } = await refresherCall(callId, 100);
    const remoteSdp = session.remoteSdp;
    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    await peer.send(answer(refresh, 100, peer.port), uaPort);
    await barrier(peer, uaPort);
    // Before, the refresh stayed pending until the session expired: every offer of the peer's met 491.
    clock.advance(64 * 100);
    const cancel = (await peer.next(isRequest('CANCEL', callId))) as SipRequest;
    expect(cancel.cseq.seq).toBe(refresh.cseq.seq);
    expect(cancel.get('Via')).toBe(refresh.get('Via'));
    expect(cancel.toTag).toBe(refresh.toTag);
    await peer.send(answer(cancel, 200, peer.port), uaPort);
    await peer.send(answer(refresh, 487, peer.port), uaPort);
    const ackOf487 = (await peer.next(isRequest('ACK', callId, refresh.cseq.seq - 1))) as SipRequest;
    expect(ackOf487.cseq.seq).toBe(refresh.cseq.seq);

    await peer.send(peerReinvite(uaPort, peer.port, callId, ok.toTag ?? '', 2), uaPort);
    const reOk = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === callId && m.cseq.seq === 2 && m.status >= 200
    )) as SipResponse;
    expect(reOk.status).toBe(200);
    await peer.send(ack(uaPort, peer.port, callId, ok.toTag ?? '', 2), uaPort);
    await barrier(peer, uaPort);
    expect(ended).toEqual([]);
    expect(session.remoteSdp).toBe(remoteSdp);
    // Timer D of the cancelled refresh (32 s), K of its CANCEL, L of the 200: back to the call alone.
    clock.advance(32_000);
    expect(ua.activity).toEqual({ transactions: 0, dialogs: 1, sessions: 1 });
    expect(peer.received.filter(isRequest('BYE', callId))).toEqual([]);
  });

  it("rejects a re-INVITE of the application's that only 180 answered with ERR_SIP_CANCELLED once its CANCEL got 487, and the session stays as it was", async () => {
    const callId = 'hold-180-cancel';
    const { ua, clock, peer, uaPort, ended, session } = await refresherCall(callId, 100);
    const held = session.reinvite(testSdp(5000).replace('sendrecv', 'sendonly'));
    const failure = held.catch((error: unknown) => error);
    const hold = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    await peer.send(answer(hold, 180, peer.port), uaPort);
    await barrier(peer, uaPort);
    clock.advance(64 * 100 - 1);
    await barrier(peer, uaPort);
    expect(peer.received.filter(isRequest('CANCEL', callId))).toEqual([]);
    clock.advance(1);
    const cancel = (await peer.next(isRequest('CANCEL', callId))) as SipRequest;
    await peer.send(answer(cancel, 200, peer.port), uaPort);
    await peer.send(answer(hold, 487, peer.port), uaPort);
    expect(await failure).toMatchObject({ code: 'ERR_SIP_CANCELLED', status: 487 });
    await peer.next(isRequest('ACK', callId, hold.cseq.seq - 1));
    // The session refresh (due at 45 s) offers what was in force before the hold, not the hold.
    clock.advance(45_000 - 64 * 100);
    const refresh = (await peer.next(isRequest('INVITE', callId, hold.cseq.seq))) as SipRequest;
    expect(refresh.bodyText).toBe(testSdp(5000));
    await peer.send(answer(refresh, 200, peer.port), uaPort);
    await peer.next(isRequest('ACK', callId, refresh.cseq.seq - 1));
    expect(ended).toEqual([]);
    clock.advance(32_000);
    expect(ua.activity).toEqual({ transactions: 0, dialogs: 1, sessions: 1 });
  });

  it('ACKs a retransmitted 2xx to its refresh that comes after timer M, and nothing else (RFC 3261 §13.2.2.4)', async () => {
    const callId = 'refresh-late-2xx';
    const { ua, clock, peer, uaPort, ended } = await refresherCall(callId, 100);
    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    const ok = answer(refresh, 200, peer.port);
    await peer.send(ok, uaPort);
    await peer.next(isRequest('ACK', callId, refresh.cseq.seq - 1));
    clock.advance(64 * 100); // timer M: the refresh's transaction is gone
    await peer.send(ok, uaPort);
    // It went unACKed: the peer retransmits it for 64*T1, then ends the call (§13.3.1.4).
    const again = (await peer.next(isRequest('ACK', callId, refresh.cseq.seq - 1))) as SipRequest;
    expect(again.cseq.seq).toBe(refresh.cseq.seq);
    await barrier(peer, uaPort);
    expect(peer.received.filter(isRequest('BYE', callId))).toEqual([]);
    expect(ended).toEqual([]);
    expect(ua.activity).toEqual({ transactions: 0, dialogs: 1, sessions: 1 });
  });

  it("as caller, ACKs a 2xx to its re-INVITE that comes after timer M with the re-INVITE's CSeq, not the INVITE's", async () => {
    const { ua, clock, peer, uaPort } = await clockedAgent(100);
    const call = ua.invite(`sip:room@127.0.0.1:${peer.port}`, { body: testSdp(5000) });
    const initial = (await peer.next(isRequest('INVITE', call.callId))) as SipRequest;
    await peer.send(answer(initial, 200, peer.port, 'callee'), uaPort);
    await call.established;
    await peer.next(isRequest('ACK', call.callId));
    const changed = call.reinvite(testSdp(5002));
    const reinvite = (await peer.next(isRequest('INVITE', call.callId, initial.cseq.seq))) as SipRequest;
    const ok = answer(reinvite, 200, peer.port);
    await peer.send(ok, uaPort);
    await changed;
    await peer.next(isRequest('ACK', call.callId, initial.cseq.seq));
    clock.advance(64 * 100);
    await peer.send(ok, uaPort);
    // It was answered with the INVITE's ACK (CSeq 1), which acknowledges nothing of the re-INVITE.
    const again = (await peer.next(isRequest('ACK', call.callId))) as SipRequest;
    expect(again.cseq.seq).toBe(reinvite.cseq.seq);
    await barrier(peer, uaPort);
    expect(peer.received.filter(isRequest('BYE', call.callId))).toEqual([]);
    expect(call.terminated).toBe(false);
  });

  it('still ACKs a 487 to its refresh that comes after the peer hung up (RFC 3261 §15: the peer answers pending requests)', async () => {
    const callId = 'refresh-then-bye';
    const { ua, clock, peer, uaPort, ended } = await refresherCall(callId);
    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    await peer.send(answer(refresh, 100, peer.port), uaPort);
    await peer.send(
      sipText([
        `BYE sip:uasmedia@127.0.0.1:${uaPort} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${callId}-bye;rport`,
        'Max-Forwards: 70',
        'From: <sip:alice@127.0.0.1>;tag=caller',
        `To: <sip:room1@127.0.0.1>;tag=${refresh.fromTag ?? ''}`,
        `Call-ID: ${callId}`,
        'CSeq: 2 BYE'
      ]),
      uaPort
    );
    await peer.next((m) => m instanceof SipResponse && m.callId === callId && m.cseq.method === 'BYE');
    expect(ended).toEqual(['bye']);
    await peer.send(answer(refresh, 487, peer.port), uaPort);
    await peer.next(isRequest('ACK', callId, refresh.cseq.seq - 1));
    clock.advance(64 * 500);
    expect(ua.activity).toEqual({ transactions: 0, dialogs: 0, sessions: 0 });
  });

  it('asks again at once with the Min-SE a 422 to its refresh names (RFC 4028 §7.4)', async () => {
    const callId = 'refresh-422';
    const { clock, peer, uaPort, ended } = await refresherCall(callId);
    clock.advance(45_000);
    const refresh = (await peer.next(isRequest('INVITE', callId))) as SipRequest;
    expect(refresh.get('Session-Expires')).toBe('90;refresher=uac');
    const tooSmall = responseTo(refresh, 422).add('Min-SE', '120');
    await peer.send(tooSmall.toBuffer(), uaPort);
    // No time passes: the second refresh follows the 422 itself.
    const again = (await peer.next(isRequest('INVITE', callId, refresh.cseq.seq))) as SipRequest;
    expect(again.get('Session-Expires')).toBe('120;refresher=uac');
    expect(again.get('Min-SE')).toBe('120');
    await peer.send(answer(again, 200, peer.port), uaPort);
    await peer.next(isRequest('ACK', callId, again.cseq.seq - 1));
    clock.advance(50_000); // past the 60 s the first refresh's session would have ended at
    await barrier(peer, uaPort);
    expect(peer.received.filter(isRequest('BYE', callId))).toEqual([]);
    expect(ended).toEqual([]);
  });
});
