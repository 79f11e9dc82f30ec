/**
 * INVITEs without an offer, over a real UDP socket against the engine (RFC 3261 §13.2.1, §14.2):
 * a delayed-offer call (trunks, third-party call control) and a re-INVITE without SDP (a session
 * refresh, a B2BUA asking for our description). We offer in the 200 and take the answer from the
 * ACK. Before, the first got 488 and the second 400, and a peer refreshing its session that way
 * lost the call at expiry. RTP reaching the port each answer names shows the answer was applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';
import { countingUdpPort } from '../support/counting-udp-port.js';
import { responseTo } from '../support/sip-messages.js';

let engine: Engine;
let sipPort: number;
const calls: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 55400, maxPort: 55439 },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => calls.push(channel));
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

function request(
  method: string,
  peerPort: number,
  callId: string,
  branch: string,
  to: string,
  cseq: number
): string[] {
  return [
    `${method} sip:room@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${branch}`,
    'Max-Forwards: 70',
    'From: <sip:raw@127.0.0.1>;tag=caller',
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:raw@127.0.0.1:${peerPort}>`
  ];
}

const isOk = (cseq: number) => (m: unknown) =>
  m instanceof SipResponse && m.status === 200 && m.cseq.seq === cseq && m.cseq.method === 'INVITE';
const withSdp = (lines: string[], sdp: string): string =>
  sipText([...lines, 'Content-Type: application/sdp'], sdp);

/** A call set up by a delayed-offer INVITE, answered by the ACK with RTP to `port` (no answer without one). */
async function delayedOfferCall(
  peer: UdpTestPeer,
  callId: string,
  port: number | undefined
): Promise<{ channel: UASCallChannel; ok: SipResponse; answering: Promise<unknown> }> {
  const base = calls.length;
  const to = `<sip:room@127.0.0.1:${sipPort}>`;
  await peer.send(sipText(request('INVITE', peer.port, callId, `z9hG4bK-${callId}-1`, to, 1)), sipPort);
  await waitFor(() => calls.length === base + 1);
  const channel = calls[base];
  const answering = channel.answer();
  answering.catch(() => undefined);
  const ok = (await peer.next(isOk(1))) as SipResponse;
  expect(ok.get('Content-Type')).toBe('application/sdp');
  expect(ok.bodyText).toMatch(/^m=audio \d+ RTP\/AVP/m);
  const ack = request('ACK', peer.port, callId, `z9hG4bK-${callId}-ack1`, ok.get('To')!, 1);
  await peer.send(port === undefined ? sipText(ack) : withSdp(ack, testSdp(port)), sipPort);
  return { channel, ok, answering };
}

describe('INVITEs without an offer', () => {
  it('answers a delayed-offer INVITE with an offer in the 200 and takes the answer from the ACK', async () => {
    const peer = await new UdpTestPeer().open();
    const media = await countingUdpPort();
    try {
      const { channel, answering } = await delayedOfferCall(peer, 'delayed-offer', media.port);
      await answering;
      expect(channel.state).toBe(State.ANSWERED);
      await waitFor(() => media.count() > 0);
    } finally {
      media.close();
      await peer.close();
    }
  });

  it('ends a delayed-offer call whose ACK carries no answer, with BYE', async () => {
    const peer = await new UdpTestPeer().open();
    try {
      const { channel, answering } = await delayedOfferCall(peer, 'no-answer', undefined);
      const answered = answering.then(
        () => 'answered',
        () => 'failed'
      );
      const bye = (await peer.next((m) => m instanceof SipRequest && m.method === 'BYE')) as SipRequest;
      await peer.send(responseTo(bye, 200).toBuffer(), sipPort);
      expect(await answered).toBe('failed');
      await waitFor(() => channel.state === State.IDLE);
    } finally {
      await peer.close();
    }
  });

  it('answers a re-INVITE without SDP with an offer, and the ACK moves the media', async () => {
    const peer = await new UdpTestPeer().open();
    const first = await countingUdpPort();
    const second = await countingUdpPort();
    try {
      const { channel, ok, answering } = await delayedOfferCall(peer, 'reinvite-no-sdp', first.port);
      await answering;
      await waitFor(() => first.count() > 0);
      const to = ok.get('To')!;
      const reinvite = request('INVITE', peer.port, 'reinvite-no-sdp', 'z9hG4bK-rns-2', to, 2);
      await peer.send(
        sipText([...reinvite, 'Supported: timer', 'Session-Expires: 1800;refresher=uac']),
        sipPort
      );
      const ok2 = (await peer.next(isOk(2))) as SipResponse;
      expect(ok2.bodyText).toMatch(/^m=audio \d+ RTP\/AVP/m);
      const ack = request('ACK', peer.port, 'reinvite-no-sdp', 'z9hG4bK-rns-ack2', to, 2);
      await peer.send(withSdp(ack, testSdp(second.port, 2)), sipPort);
      await waitFor(() => second.count() > 0);
      expect(channel.state).toBe(State.ANSWERED);
      expect(peer.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
    } finally {
      first.close();
      second.close();
      await peer.close();
    }
  });

  it('refuses a re-INVITE with 422 before its offer changes anything', async () => {
    const peer = await new UdpTestPeer().open();
    const first = await countingUdpPort();
    const moved = await countingUdpPort();
    try {
      const { ok, answering } = await delayedOfferCall(peer, 'too-small', first.port);
      await answering;
      await waitFor(() => first.count() > 0);
      const to = ok.get('To')!;
      const reinvite = request('INVITE', peer.port, 'too-small', 'z9hG4bK-ts-2', to, 2);
      const sdp = testSdp(moved.port, 2);
      await peer.send(withSdp([...reinvite, 'Supported: timer', 'Session-Expires: 10'], sdp), sipPort);
      await peer.next((m) => m instanceof SipResponse && m.status === 422);
      // Ten more frames to the first port, none to the one the refused offer named.
      const seen = first.count();
      await waitFor(() => first.count() >= seen + 10);
      expect(moved.count()).toBe(0);
    } finally {
      first.close();
      moved.close();
      await peer.close();
    }
  });
});
