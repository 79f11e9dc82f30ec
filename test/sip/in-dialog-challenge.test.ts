/**
 * A carrier that challenges every request challenges the BYE of a call we placed (407, or 401
 * from the callee), and its re-INVITEs (a session refresh): each is sent again with the call's
 * credentials, as the dialog's next request (RFC 3261 §22.2). Unanswered, the call stayed up,
 * and billed, at the carrier's end, or a call the carrier asked us to refresh ended at expiry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, type AnySipMessage } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { okWithAnswer, responseTo } from '../support/sip-messages.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import {
  answersCarrierChallenge,
  carrierChallenge,
  isRequest,
  TRUNK_CREDENTIALS
} from '../support/carrier-challenge.js';

const HOST = '127.0.26.10';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const cseqsOf = (peer: UdpTestPeer, method: string): Set<number> =>
  new Set(peer.received.filter(isRequest(method)).map((m) => (m as SipRequest).cseq.seq));

async function placedCall(auth?: { username: string; password: string }) {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: HOST, port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const carrier = await new UdpTestPeer().open(HOST);
  cleanups.push(() => carrier.close());
  const uaPort = ua.addresses()[0].port;
  const call = ua.invite(`sip:+15550001111@${HOST}:${carrier.port}`, { body: testSdp(5000), auth });
  const invite = (await carrier.next(isRequest('INVITE'))) as SipRequest;
  const ok = okWithAnswer(invite, 'carrier', `sip:gw@${HOST}:${carrier.port}`, testSdp(6000));
  await carrier.send(ok.toBuffer(), uaPort, HOST);
  await call.established;
  await carrier.next(isRequest('ACK'));
  const send = (response: ReturnType<typeof responseTo>) => carrier.send(response.toBuffer(), uaPort, HOST);
  return { call, carrier, send, invite };
}

/**
 * Hangs up `placed` and answers each of the first `times` BYEs it sends with a 407 (after the
 * first, saying the nonce was stale when `stale`); the BYEs it sent in all.
 */
async function challengeEachBye(
  placed: Awaited<ReturnType<typeof placedCall>>,
  times: number,
  stale: boolean
): Promise<number> {
  const hangingUp = placed.call.bye();
  let seq = 0;
  for (let attempt = 0; attempt < times; attempt++) {
    const next = (await placed.carrier.next(isRequest('BYE', seq))) as SipRequest;
    seq = next.cseq.seq;
    await placed.send(carrierChallenge(next, 407, stale && attempt > 0));
  }
  await hangingUp;
  return cseqsOf(placed.carrier, 'BYE').size;
}

describe('a challenged BYE of a call we placed', () => {
  for (const status of [407, 401] as const) {
    it(`is sent again with the call's credentials after a ${status}, as the dialog's next request`, async () => {
      const { call, carrier, send } = await placedCall(TRUNK_CREDENTIALS);
      const hangingUp = call.bye();
      const first = (await carrier.next(isRequest('BYE'))) as SipRequest;
      await send(carrierChallenge(first, status));
      const second = (await carrier.next(isRequest('BYE', first.cseq.seq))) as SipRequest;
      await send(responseTo(second, 200));
      await hangingUp;

      expect(second.cseq.seq).toBe(first.cseq.seq + 1);
      expect(second.uri).toBe(first.uri);
      expect(second.getAll('Route')).toEqual(first.getAll('Route'));
      expect(answersCarrierChallenge(second, status)).toBe(true);
    });
  }

  it('is not sent again without credentials, nor answered again when its realm refuses the answer', async () => {
    const anonymous = await placedCall();
    const hangingUp = anonymous.call.bye();
    const bye = (await anonymous.carrier.next(isRequest('BYE'))) as SipRequest;
    await anonymous.send(carrierChallenge(bye, 407));
    await hangingUp;
    expect(cseqsOf(anonymous.carrier, 'BYE').size).toBe(1);

    const refused = await placedCall({ username: 'trunkuser', password: 'wrong' });
    expect(await challengeEachBye(refused, 2, false)).toBe(2);
  });

  it('is answered once more when only the nonce was stale (RFC 7616 §3.3), and not past that', async () => {
    const stale = await placedCall(TRUNK_CREDENTIALS);
    expect(await challengeEachBye(stale, 3, true)).toBe(3);
  });
});

describe('a challenged re-INVITE of a call we placed', () => {
  it("is sent again with the call's credentials and resolves with the answer", async () => {
    const { call, carrier, send } = await placedCall(TRUNK_CREDENTIALS);
    const refreshing = call.reinvite(testSdp(5000));
    const first = (await carrier.next(isRequest('INVITE', 1))) as SipRequest;
    await send(carrierChallenge(first, 407));
    const second = (await carrier.next(isRequest('INVITE', first.cseq.seq))) as SipRequest;
    const ok = okWithAnswer(second, '', `sip:gw@${HOST}:${carrier.port}`, testSdp(6002));
    await send(ok);

    expect(await refreshing).toContain('m=audio 6002');
    expect(second.cseq.seq).toBe(first.cseq.seq + 1);
    expect(second.bodyText).toBe(first.bodyText);
    expect(answersCarrierChallenge(second, 407)).toBe(true);
    const ack = (await carrier.next(isRequest('ACK', first.cseq.seq))) as SipRequest;
    expect(ack.cseq.seq).toBe(second.cseq.seq);
  });
});

describe('a challenged BYE ending a forked dialog we do not keep', () => {
  it("is sent again with the call's credentials", async () => {
    const { carrier, send, invite } = await placedCall(TRUNK_CREDENTIALS);
    await send(okWithAnswer(invite, 'fork2', `sip:fork2@${HOST}:${carrier.port}`, testSdp(6004)));
    const isFork2Bye = (after: number) => (m: AnySipMessage) =>
      isRequest('BYE', after)(m) && (m as SipRequest).toTag === 'fork2';
    const first = (await carrier.next(isFork2Bye(0))) as SipRequest;
    await send(carrierChallenge(first, 407));
    const second = (await carrier.next(isFork2Bye(first.cseq.seq))) as SipRequest;
    await send(responseTo(second, 200));
    expect(second.uri).toBe(`sip:fork2@${HOST}:${carrier.port}`);
    expect(second.get('Proxy-Authorization')).toMatch(/nonce="bye-nonce"/);
  });
});
