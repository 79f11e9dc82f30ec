/**
 * RFC 4028 §8.1: a new INVITE whose Session-Expires is below our Min-SE is refused with 422 on
 * receipt, before the application hears of it. Before, the 422 went out only when the
 * application answered: it had had the call (and may have sent 180), and the caller's retry
 * with our Min-SE came as a second call.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse } from '../../sip/message/message.js';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { RawUac } from '../support/raw-uac.js';
import { testSdp } from '../support/sip-sdp.js';

const HOST = '127.0.29.120';
const CALLER = '127.0.29.121';
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a new INVITE asking for less than our Min-SE', () => {
  it('is answered 422 with our Min-SE before the application hears of it', async () => {
    const ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: HOST, port: 0 }],
      timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 },
      sessionTimer: { expiresSeconds: 1800, minSeSeconds: 90 }
    });
    await ua.start();
    cleanups.push(() => ua.close());
    const offered: IncomingInvite[] = [];
    ua.on('invite', (session: IncomingInvite) => {
      offered.push(session);
      session.progress(180);
      void session.accept(testSdp(5000)).catch(() => undefined);
    });
    const caller = await new RawUac().open(CALLER);
    cleanups.push(() => caller.close());
    caller.engineHost = HOST;

    const refused = await caller.invite(ua.addresses()[0].port, ['Supported: timer', 'Session-Expires: 60']);
    expect(refused.status).toBe(422);
    expect(refused.get('Min-SE')).toBe('90');
    expect(offered).toHaveLength(0);
    const responses = caller.received.filter((m) => m instanceof SipResponse);
    expect(responses.map((m) => (m as SipResponse).status)).not.toContain(180);
  });
});
