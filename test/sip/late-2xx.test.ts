/**
 * A callee that ignores our CANCEL and picks up after we gave the INVITE up (64·T1 after the
 * CANCEL, §9.1): its 2xx is ACKed and the call it makes ended with BYE (§13.2.2.4). It got neither:
 * the callee retransmitted its 2xx for 32 s while whoever had picked up heard silence.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, type AnySipMessage } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { okWithAnswer, responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';

const agents: SipUserAgent[] = [];
const peers: UdpTestPeer[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

const isRequest =
  (method: string) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipRequest && m.method === method;

describe('a 2xx after we gave up a cancelled INVITE', () => {
  it('is ACKed and its call ended with BYE, once however often it comes', async () => {
    const ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200 }
    });
    agents.push(ua);
    await ua.start();
    const uaPort = ua.addresses()[0].port;
    const callee = await new UdpTestPeer().open();
    peers.push(callee);
    const call = ua.invite(`sip:bob@127.0.0.1:${callee.port}`, { body: testSdp(5000) });
    const failed = call.established.then(
      () => 'answered',
      (error: { status?: number }) => `failed ${error.status}`
    );
    const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
    await callee.send(responseTo(invite, 180, 'late').toBuffer(), uaPort);
    call.cancel();
    await callee.next(isRequest('CANCEL'));
    // Ignored: no 200 to the CANCEL, no 487. The INVITE is given up 64·T1 later.
    expect(await failed).toBe('failed 487');
    await sleep(50);
    const ok = okWithAnswer(invite, 'late', `sip:bob@127.0.0.1:${callee.port}`, testSdp(4000)).toBuffer();
    await callee.send(ok, uaPort);
    await callee.next(isRequest('ACK'));
    const bye = (await callee.next(isRequest('BYE'))) as SipRequest;
    expect(bye.callId).toBe(invite.callId);
    await callee.send(responseTo(bye, 200).toBuffer(), uaPort);
    // Its retransmission is ACKed again, and ended only once.
    await callee.send(ok, uaPort);
    await callee.next(isRequest('ACK'));
    await sleep(50);
    expect(callee.received.filter(isRequest('BYE'))).toHaveLength(1);
  });
});
