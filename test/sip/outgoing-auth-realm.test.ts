/**
 * Credentials pinned to a realm (`auth.realm`): a callee that challenges our INVITE with another
 * realm (a provider's, to relay our answer to it) gets no Authorization; the call fails with its
 * 401. Without the pin the answer goes out, as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest, type AnySipMessage } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';
import { responseTo } from '../support/sip-messages.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function challenge(invite: SipRequest, realm: string): Buffer {
  const response = responseTo(invite, 401, 'callee');
  response.add('WWW-Authenticate', `Digest realm="${realm}", nonce="provider-nonce", qop="auth"`);
  return response.toBuffer();
}

const isInvite = (m: AnySipMessage): boolean => m instanceof SipRequest && m.method === 'INVITE';

async function call(realm: string | undefined): Promise<{ invites: SipRequest[]; outcome: unknown }> {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const callee = await new UdpTestPeer().open();
  cleanups.push(() => callee.close());
  const uaPort = ua.addresses()[0].port;
  const placed = ua.invite(`sip:bob@127.0.0.1:${callee.port}`, {
    body: testSdp(5000),
    auth: { username: 'trunkuser', password: 'secret', realm }
  });
  const outcome = placed.established.then(
    () => 'answered',
    (error: { status?: number }) => error.status
  );
  const first = (await callee.next(isInvite)) as SipRequest;
  await callee.send(challenge(first, 'provider.example'), uaPort);
  await sleep(300);
  return {
    invites: callee.received.filter(isInvite) as SipRequest[],
    outcome: await Promise.race([outcome, sleep(1000)])
  };
}

describe('an outgoing INVITE challenged by another realm', () => {
  it('sends no credentials when they are pinned to our realm, and fails with the 401', async () => {
    const { invites, outcome } = await call('ours.example');
    expect(invites.filter((i) => i.get('Authorization') !== undefined)).toEqual([]);
    expect(outcome).toBe(401);
  });

  it('answers as before when they are not pinned', async () => {
    const { invites } = await call(undefined);
    const answered = invites.filter((i) => i.get('Authorization') !== undefined);
    expect(answered.length).toBeGreaterThan(0);
    expect(answered[0].get('Authorization')).toMatch(/realm="provider.example"/);
  });
});
