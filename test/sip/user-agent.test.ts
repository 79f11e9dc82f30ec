import { afterEach, describe, expect, it } from 'vitest';
import { SipError } from '../../sip/errors.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const TIMERS = { t1Ms: 50, t2Ms: 400, t4Ms: 500 };
const agents: SipUserAgent[] = [];

async function agent(
  protocols: Array<'udp' | 'tcp'> = ['udp', 'tcp'],
  timers = TIMERS
): Promise<SipUserAgent> {
  const ua = new SipUserAgent({
    transports: protocols.map((protocol) => ({ protocol, host: '127.0.0.1', port: 0 })),
    timers
  });
  agents.push(ua);
  await ua.start();
  return ua;
}

function target(ua: SipUserAgent, protocol: 'udp' | 'tcp' = 'udp', user = 'room1'): string {
  const a = ua.addresses().find((x) => x.protocol === protocol);
  if (!a) throw new Error('no address');
  return `sip:${user}@127.0.0.1:${a.port}${protocol === 'tcp' ? ';transport=tcp' : ''}`;
}

function nextInvite(ua: SipUserAgent): Promise<IncomingInvite> {
  return new Promise((resolve) => ua.once('invite', resolve));
}

function terminated(session: {
  once(e: 'terminated', l: (e: { reason: string }) => void): unknown;
}): Promise<string> {
  return new Promise((resolve) => session.once('terminated', (e) => resolve(e.reason)));
}

afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

describe('SipUserAgent placing a call to a callee that goes silent', () => {
  it('gives the INVITE up 64·T1 after its CANCEL when the callee rang and then answered nothing (§9.1)', async () => {
    const uac = await agent(['udp']);
    const callee = await new UdpTestPeer().open();
    try {
      const abort = new AbortController();
      const call = uac.invite(`sip:bob@127.0.0.1:${callee.port}`, {
        body: testSdp(4000),
        signal: abort.signal
      });
      const settled = call.established.then(
        () => 'answered',
        (e: SipError) => e.code
      );
      const invite = (await callee.next(
        (m) => m instanceof SipRequest && m.method === 'INVITE'
      )) as SipRequest;
      const ringing = [
        'SIP/2.0 180 Ringing',
        ...invite.getAll('Via').map((v) => `Via: ${v}`),
        `From: ${invite.get('From')}`,
        `To: ${invite.get('To')};tag=callee`,
        `Call-ID: ${invite.callId}`,
        `CSeq: ${invite.get('CSeq')}`
      ];
      const rang = new Promise((resolve) => call.once('progress', resolve));
      await callee.send(sipText(ringing), uac.addresses()[0].port);
      await rang;
      abort.abort();
      await callee.next((m) => m instanceof SipRequest && m.method === 'CANCEL');
      // Neither a 200 to the CANCEL nor a final response to the INVITE ever comes.
      expect(await settled).toBe('ERR_SIP_CANCELLED');
      expect(call.terminated).toBe(true);
    } finally {
      await callee.close();
    }
  });
});

describe('SipUserAgent answering a caller that hangs up while it rings', () => {
  it('answers a BYE on the early dialog with 200 and its INVITE with 487 (§15), and the call ends', async () => {
    const uas = await agent(['udp']);
    const port = uas.addresses()[0].port;
    const incoming = nextInvite(uas);
    const caller = await new UdpTestPeer().open();
    try {
      const common = (method: string, cseq: number, to: string, branch: string): string[] => [
        `${method} sip:room1@127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=${branch};rport`,
        'Max-Forwards: 70',
        'From: <sip:alice@127.0.0.1>;tag=early-caller',
        `To: ${to}`,
        'Call-ID: early-bye@127.0.0.1',
        `CSeq: ${cseq} ${method}`,
        `Contact: <sip:alice@127.0.0.1:${caller.port}>`
      ];
      await caller.send(
        sipText(
          [
            ...common('INVITE', 1, `<sip:room1@127.0.0.1:${port}>`, 'z9hG4bK-early-1'),
            'Content-Type: application/sdp'
          ],
          testSdp(4000)
        ),
        port
      );
      const session = await incoming;
      const ended = terminated(session);
      session.progress(180);
      const ringing = (await caller.next((m) => m instanceof SipResponse && m.status === 180)) as SipResponse;
      await caller.send(sipText(common('BYE', 2, ringing.get('To')!, 'z9hG4bK-early-2')), port);
      const byeOk = (await caller.next(
        (m) => m instanceof SipResponse && m.get('CSeq') === '2 BYE'
      )) as SipResponse;
      expect(byeOk.status).toBe(200);
      const final = (await caller.next(
        (m) => m instanceof SipResponse && m.get('CSeq') === '1 INVITE' && m.status >= 200
      )) as SipResponse;
      expect(final.status).toBe(487);
      expect(await ended).toBe('cancel');
    } finally {
      await caller.close();
    }
  });
});

describe('SipUserAgent calls between two agents on loopback', () => {
  it('places a call over UDP, answers it, confirms with ACK and hangs up with BYE on both sides', async () => {
    const [uac, uas] = [await agent(), await agent()];
    const incoming = nextInvite(uas);
    const call = uac.invite(target(uas), {
      body: testSdp(4000),
      displayName: 'Alice Caller',
      from: 'sip:alice@127.0.0.1'
    });
    const session = await incoming;
    expect(session.remoteSdp).toContain('m=audio 4000');
    expect(session.remoteDisplayName).toBe('Alice Caller');
    expect(session.remoteUri).toBe('sip:alice@127.0.0.1');
    expect(session.requestUri).toBe(target(uas));
    const progress = new Promise((resolve) => call.once('progress', resolve));
    session.progress(180);
    expect(await progress).toMatchObject({ status: 180 });
    const acked = session.accept(testSdp(5000));
    const { answerSdp } = await call.established;
    expect(answerSdp).toContain('m=audio 5000');
    await acked;
    expect(call.remoteTag).toBe(session.localTag);
    expect(session.remoteTag).toBe(call.localTag);
    const remoteEnd = terminated(session);
    const byeSeen = new Promise((resolve) => session.once('bye', () => resolve(true)));
    const localEnd = terminated(call);
    await call.bye();
    expect(await byeSeen).toBe(true);
    expect(await remoteEnd).toBe('bye');
    expect(await localEnd).toBe('local');
    expect(uas.activity.dialogs).toBe(0);
    expect(uac.activity.dialogs).toBe(0);
  });

  it('places the call over TCP when asked and when the offer is too large for UDP (§18.1.1)', async () => {
    const [uac, uas] = [await agent(), await agent()];
    uas.on('invite', (s) => void s.accept(testSdp(5002)));
    const viaTcp = uac.invite(target(uas, 'tcp'), { body: testSdp(4002) });
    await viaTcp.established;
    expect(viaTcp.protocol).toBe('tcp');
    const bigOffer = testSdp(4004) + 'a=x-padding:' + 'x'.repeat(1400) + '\r\n';
    const big = uac.invite(target(uas, 'udp'), { body: bigOffer });
    expect(big.protocol).toBe('tcp');
    await big.established;
    await viaTcp.bye();
    await big.bye();
  });

  it('delivers INFO DTMF (application/dtmf-relay) as digit + duration and answers 415 to unknown INFO types', async () => {
    const [uac, uas] = [await agent(), await agent()];
    const incoming = nextInvite(uas);
    const call = uac.invite(target(uas), { body: testSdp(4000) });
    const session = await incoming;
    await Promise.all([session.accept(testSdp(5000)), call.established]);
    const info = new Promise((resolve) => session.once('info', resolve));
    expect(await call.info('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe(200);
    expect(await info).toEqual({
      contentType: 'application/dtmf-relay',
      body: 'Signal=5\r\nDuration=160\r\n',
      dtmf: { digit: '5', durationMs: 160 }
    });
    expect(await call.info('application/dtmf', '#')).toBe(200);
    expect(await call.info('application/x-unknown', 'hello')).toBe(415);
    await session.bye();
  });

  it('rejects a call with 486 and the caller sees SipError status 486', async () => {
    const [uac, uas] = [await agent(), await agent()];
    uas.on('invite', (s) => s.reject(486));
    const call = uac.invite(target(uas), { body: testSdp(4000) });
    const end = terminated(call);
    const error = await call.established.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SipError);
    expect(error).toMatchObject({ status: 486, code: 'ERR_SIP_REJECTED' });
    expect(await end).toBe('rejected');
  });

  it('answers 480 when nobody listens for invites, and the inviteFilter can veto a Request-URI', async () => {
    const [uac, uas] = [await agent(), await agent()];
    const first = uac.invite(target(uas), { body: testSdp(4000) });
    await expect(first.established).rejects.toMatchObject({ status: 480 });
    uas.inviteFilter = (req) =>
      req.uri.includes('bad-room') ? { status: 404, reason: 'No Such Room' } : undefined;
    uas.on('invite', (s) => s.reject(603));
    await expect(
      uac.invite(target(uas, 'udp', 'bad-room'), { body: testSdp(4000) }).established
    ).rejects.toMatchObject({ status: 404, reason: 'No Such Room' });
    await expect(
      uac.invite(target(uas, 'udp', 'good'), { body: testSdp(4000) }).established
    ).rejects.toMatchObject({ status: 603 });
  });

  it('cancels a ringing call: 200 to CANCEL, 487 to the INVITE, both sides terminate with reason cancel', async () => {
    const [uac, uas] = [await agent(), await agent()];
    const incoming = nextInvite(uas);
    const call = uac.invite(target(uas), { body: testSdp(4000) });
    const session = await incoming;
    const cancelSeen = new Promise((resolve) => session.once('cancel', () => resolve(true)));
    const uasEnd = terminated(session);
    const uacEnd = terminated(call);
    call.once('progress', () => call.cancel());
    session.progress(180);
    await expect(call.established).rejects.toMatchObject({ status: 487 });
    expect(await cancelSeen).toBe(true);
    expect(await uasEnd).toBe('cancel');
    expect(await uacEnd).toBe('cancel');
  });

  it('cancels through an AbortSignal', async () => {
    const [uac, uas] = [await agent(), await agent()];
    uas.on('invite', (s) => s.progress(183, testSdp(5000)));
    const controller = new AbortController();
    const call = uac.invite(target(uas), { body: testSdp(4000), signal: controller.signal });
    const progress = await new Promise<{ status: number; body?: string }>((resolve) =>
      call.once('progress', resolve)
    );
    expect(progress.status).toBe(183);
    expect(call.remoteSdp).toContain('m=audio 5000');
    controller.abort();
    await expect(call.established).rejects.toMatchObject({ status: 487 });
  });

  it('fails with timer B (code timeout) when nothing answers the INVITE', async () => {
    const uac = await agent(['udp'], { t1Ms: 20, t2Ms: 160, t4Ms: 200 });
    const silent = await agent(['udp']);
    const deadTarget = target(silent);
    await silent.close(); // its port is now closed: the INVITE goes nowhere
    const call = uac.invite(deadTarget, { body: testSdp(4000) });
    const end = terminated(call);
    await expect(call.established).rejects.toMatchObject({ code: 'ERR_SIP_TIMEOUT' });
    expect(await end).toBe('timeout');
  });

  it('closes idempotently and rejects pending calls with a closed error', async () => {
    const [uac, uas] = [await agent(), await agent()];
    const incoming = nextInvite(uas);
    const call = uac.invite(target(uas), { body: testSdp(4000) });
    await incoming;
    await uac.close();
    await uac.close();
    await expect(call.established).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(uac.activity).toEqual({ transactions: 0, dialogs: 0, sessions: 0 });
  });
});

describe('message helpers', () => {
  it('serializes with a Content-Length matching the body', () => {
    const r = new SipRequest('OPTIONS', 'sip:a@b');
    r.body = Buffer.from('héllo');
    expect(r.toString()).toContain('Content-Length: 6\r\n\r\nhéllo');
    expect(new SipResponse(200, 'OK').toString().startsWith('SIP/2.0 200 OK\r\n')).toBe(true);
  });
});

describe('re-INVITE from our side (§14.1)', () => {
  it('puts the call on hold with a new offer and gets the answer; a rejected offer keeps the call', async () => {
    const [uac, uas] = [await agent(), await agent()];
    const incoming = nextInvite(uas);
    const call = uac.invite(target(uas), { body: testSdp(4000) });
    const session = await incoming;
    await Promise.all([session.accept(testSdp(5000)), call.established]);
    session.offerHandler = (offer) => {
      if (offer.includes('PCMA-only')) throw Object.assign(new Error('no codec'), { status: 488 });
      return testSdp(5000, 2, offer.includes('a=sendonly') ? 'recvonly' : 'sendrecv');
    };
    const seen = new Promise<{ remoteSdp: string }>((resolve) => session.once('reinvite', resolve));
    const answer = await call.reinvite(testSdp(4000, 2, 'sendonly'));
    expect(answer).toContain('a=recvonly');
    expect((await seen).remoteSdp).toContain('a=sendonly');
    expect(call.remoteSdp).toContain('a=recvonly');
    await expect(call.reinvite(testSdp(4000, 3) + 'a=PCMA-only\r\n')).rejects.toMatchObject({ status: 488 });
    expect(call.terminated).toBe(false);
    expect(await call.info('application/dtmf', '1')).toBe(200);
    await call.bye();
  });

  it('answers 500 to the caller when the invite listener throws', async () => {
    const [uac, uas] = [await agent(), await agent()];
    uas.on('invite', () => {
      throw new Error('application bug');
    });
    await expect(uac.invite(target(uas), { body: testSdp(4000) }).established).rejects.toMatchObject({
      status: 500
    });
  });
});

describe('transport failures (§8.1.3.1)', () => {
  it('fails an INVITE over TCP at once with code transport / 503 when the connection is refused', async () => {
    const uac = await agent();
    const closed = await agent();
    const deadTarget = target(closed, 'tcp');
    await closed.close();
    const call = uac.invite(deadTarget, { body: testSdp(4000) });
    const end = terminated(call);
    await expect(call.established).rejects.toMatchObject({ code: 'ERR_SIP_TRANSPORT', status: 503 });
    expect(await end).toBe('error');
  });
});
