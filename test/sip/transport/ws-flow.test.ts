/**
 * A call over SIP over WebSocket (RFC 7118 §5) is bound to its connection (its flow), whichever
 * side placed it: its requests go over that connection whatever host its remote target names,
 * and it ends when the connection closes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../../sip/user-agent.js';
import type { OutgoingInvite } from '../../../sip/session/outgoing-invite.js';
import type { SipRequest } from '../../../sip/message/message.js';
import { testSdp } from '../../support/sip-sdp.js';
import { WsSipClient } from '../../support/ws-sip-client.js';

const agents: SipUserAgent[] = [];
const clients: WsSipClient[] = [];

/** Default timers (T1 500 ms): a 2xx waits 32 s for its ACK, far longer than any test here takes. */
async function agent(): Promise<{ ua: SipUserAgent; url: string }> {
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'ws', host: '127.0.0.1', port: 0 }
    ]
  });
  agents.push(ua);
  await ua.start();
  return { ua, url: `ws://127.0.0.1:${ua.addresses().find((a) => a.protocol === 'ws')!.port}/` };
}

async function client(url: string): Promise<WsSipClient> {
  const c = await WsSipClient.connect(url);
  clients.push(c);
  return c;
}

/** An OPTIONS answered: the UA has seen the client's `*.invalid` name on its connection. */
async function introduce(c: WsSipClient): Promise<void> {
  const callId = `hello-${Math.random().toString(36).slice(2)}`;
  c.send(c.request('OPTIONS', 'sip:room1@127.0.0.1', { callId }));
  await c.response(callId, 200);
}

const requestsTo = (c: WsSipClient): string[] =>
  c.received.filter((m): m is SipRequest => 'method' in m).map((m) => `${m.method} ${m.callId}`);

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

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
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
});
