/**
 * A call placed with `pinToAnswer` (a cluster node's trunk leg to a room's owner) takes its
 * dialog's requests only from where its 2xx came. A BYE forged from another address by anyone
 * who saw the Call-ID and tags ended the member's half of a trunk leg, and the room was split
 * until the owner's RTP timeout noticed. Without the option, a request from anywhere is taken
 * (a callee's BYE may come straight from it while its 2xx came through a proxy).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { okWithAnswer, responseTo } from '../support/sip-messages.js';

const agents: SipUserAgent[] = [];
const peers: UdpTestPeer[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

/** Our user agent's call to a raw callee on 127.0.0.1, answered; and a forger on 127.0.0.2. */
async function answeredCall(pinToAnswer: boolean) {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  agents.push(ua);
  await ua.start();
  const [callee, forger] = await Promise.all([
    new UdpTestPeer().open('127.0.0.1'),
    new UdpTestPeer().open('127.0.0.2')
  ]);
  peers.push(callee, forger);
  const call = ua.invite(`sip:owner@127.0.0.1:${callee.port}`, { body: testSdp(5000), pinToAnswer });
  const invite = (await callee.next((m) => m instanceof SipRequest && m.method === 'INVITE')) as SipRequest;
  const ok = okWithAnswer(invite, 'owner', `sip:owner@127.0.0.1:${callee.port}`, testSdp(4000)).toBuffer();
  const uaPort = ua.addresses()[0].port;
  await callee.send(ok, uaPort);
  await call.established;
  await callee.next((m) => m instanceof SipRequest && m.method === 'ACK');
  /** A BYE in the call's dialog from `peer`; resolves with the status it gets. */
  const bye = async (peer: UdpTestPeer, cseq: number): Promise<number> => {
    await peer.send(
      sipText([
        `BYE sip:uasmedia@127.0.0.1:${uaPort} SIP/2.0`,
        `Via: SIP/2.0/UDP ${peer.host}:${peer.port};branch=z9hG4bK-pinned-${cseq};rport`,
        'Max-Forwards: 70',
        `From: ${invite.get('To')};tag=owner`,
        `To: ${invite.get('From')}`,
        `Call-ID: ${invite.callId}`,
        `CSeq: ${cseq} BYE`
      ]),
      uaPort
    );
    const answer = (await peer.next(
      (m) => m instanceof SipResponse && m.cseq.method === 'BYE' && m.cseq.seq === cseq
    )) as SipResponse;
    return answer.status;
  };
  return { call, callee, forger, bye, uaPort };
}

describe('a placed call pinned to its answer', () => {
  it("answers 481 to a BYE from anywhere but where its 2xx came from, and takes the callee's own", async () => {
    const { call, callee, forger, bye } = await answeredCall(true);
    expect(await bye(forger, 10)).toBe(481);
    expect(call.terminated).toBe(false);
    expect(await bye(callee, 11)).toBe(200);
    expect(call.terminated).toBe(true);
  });

  it('still ends the call itself with a BYE the callee answers', async () => {
    const { call, callee, uaPort } = await answeredCall(true);
    const ending = call.bye();
    const bye = (await callee.next((m) => m instanceof SipRequest && m.method === 'BYE')) as SipRequest;
    await callee.send(responseTo(bye, 200).toBuffer(), uaPort);
    await ending;
    expect(call.terminated).toBe(true);
  });

  it('without the option, takes a BYE from another address (a callee behind a proxy may send one)', async () => {
    const { call, forger, bye } = await answeredCall(false);
    expect(await bye(forger, 10)).toBe(200);
    expect(call.terminated).toBe(true);
  });
});
