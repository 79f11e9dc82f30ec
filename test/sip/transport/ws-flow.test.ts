/**
 * A call over SIP over WebSocket (RFC 7118 §5) is bound to its connection (its flow), whichever
 * side placed it: its requests go over that connection whatever host its remote target names,
 * it ends when the connection closes, and a request for it arriving over any other connection
 * (or over UDP) is answered 481 with the call left as it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { InviteAdmission, type AdmissionResult } from '../../../sip/admission/invite-admission.js';
import type { IncomingInvite } from '../../../sip/session/incoming-invite.js';
import type { OutgoingInvite } from '../../../sip/session/outgoing-invite.js';
import type { SipRequest, SipResponse } from '../../../sip/message/message.js';
import { testSdp } from '../../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../../support/sip-udp-peer.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { waitFor } from '../../support/wait.js';

const agents: SipUserAgent[] = [];
const clients: WsSipClient[] = [];
const peers: UdpTestPeer[] = [];

/** Default timers (T1 500 ms): a 2xx waits 32 s for its ACK, far longer than any test here takes. */
async function agent(): Promise<{ ua: SipUserAgent; url: string; udpPort: number }> {
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'ws', host: '127.0.0.1', port: 0 }
    ]
  });
  agents.push(ua);
  await ua.start();
  const address = (protocol: string): number => ua.addresses().find((a) => a.protocol === protocol)!.port;
  return { ua, url: `ws://127.0.0.1:${address('ws')}/`, udpPort: address('udp') };
}

async function client(url: string): Promise<WsSipClient> {
  const c = await WsSipClient.connect(url);
  clients.push(c);
  return c;
}

async function udpPeer(): Promise<UdpTestPeer> {
  const peer = await new UdpTestPeer().open();
  peers.push(peer);
  return peer;
}

/** An OPTIONS answered: the UA has seen the client's `*.invalid` name on its connection. */
async function introduce(c: WsSipClient): Promise<void> {
  const callId = `hello-${Math.random().toString(36).slice(2)}`;
  c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId }));
  await c.response(callId, 200);
}

const requestsTo = (c: WsSipClient): string[] =>
  c.received.filter((m): m is SipRequest => 'method' in m).map((m) => `${m.method} ${m.callId}`);
const isResponse = (m: SipRequest | SipResponse): m is SipResponse => 'status' in m;

/** The UA calls `callee` by the name it gave; the callee answers, naming `contactHost` in its Contact. */
async function outgoingCall(
  ua: SipUserAgent,
  callee: WsSipClient,
  contactHost = callee.invalidHost
): Promise<{ call: OutgoingInvite; calleeTag: string }> {
  const call = ua.invite(`sip:web@${callee.invalidHost};transport=ws`, { body: testSdp(57000) });
  const invite = await callee.requestFor(call.callId, 'INVITE');
  const calleeTag = `callee${clients.indexOf(callee)}`;
  const ok = callee.okTo(invite, { toTag: calleeTag, body: testSdp(57002) });
  callee.send(ok.replace(`Contact: <sip:web@${callee.invalidHost};`, `Contact: <sip:web@${contactHost};`));
  await call.established;
  await callee.requestFor(call.callId, 'ACK');
  return { call, calleeTag };
}

/** The CANCEL of an INVITE as `request()` wrote it: its Via (branch), Call-ID, From, To and CSeq number (§9.1). */
function cancelOf(invite: string): string {
  return (invite.split('\r\n\r\n')[0] + '\r\n\r\n')
    .replace('INVITE sip:', 'CANCEL sip:')
    .replace(/CSeq: (\d+) INVITE/, 'CSeq: $1 CANCEL')
    .replace(/Content-Type: application\/sdp\r\n/, '')
    .replace(/Content-Length: \d+/, 'Content-Length: 0');
}

/** An admission that holds every INVITE until the test decides: `admitting` resolves when one waits. */
function heldAdmission(ua: SipUserAgent): {
  admitting: Promise<void>;
  decide: (result: AdmissionResult) => void;
} {
  let decided: (result: AdmissionResult) => void = () => undefined;
  const admitting = new Promise<void>((started) => {
    ua.inviteAdmission = new (class extends InviteAdmission {
      override admit(): Promise<AdmissionResult> {
        started();
        return new Promise((resolve) => (decided = resolve));
      }
    })({});
  });
  return { admitting, decide: (result) => decided(result) };
}

/** `caller` calls the UA, which answers; resolves once the ACK is in. */
async function incomingCall(
  ua: SipUserAgent,
  caller: WsSipClient,
  callId: string
): Promise<{ session: IncomingInvite; toTag: string }> {
  const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
  caller.send(caller.request('INVITE', 'sip:room1@127.0.0.1', { callId, cseq: 1, body: testSdp(57004) }));
  const session = await incoming;
  const acked = session.accept(testSdp(57006));
  const ok = await caller.response(callId, 200);
  caller.send(caller.request('ACK', 'sip:room1@127.0.0.1', { callId, cseq: 1, toTag: ok.toTag }));
  await acked;
  return { session, toTag: ok.toTag! };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
});

describe('a call the UA places to a WebSocket client', () => {
  it("sends its ACK and BYE over the connection its INVITE went on, though the 200's Contact names another connection's host", async () => {
    const { ua, url } = await agent();
    const [callee, other] = [await client(url), await client(url)];
    await introduce(other);
    await introduce(callee);
    const { call } = await outgoingCall(ua, callee, other.invalidHost);
    // bye() resolves on the 200, which its receiver sends after taking the BYE.
    await call.bye();
    expect(requestsTo(callee)).toEqual([`INVITE ${call.callId}`, `ACK ${call.callId}`, `BYE ${call.callId}`]);
    expect(requestsTo(other)).toEqual([]);
  });

  it('ends (reason error) when that connection closes, and leaves the call to another client up', async () => {
    const { ua, url } = await agent();
    const [gone, stays] = [await client(url), await client(url)];
    await introduce(gone);
    await introduce(stays);
    const goneCall = (await outgoingCall(ua, gone)).call;
    const staysCall = (await outgoingCall(ua, stays)).call;
    const ended = new Promise((resolve) => goneCall.once('terminated', ({ reason }) => resolve(reason)));
    await gone.close();
    expect(await ended).toBe('error');
    expect(staysCall.terminated).toBe(false);
    expect(ua.activity.dialogs).toBe(1);
    await staysCall.bye();
    expect(requestsTo(stays)).toContain(`BYE ${staysCall.callId}`);
  });

  it('fails while it rings when that connection closes, and its INVITE transaction ends', async () => {
    const { ua, url } = await agent();
    const callee = await client(url);
    await introduce(callee);
    const call = ua.invite(`sip:web@${callee.invalidHost};transport=ws`, { body: testSdp(57008) });
    const invite = await callee.requestFor(call.callId, 'INVITE');
    const ringing = callee.okTo(invite).replace('SIP/2.0 200 OK', 'SIP/2.0 180 Ringing');
    const progressed = new Promise((resolve) => call.once('progress', resolve));
    callee.send(ringing);
    await progressed;
    const ended = new Promise((resolve) => call.once('terminated', ({ reason }) => resolve(reason)));
    await callee.close();
    // After a provisional response nothing times the INVITE out (§17.1.1.2): it rang for good.
    expect(await ended).toBe('error');
    await expect(call.established).rejects.toMatchObject({ code: 'ERR_SIP_ENDED' });
    expect(ua.activity).toEqual({ transactions: 0, dialogs: 0, sessions: 0 });
  });

  it('answers 481 to a BYE for it from another connection or over UDP, and the call goes on', async () => {
    const { ua, url, udpPort } = await agent();
    const [callee, intruder] = [await client(url), await client(url)];
    await introduce(callee);
    const { call, calleeTag } = await outgoingCall(ua, callee);
    const ids = { callId: call.callId, fromTag: calleeTag, toTag: call.localTag, cseq: 1 };
    intruder.send(intruder.request('BYE', 'sip:uasmedia@127.0.0.1', ids));
    expect((await intruder.response(call.callId, 481)).cseq.method).toBe('BYE');
    const peer = await udpPeer();
    await peer.send(
      sipText([
        'BYE sip:uasmedia@127.0.0.1 SIP/2.0',
        `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKudpbye;rport`,
        'Max-Forwards: 70',
        `From: <sip:web@example.invalid>;tag=${calleeTag}`,
        `To: <sip:uasmedia@127.0.0.1>;tag=${call.localTag}`,
        `Call-ID: ${call.callId}`,
        'CSeq: 2 BYE'
      ]),
      udpPort
    );
    expect(((await peer.next((m) => isResponse(m as SipResponse))) as SipResponse).status).toBe(481);
    expect(call.terminated).toBe(false);
    const ended = new Promise((resolve) => call.once('terminated', ({ reason }) => resolve(reason)));
    callee.send(callee.request('BYE', 'sip:uasmedia@127.0.0.1', { ...ids, cseq: 3 }));
    await callee.response(call.callId, 200);
    expect(await ended).toBe('bye');
  });
});

describe('a call a WebSocket client placed', () => {
  it('answers 481 to a BYE, re-INVITE or INFO for it from another connection, and the call goes on', async () => {
    const { ua, url } = await agent();
    const [caller, intruder] = [await client(url), await client(url)];
    const { session, toTag } = await incomingCall(ua, caller, 'victim-1');
    const infos: unknown[] = [];
    session.on('info', (info) => infos.push(info));
    const ids = { callId: 'victim-1', toTag };
    intruder.send(intruder.request('BYE', 'sip:room1@127.0.0.1', { ...ids, cseq: 2 }));
    intruder.send(
      intruder.request('INVITE', 'sip:room1@127.0.0.1', { ...ids, cseq: 3, body: testSdp(57010) })
    );
    intruder.send(intruder.request('INFO', 'sip:room1@127.0.0.1', { ...ids, cseq: 4 }));
    await waitFor(() => intruder.received.filter(isResponse).filter((r) => r.status >= 200).length === 3);
    expect(
      intruder.received
        .filter(isResponse)
        .filter((r) => r.status >= 200)
        .map((r) => `${r.status} ${r.cseq.method}`)
        .sort()
    ).toEqual(['481 BYE', '481 INFO', '481 INVITE']);
    expect(session.terminated).toBe(false);
    expect(infos).toEqual([]);
    expect(session.remoteSdp).toBe(testSdp(57004));
    // The caller's own requests are taken: the CSeq the intruder used did not move its count.
    caller.send(caller.request('INFO', 'sip:room1@127.0.0.1', { ...ids, cseq: 2 }));
    await caller.response('victim-1', 200);
    const ended = new Promise((resolve) => session.once('terminated', ({ reason }) => resolve(reason)));
    caller.send(caller.request('BYE', 'sip:room1@127.0.0.1', { ...ids, cseq: 3 }));
    await caller.response('victim-1', 200);
    expect(await ended).toBe('bye');
  });

  it('takes no ACK for its 2xx from another connection, and answers none', async () => {
    const { ua, url } = await agent();
    const [caller, intruder] = [await client(url), await client(url)];
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    caller.send(caller.request('INVITE', 'sip:room1@127.0.0.1', { callId: 'acked-1', body: testSdp(57012) }));
    const session = await incoming;
    let acked = false;
    const accepted = session.accept(testSdp(57014)).then(() => (acked = true));
    const ok = await caller.response('acked-1', 200);
    const ack = { callId: 'acked-1', cseq: 1, toTag: ok.toTag };
    intruder.send(intruder.request('ACK', 'sip:room1@127.0.0.1', ack));
    // Messages on one connection are taken in order: once this is answered, the ACK was handled.
    await introduce(intruder);
    expect(acked).toBe(false);
    expect(intruder.received.filter(isResponse).map((r) => r.callId)).not.toContain('acked-1');
    caller.send(caller.request('ACK', 'sip:room1@127.0.0.1', ack));
    await accepted;
    expect(session.terminated).toBe(false);
  });

  it('answers 481 to a CANCEL of its INVITE from another connection, and the INVITE rings on', async () => {
    const { ua, url } = await agent();
    const [caller, intruder] = [await client(url), await client(url)];
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    const invite = caller.request('INVITE', 'sip:room1@127.0.0.1', {
      callId: 'ringing-1',
      cseq: 1,
      body: testSdp(57016)
    });
    caller.send(invite);
    const session = await incoming;
    session.progress(180);
    await caller.response('ringing-1', 180);
    const cancel = cancelOf(invite);
    intruder.send(cancel);
    expect((await intruder.response('ringing-1', 481)).cseq.method).toBe('CANCEL');
    expect(session.terminated).toBe(false);
    caller.send(cancel);
    expect((await caller.response('ringing-1', 200)).cseq.method).toBe('CANCEL');
    expect((await caller.response('ringing-1', 487)).cseq.method).toBe('INVITE');
    expect(session.terminated).toBe(true);
  });

  it("takes the caller's own CANCEL after a stranger sent a copy of it over UDP first", async () => {
    // Over UDP the stranger's CANCEL transaction lives 64·T1: with the same key, the caller's
    // CANCEL was taken as its retransmission and swallowed, and the INVITE could not be cancelled.
    const { ua, url, udpPort } = await agent();
    const caller = await client(url);
    const stranger = await udpPeer();
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    const invite = caller.request('INVITE', 'sip:room1@127.0.0.1', {
      callId: 'ringing-udp',
      cseq: 1,
      body: testSdp(57018)
    });
    caller.send(invite);
    const session = await incoming;
    session.progress(180);
    await caller.response('ringing-udp', 180);
    const cancel = cancelOf(invite);
    // Its 481 goes to the Via it copied (the caller's *.invalid name), statelessly: it leaves no
    // transaction behind that could take the caller's CANCEL for a retransmission.
    const before = ua.stats.rejected;
    const transactions = ua.activity.transactions;
    await stranger.send(cancel, udpPort);
    await waitFor(() => ua.stats.rejected > before, 5000);
    expect(ua.activity.transactions).toBe(transactions);
    expect(session.terminated).toBe(false);
    caller.send(cancel);
    expect((await caller.response('ringing-udp', 200)).cseq.method).toBe('CANCEL');
    expect((await caller.response('ringing-udp', 487)).cseq.method).toBe('INVITE');
    expect(session.terminated).toBe(true);
  });

  it('drops an INVITE whose connection closed while it was being admitted: no call, the admission released', async () => {
    const { ua, url } = await agent();
    const { admitting, decide } = heldAdmission(ua);
    let invites = 0;
    ua.on('invite', () => invites++);
    const caller = await client(url);
    caller.send(
      caller.request('INVITE', 'sip:room1@127.0.0.1', { callId: 'admit-gone', cseq: 1, body: testSdp(57024) })
    );
    await admitting;
    await caller.close();
    await waitFor(() => ua.activity.transactions === 0);
    let released = false;
    decide({ admitted: true, release: () => (released = true) });
    await waitFor(() => released);
    // It was offered, bound to the closed connection, and its accept() waited 64·T1 for an ACK.
    expect(invites).toBe(0);
    expect(ua.activity.sessions).toBe(0);
  });

  it('answers 481 to a CANCEL of its INVITE from another connection while the INVITE is being admitted', async () => {
    const { ua, url } = await agent();
    const { admitting, decide } = heldAdmission(ua);
    let invites = 0;
    ua.on('invite', () => invites++);
    const [caller, intruder] = [await client(url), await client(url)];
    const invite = caller.request('INVITE', 'sip:room1@127.0.0.1', {
      callId: 'admitting-1',
      cseq: 1,
      body: testSdp(57022)
    });
    caller.send(invite);
    await admitting;
    await caller.response('admitting-1', 100);
    const cancel = cancelOf(invite);
    intruder.send(cancel);
    expect((await intruder.response('admitting-1', 481)).cseq.method).toBe('CANCEL');
    expect(caller.received.filter(isResponse).map((r) => r.status)).toEqual([100]);
    caller.send(cancel);
    expect((await caller.response('admitting-1', 200)).cseq.method).toBe('CANCEL');
    expect((await caller.response('admitting-1', 487)).cseq.method).toBe('INVITE');
    let released = false;
    decide({ admitted: true, release: () => (released = true) });
    await waitFor(() => released);
    expect(invites).toBe(0);
  });
});

describe('a call over UDP', () => {
  it('takes its BYE from another port of the same peer, as before (a NAT may move it)', async () => {
    const { ua, udpPort } = await agent();
    const [first, second] = [await udpPeer(), await udpPeer()];
    const head = (peer: UdpTestPeer, method: string, cseq: number, toTag?: string): string[] => [
      `${method} sip:room1@127.0.0.1:${udpPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK${method}${cseq}${peer.port};rport`,
      'Max-Forwards: 70',
      'From: <sip:phone@127.0.0.1>;tag=phone',
      `To: <sip:room1@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
      'Call-ID: udp-moved-1',
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:phone@127.0.0.1:${peer.port}>`
    ];
    const incoming = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
    await first.send(
      sipText([...head(first, 'INVITE', 1), 'Content-Type: application/sdp'], testSdp(57018)),
      udpPort
    );
    const session = await incoming;
    const acked = session.accept(testSdp(57020));
    const ok = (await first.next(
      (m) => isResponse(m as SipResponse) && (m as SipResponse).status === 200
    )) as SipResponse;
    await first.send(sipText(head(first, 'ACK', 1, ok.toTag)), udpPort);
    await acked;
    const ended = new Promise((resolve) => session.once('terminated', ({ reason }) => resolve(reason)));
    await second.send(sipText(head(second, 'BYE', 2, ok.toTag)), udpPort);
    expect(((await second.next((m) => isResponse(m as SipResponse))) as SipResponse).status).toBe(200);
    expect(await ended).toBe('bye');
  });
});
