/**
 * A REGISTER client against a registrar that answers oddly (a raw UDP peer on loopback): a 2xx
 * granting 0 s is a failure with backoff, not a binding refreshed every second; stop() during
 * the first REGISTER unregisters once that REGISTER binds; and stop() settles even when the
 * registrar never answers the unregister.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import type { RegistrationOptions } from '../../sip/registration/registration.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { sleep } from '../support/wait.js';
import { responseTo } from '../support/sip-messages.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A user agent and a raw registrar on loopback, and a registration to it (not started). */
async function setup(options: Partial<RegistrationOptions> = {}) {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const registrar = await new UdpTestPeer().open();
  cleanups.push(() => registrar.close());
  const registration = ua.register({
    registrar: `sip:127.0.0.1:${registrar.port}`,
    aor: 'sip:engine@127.0.0.1',
    ...options
  });
  return { ua, registrar, registration, uaPort: ua.addresses()[0].port };
}

/** The registrar's 200 to `register`, granting `expires` on its Contact. */
function ok(register: SipRequest, expires: number): Buffer {
  const response = responseTo(register, 200, 'reg');
  response.add('Contact', `${register.get('Contact')};expires=${expires}`);
  return response.toBuffer();
}

const isRegister = (m: unknown): boolean => m instanceof SipRequest && m.method === 'REGISTER';

describe('REGISTER against an odd registrar', () => {
  it('takes a 2xx granting 0 s as a failure with backoff', async () => {
    const { registrar, registration, uaPort } = await setup({ retrySeconds: 30 });
    const failed: number[] = [];
    registration.on('failed', (e) => failed.push(e.retryInSeconds));
    registration.start();
    const first = (await registrar.next(isRegister)) as SipRequest;
    await registrar.send(ok(first, 0), uaPort);
    await sleep(1500);
    // It re-registered every second, reporting itself registered with 0 s.
    expect(registrar.received.filter(isRegister)).toHaveLength(1);
    expect(failed).toEqual([30]);
    expect(registration.state).toBe('failed');
    await registration.stop();
  });

  it('unregisters on stop() when the REGISTER under way then binds', async () => {
    const { registrar, registration, uaPort } = await setup();
    registration.start();
    const first = (await registrar.next(isRegister)) as SipRequest;
    const stopping = registration.stop();
    await registrar.send(ok(first, 600), uaPort);
    const unregister = (await registrar.next((m) => isRegister(m) && m !== first)) as SipRequest;
    expect(unregister.get('Expires')).toBe('0');
    await registrar.send(ok(unregister, 0), uaPort);
    await stopping;
    expect(registration.state).toBe('stopped');
  });

  it('settles stop() when the registrar never answers the unregister and the agent closes', async () => {
    const { ua, registrar, registration, uaPort } = await setup();
    registration.start();
    await registrar.send(ok((await registrar.next(isRegister)) as SipRequest, 600), uaPort);
    await sleep(100);
    let settled = false;
    const stopping = registration.stop().then(() => (settled = true));
    await registrar.next((m) => isRegister(m) && (m as SipRequest).get('Expires') === '0');
    await ua.close(); // no answer ever comes
    await stopping;
    expect(settled).toBe(true);
    expect(registration.state).toBe('stopped');
  });
});
