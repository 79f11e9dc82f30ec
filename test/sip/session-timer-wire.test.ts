/**
 * Session timers (RFC 4028) as a caller sends them, over a real UDP socket: `Require: timer` is
 * taken, and a Session-Expires past what Node's timers hold does not end the call at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function invite(uaPort: number, peerPort: number, callId: string, extra: string[]): string {
  return sipText(
    [
      `INVITE sip:room1@127.0.0.1:${uaPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bK-${callId};rport`,
      'Max-Forwards: 70',
      'From: <sip:alice@127.0.0.1>;tag=caller',
      'To: <sip:room1@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${peerPort}>`,
      ...extra,
      'Content-Type: application/sdp'
    ],
    testSdp(4000)
  );
}

describe('session timers on the wire', () => {
  it('answers an INVITE that requires timers; a Session-Expires of 3 000 000 s is lowered to ours and does not end the call', async () => {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    await ua.start();
    cleanups.push(() => ua.close());
    const uaPort = ua.addresses()[0].port;
    const ended: string[] = [];
    ua.on('invite', (session: IncomingInvite) => {
      session.on('terminated', (e: { reason: string }) => ended.push(e.reason));
      void session.accept(testSdp(5000)).catch(() => undefined);
    });
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    const extra = ['Supported: timer', 'Require: timer', 'Session-Expires: 3000000;refresher=uac'];
    await peer.send(invite(uaPort, peer.port, 'long-timer', extra), uaPort);
    const ok = (await peer.next(
      (m) => m instanceof SipResponse && m.callId === 'long-timer' && m.status >= 200
    )) as SipResponse;
    expect(ok.status).toBe(200);
    // Granted as asked, a peer held its call for good without refreshing (RFC 4028 §9 lets the
    // UAS lower it); and Node runs a timer past 2^31-1 ms at once: it was hung up a millisecond later.
    expect(ok.get('Session-Expires')).toBe('1800;refresher=uac');
    await sleep(200);
    expect(peer.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
    expect(ended).toEqual([]);
  });
});
