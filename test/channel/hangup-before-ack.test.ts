/**
 * Hanging up between our 200 OK and the caller's ACK, over a real UDP socket: RFC 3261 §15 has
 * the BYE wait for the ACK; before, the call was left up with the caller connected to silence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';
import { responseTo } from '../support/sip-messages.js';

let engine: Engine;
let sipPort: number;
const calls: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 39800, maxPort: 39899 },
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
  branch: string,
  to: string,
  cseq: number,
  callId = 'hangup-before-ack@127.0.0.1'
): string[] {
  const target = `sip:room@127.0.0.1:${sipPort}`;
  return [
    `${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=${branch}`,
    'Max-Forwards: 70',
    'From: <sip:raw@127.0.0.1>;tag=caller',
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:raw@127.0.0.1:${peerPort}>`
  ];
}

describe('hanging up before the ACK', () => {
  it('sends its BYE once the ACK of its 200 has come, and the call ends', async () => {
    const peer = await new UdpTestPeer().open();
    try {
      const invite = request('INVITE', peer.port, 'z9hG4bK-hba-1', `<sip:room@127.0.0.1:${sipPort}>`, 1);
      const base = calls.length;
      await peer.send(sipText([...invite, 'Content-Type: application/sdp'], testSdp(4000)), sipPort);
      await waitFor(() => calls.length === base + 1);
      const channel = calls[base];
      const answering = channel.answer().catch(() => undefined);
      const ok = (await peer.next((m) => m instanceof SipResponse && m.status === 200)) as SipResponse;
      // The application hangs up before the caller's ACK is in.
      const hangingUp = channel.hangUp();
      expect(peer.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
      await peer.send(sipText(request('ACK', peer.port, 'z9hG4bK-hba-ack', ok.get('To')!, 1)), sipPort);
      const bye = (await peer.next((m) => m instanceof SipRequest && m.method === 'BYE')) as SipRequest;
      await peer.send(responseTo(bye, 200).toBuffer(), sipPort);
      await hangingUp;
      await answering;
      expect(channel.state).toBe(State.IDLE);
    } finally {
      await peer.close();
    }
  });

  it('tells no digit the caller sends while its BYE waits for the ACK: the call is over for the application', async () => {
    const INFO_CALL = 'hangup-before-ack-info@127.0.0.1';
    // The dialog lives on until the ACK lets the BYE go (up to 64·T1), and a SIP INFO digit sent
    // in it was a 'dtmf' event of the IDLE channel.
    const peer = await new UdpTestPeer().open();
    try {
      const invite = request(
        'INVITE',
        peer.port,
        'z9hG4bK-hba-2',
        `<sip:room@127.0.0.1:${sipPort}>`,
        1,
        INFO_CALL
      );
      const base = calls.length;
      await peer.send(sipText([...invite, 'Content-Type: application/sdp'], testSdp(4002)), sipPort);
      await waitFor(() => calls.length === base + 1);
      const channel = calls[base];
      const digits: string[] = [];
      channel.on('dtmf', ({ digit }) => digits.push(`${digit} while ${channel.state}`));
      const answering = channel.answer().catch(() => undefined);
      const ok = (await peer.next((m) => m instanceof SipResponse && m.status === 200)) as SipResponse;
      const hangingUp = channel.hangUp();
      const info = request('INFO', peer.port, 'z9hG4bK-hba-info', ok.get('To')!, 2, INFO_CALL);
      const body = 'Signal=5\r\nDuration=100\r\n';
      await peer.send(sipText([...info, 'Content-Type: application/dtmf-relay'], body), sipPort);
      await peer.next((m) => m instanceof SipResponse && m.cseq.method === 'INFO');
      expect(digits).toEqual([]);
      await peer.send(
        sipText(request('ACK', peer.port, 'z9hG4bK-hba-ack2', ok.get('To')!, 1, INFO_CALL)),
        sipPort
      );
      const bye = (await peer.next((m) => m instanceof SipRequest && m.method === 'BYE')) as SipRequest;
      await peer.send(responseTo(bye, 200).toBuffer(), sipPort);
      await hangingUp;
      await answering;
    } finally {
      await peer.close();
    }
  });
});
