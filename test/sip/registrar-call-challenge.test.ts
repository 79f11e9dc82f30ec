/**
 * A carrier we register with places a call to us and challenges our BYE (or re-INVITE) in it,
 * as carriers that authenticate every request do: the request is sent again with the
 * registration's credentials. Unanswered, the call stayed up, and billed, at the carrier's end.
 * Only a request that goes to the registrar that bound us is answered: a caller that names its own
 * Contact and challenges our BYE there with the carrier's realm gets no digest of the password.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { responseTo } from '../support/sip-messages.js';
import { sipText, UdpTestPeer } from '../support/sip-udp-peer.js';
import {
  answersCarrierChallenge,
  carrierChallenge,
  isRequest,
  TRUNK_CREDENTIALS
} from '../support/carrier-challenge.js';

const UA_HOST = '127.0.26.20';
const CARRIER_HOST = '127.0.26.21';
const STRANGER_HOST = '127.0.26.22';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A user agent registered (with credentials) at a raw UDP carrier; `uaPort` is where it listens. */
async function registeredAtCarrier() {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: UA_HOST, port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await ua.start();
  const carrier = await new UdpTestPeer().open(CARRIER_HOST);
  const uaPort = ua.addresses()[0].port;
  cleanups.push(async () => {
    // The carrier answers the un-REGISTER, so close() need not wait out its timeout.
    const closing = ua.close();
    const unregister = await carrier.next(isRequest('REGISTER', 1)).catch(() => undefined);
    if (unregister) await carrier.send(responseTo(unregister as SipRequest, 200).toBuffer(), uaPort, UA_HOST);
    await closing;
    await carrier.close();
  });
  const registration = ua.register({
    registrar: `sip:${CARRIER_HOST}:${carrier.port}`,
    aor: 'sip:engine@carrier.example',
    ...TRUNK_CREDENTIALS
  });
  const registered = new Promise<void>((resolve) => registration.once('registered', () => resolve()));
  const register = (await carrier.next(isRequest('REGISTER'))) as SipRequest;
  const ok = responseTo(register, 200, 'reg');
  ok.add('Contact', `${register.get('Contact')};expires=600`);
  await carrier.send(ok.toBuffer(), uaPort, UA_HOST);
  await registered;
  return { ua, carrier, uaPort };
}

/** A call from `peer` (its Contact its own address) that `ua` answers; resolves once it is confirmed. */
async function callFrom(ua: SipUserAgent, uaPort: number, peer: UdpTestPeer, host: string, callId: string) {
  const session = new Promise<IncomingInvite>((resolve) => ua.once('invite', resolve));
  const invite = sipText(
    [
      `INVITE sip:engine@${UA_HOST}:${uaPort} SIP/2.0`,
      `Via: SIP/2.0/UDP ${host}:${peer.port};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:+15550001111@carrier.example>;tag=caller',
      'To: <sip:engine@carrier.example>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:gw@${host}:${peer.port}>`,
      'Content-Type: application/sdp'
    ],
    testSdp(6000)
  );
  await peer.send(invite, uaPort, UA_HOST);
  const call = await session;
  const accepted = call.accept(testSdp(5000));
  const ok = (await peer.next(
    (m) => m instanceof SipResponse && m.callId === callId && m.status === 200
  )) as SipResponse;
  const ack = sipText([
    `ACK sip:engine@${UA_HOST}:${uaPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${peer.port};branch=z9hG4bK-${callId}-ack`,
    'Max-Forwards: 70',
    'From: <sip:+15550001111@carrier.example>;tag=caller',
    `To: ${ok.get('To')}`,
    `Call-ID: ${callId}`,
    'CSeq: 1 ACK'
  ]);
  await peer.send(ack, uaPort, UA_HOST);
  await accepted;
  return call;
}

describe('a challenged request of a call the carrier we register with placed to us', () => {
  for (const status of [401, 407] as const) {
    it(`is sent again with the registration's credentials after a ${status}`, async () => {
      const { ua, carrier, uaPort } = await registeredAtCarrier();
      const call = await callFrom(ua, uaPort, carrier, CARRIER_HOST, `carrier-${status}`);
      const hangingUp = call.bye();
      const first = (await carrier.next(isRequest('BYE'))) as SipRequest;
      await carrier.send(carrierChallenge(first, status).toBuffer(), uaPort, UA_HOST);
      const second = (await carrier.next(isRequest('BYE', first.cseq.seq))) as SipRequest;
      await carrier.send(responseTo(second, 200).toBuffer(), uaPort, UA_HOST);
      await hangingUp;

      expect(second.cseq.seq).toBe(first.cseq.seq + 1);
      expect(answersCarrierChallenge(second, status)).toBe(true);
    });
  }

  it("answers its re-INVITE's challenge too", async () => {
    const { ua, carrier, uaPort } = await registeredAtCarrier();
    const call = await callFrom(ua, uaPort, carrier, CARRIER_HOST, 'carrier-reinvite');
    const refreshing = call.reinvite(testSdp(5000));
    const first = (await carrier.next(isRequest('INVITE', 1))) as SipRequest;
    await carrier.send(carrierChallenge(first, 407).toBuffer(), uaPort, UA_HOST);
    const second = (await carrier.next(isRequest('INVITE', first.cseq.seq))) as SipRequest;
    const ok = responseTo(second, 200);
    ok.add('Contact', `<sip:gw@${CARRIER_HOST}:${carrier.port}>`);
    ok.add('Content-Type', 'application/sdp');
    ok.body = Buffer.from(testSdp(6002));
    await carrier.send(ok.toBuffer(), uaPort, UA_HOST);
    expect(await refreshing).toContain('m=audio 6002');
    expect(answersCarrierChallenge(second, 407)).toBe(true);
  });
});

describe('a challenged request of a call from anyone else', () => {
  it("is not answered with the registration's credentials, even in the carrier's realm", async () => {
    const { ua, uaPort } = await registeredAtCarrier();
    const stranger = await new UdpTestPeer().open(STRANGER_HOST);
    cleanups.push(() => stranger.close());
    const call = await callFrom(ua, uaPort, stranger, STRANGER_HOST, 'stranger');
    const hangingUp = call.bye();
    const bye = (await stranger.next(isRequest('BYE'))) as SipRequest;
    await stranger.send(carrierChallenge(bye, 401).toBuffer(), uaPort, UA_HOST);
    await hangingUp;
    const byes = stranger.received.filter(isRequest('BYE')) as SipRequest[];
    expect(new Set(byes.map((b) => b.cseq.seq)).size).toBe(1);
    expect(byes.some((b) => b.has('Authorization') || b.has('Proxy-Authorization'))).toBe(false);
  });
});
