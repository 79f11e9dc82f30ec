/**
 * An application's INVITE filter that throws (here on a Request-URI it cannot decode) is answered
 * 500 and gives back the admission slot the INVITE took: the slots leaked before, and once
 * `maxCalls` of them had, every later call was refused 503 with no call up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { InviteAdmission } from '../../sip/admission/invite-admission.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const agents: SipUserAgent[] = [];
const peers: UdpTestPeer[] = [];

afterEach(async () => {
  await Promise.all(agents.splice(0).map((ua) => ua.close()));
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

function invite(user: string, n: number, peerPort: number, uaPort: number): string {
  return sipText([
    `INVITE sip:${user}@127.0.0.1:${uaPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${peerPort};branch=z9hG4bKfilter${n}`,
    `From: <sip:caller@127.0.0.1>;tag=f${n}`,
    `To: <sip:${user}@127.0.0.1>`,
    `Call-ID: filter-throws-${n}`,
    'CSeq: 1 INVITE',
    'Max-Forwards: 70',
    `Contact: <sip:caller@127.0.0.1:${peerPort}>`
  ]);
}

describe('an INVITE filter that throws', () => {
  it('answers 500 and releases the admission slot', async () => {
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    agents.push(ua);
    ua.inviteAdmission = new InviteAdmission({ limits: { maxCalls: 2 } });
    ua.inviteFilter = (request) => {
      decodeURIComponent(request.uri); // throws URIError on '%E0'
      return undefined;
    };
    ua.on('invite', (session) => session.reject(486));
    await ua.start();
    const uaPort = ua.addresses()[0].port;
    const peer = await new UdpTestPeer().open();
    peers.push(peer);
    const finalTo = (n: number) => async (): Promise<number> => {
      const response = (await peer.next(
        (m) => m instanceof SipResponse && m.callId === `filter-throws-${n}` && m.status >= 200
      )) as SipResponse;
      return response.status;
    };

    for (const n of [1, 2, 3]) {
      await peer.send(invite('%E0', n, peer.port, uaPort), uaPort);
      expect(await finalTo(n)()).toBe(500);
    }
    // Three refused calls later, both slots are free: a valid call reaches the application.
    await peer.send(invite('room1', 4, peer.port, uaPort), uaPort);
    expect(await finalTo(4)()).toBe(486);
    expect(ua.inviteAdmission.limiter?.calls).toBe(0);
  });
});
