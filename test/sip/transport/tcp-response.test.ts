/**
 * Responses over TCP (RFC 3261 §18.2.2): back over the connection the request came on, and when
 * that connection has closed (a proxy's idle connection ran out while the call rang), over a new
 * connection to the Via's received address and sent-by port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse, type AnySipMessage } from '../../../sip/message/message.js';
import type { IncomingInvite } from '../../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { testSdp } from '../../support/sip-sdp.js';
import { TcpListeningTestPeer, TcpTestPeer, sipText } from '../../support/sip-udp-peer.js';
import { waitFor } from '../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function inviteText(uaPort: number, sentByPort: number, callId: string): string {
  return sipText(
    [
      `INVITE sip:room1@127.0.0.1:${uaPort};transport=tcp SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.1:${sentByPort};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:alice@127.0.0.1>;tag=caller',
      'To: <sip:room1@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${sentByPort};transport=tcp>`,
      'Content-Type: application/sdp'
    ],
    testSdp(4000)
  );
}

function ackText(uaPort: number, sentByPort: number, callId: string, toTag: string): string {
  return sipText([
    `ACK sip:uasmedia@127.0.0.1:${uaPort};transport=tcp SIP/2.0`,
    `Via: SIP/2.0/TCP 127.0.0.1:${sentByPort};branch=z9hG4bK-${callId}-ack`,
    'Max-Forwards: 70',
    'From: <sip:alice@127.0.0.1>;tag=caller',
    `To: <sip:room1@127.0.0.1>;tag=${toTag}`,
    `Call-ID: ${callId}`,
    'CSeq: 1 ACK'
  ]);
}

const isResponse = (callId: string, status: number) => (m: AnySipMessage) =>
  m instanceof SipResponse && m.callId === callId && m.status === status;

describe('responses over TCP (§18.2.2)', () => {
  it('sends the 200 over a new connection to received and the sent-by port when the INVITE connection has closed', async () => {
    const ua = new SipUserAgent({
      transports: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
      timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
    });
    await ua.start();
    cleanups.push(() => ua.close());
    const uaPort = ua.addresses()[0].port;
    const listener = await new TcpListeningTestPeer().listen();
    cleanups.push(() => listener.close());
    const incoming = new Promise<IncomingInvite>((resolve) =>
      ua.once('invite', (session) => {
        session.progress(180);
        resolve(session);
      })
    );

    const ephemeral = await new TcpTestPeer().connect(uaPort);
    cleanups.push(() => ephemeral.close());
    await ephemeral.send(inviteText(uaPort, listener.port, 'tcp-gone'));
    const session = await incoming;
    await ephemeral.next(isResponse('tcp-gone', 180));
    ephemeral.close();
    await ephemeral.closed;
    await waitFor(() => ua.connectionGuard.openByTransport.tcp === 0);

    const acked = session.accept(testSdp(5000));
    const ok = (await listener.next(isResponse('tcp-gone', 200))) as SipResponse;
    expect(ok.toTag).toBe(session.localTag);
    expect(listener.connectionCount).toBe(1);
    // The caller ACKs over the connection the 200 came on, and the call is up.
    await listener.send(ackText(uaPort, listener.port, 'tcp-gone', ok.toTag ?? ''));
    await acked;
    expect(session.terminated).toBe(false);
  });
});
