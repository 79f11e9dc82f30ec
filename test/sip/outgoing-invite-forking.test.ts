/**
 * Our INVITE forked: a second UAS answers after the first (RFC 3261 §13.2.2.4). On the wire, a
 * raw UDP callee sends two 200 OKs with different To tags; each must be ACKed, or the UAS
 * retransmits it for 64·T1, and the second dialog, which we do not keep, ended with BYE.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, type AnySipMessage } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';
import { responseTo } from '../support/sip-messages.js';

const agents: SipUserAgent[] = [];
const callees: UdpTestPeer[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
  await Promise.all(callees.splice(0).map((peer) => peer.close()));
});

/** Our user agent calls a raw UDP callee; resolves once the callee holds the INVITE. */
async function placeCall() {
  const uac = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  agents.push(uac);
  await uac.start();
  const callee = await new UdpTestPeer().open();
  callees.push(callee);
  const call = uac.invite(`sip:bob@127.0.0.1:${callee.port}`, { body: testSdp(5000) });
  const invite = (await callee.next((m) => m instanceof SipRequest && m.method === 'INVITE')) as SipRequest;
  return { uacPort: uac.addresses()[0].port, callee, call, invite };
}

/** The callee's 200 OK to `invite`, from the UAS whose To tag is `tag`. */
function ok(invite: SipRequest, tag: string, calleePort: number): string {
  const headers = [
    'SIP/2.0 200 OK',
    ...invite.getAll('Via').map((v) => `Via: ${v}`),
    `From: ${invite.get('From')}`,
    `To: ${invite.get('To')};tag=${tag}`,
    `Call-ID: ${invite.callId}`,
    `CSeq: ${invite.get('CSeq')}`,
    `Contact: <sip:${tag}@127.0.0.1:${calleePort}>`,
    'Content-Type: application/sdp'
  ];
  return sipText(headers, testSdp(tag === 'first' ? 4000 : 4002));
}

/** The callee's 200 OK to a BYE. */
function byeOk(bye: SipRequest): Buffer {
  return responseTo(bye, 200).toBuffer();
}

const isRequest =
  (method: string, toTag: string) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipRequest && m.method === method && m.toTag === toTag;

describe('an outgoing INVITE answered by two UASs', () => {
  it('ACKs both 2xx, sends BYE on the second dialog only, and keeps the first call up', async () => {
    const { uacPort, callee, call, invite } = await placeCall();

    await callee.send(ok(invite, 'first', callee.port), uacPort);
    await call.established;
    await callee.next(isRequest('ACK', 'first'));

    await callee.send(ok(invite, 'second', callee.port), uacPort);
    await callee.next(isRequest('ACK', 'second'));
    const bye = (await callee.next(isRequest('BYE', 'second'))) as SipRequest;
    expect(bye.callId).toBe(invite.callId);
    expect(bye.uri).toBe(`sip:second@127.0.0.1:${callee.port}`);
    await callee.send(byeOk(bye), uacPort);

    // A retransmission of either 2xx is ACKed again; the second dialog is not sent BYE twice.
    await callee.send(ok(invite, 'second', callee.port), uacPort);
    await callee.next(isRequest('ACK', 'second'));
    await callee.send(ok(invite, 'first', callee.port), uacPort);
    await callee.next(isRequest('ACK', 'first'));
    await sleep(300);
    const byes = callee.received.filter((m) => m instanceof SipRequest && m.method === 'BYE');
    expect(byes.map((m) => m.toTag)).toEqual(['second']);
    expect(call.terminated).toBe(false);

    // The call kept is the first UAS's: hanging up ends that dialog.
    const hangingUp = call.bye();
    const lastBye = (await callee.next(isRequest('BYE', 'first'))) as SipRequest;
    await callee.send(byeOk(lastBye), uacPort);
    await hangingUp;
    expect(call.terminated).toBe(true);
  });

  it('answers at most 8 forked dialogs: a peer inventing To tags gets no ACK or BYE past them', async () => {
    const { uacPort, callee, call, invite } = await placeCall();
    await callee.send(ok(invite, 'first', callee.port), uacPort);
    await call.established;
    const tags = Array.from({ length: 12 }, (_, i) => `fork${i}`);
    for (const tag of tags) await callee.send(ok(invite, tag, callee.port), uacPort);
    await callee.next(isRequest('BYE', 'fork7'));
    await sleep(500);
    const answered = (method: string): string[] => [
      ...new Set(
        callee.received
          .filter((m) => m instanceof SipRequest && m.method === method && m.toTag !== 'first')
          .map((m) => m.toTag ?? '')
      )
    ];
    expect(answered('ACK').sort()).toEqual(tags.slice(0, 8).sort());
    expect(answered('BYE').sort()).toEqual(tags.slice(0, 8).sort());
    expect(call.terminated).toBe(false);
  });
});
