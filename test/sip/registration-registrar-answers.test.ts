/**
 * How a REGISTER client reads its registrar (a raw UDP peer on loopback).
 *
 * The grant is the expires parameter of our own Contact in the 2xx, found by RFC 3261 §19.1.4's URI
 * comparison (§10.2.4): a registrar that writes our Contact back with a parameter of its own
 * (`;ob`) granting 2 s had that grant missed and ours (600 s) taken, so the binding lapsed for
 * most of each refresh interval. A Contact that differs in transport is another binding.
 *
 * An outbound proxy that challenges (407) before the registrar does (401): each retry carries
 * every answer so far (§22.3). Before, the 401 after the 407 failed the REGISTER, and the next
 * attempt began again with the 407: the engine never registered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import type { RegistrationOptions } from '../../sip/registration/registration.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { responseTo } from '../support/sip-messages.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const UA_HOST = '127.0.11.1';
const REGISTRAR_HOST = '127.0.11.4';

async function setup(options: Partial<RegistrationOptions> = {}) {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: UA_HOST, port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const registrar = await new UdpTestPeer().open(REGISTRAR_HOST);
  cleanups.push(() => registrar.close());
  const registration = ua.register({
    registrar: `sip:${REGISTRAR_HOST}:${registrar.port}`,
    aor: 'sip:engine@example.org',
    expiresSeconds: 600,
    ...options
  });
  const uaPort = ua.addresses()[0].port;
  const reply = (register: SipRequest, status: number, headers: Record<string, string>): Promise<void> => {
    const response = responseTo(register, status, 'reg');
    for (const [name, value] of Object.entries(headers)) response.add(name, value);
    return registrar.send(response.toBuffer(), uaPort, UA_HOST);
  };
  return { registrar, registration, reply };
}

const isRegister = (m: unknown): boolean => m instanceof SipRequest && m.method === 'REGISTER';
/** Our Contact's URI, as the REGISTER carried it. */
const contactUri = (register: SipRequest): string => /<([^>]*)>/.exec(register.get('Contact') ?? '')![1];

describe("a REGISTER's grant", () => {
  it('is read off our Contact written back with a parameter of the registrar', async () => {
    const { registrar, registration, reply } = await setup();
    const granted = new Promise<number>((resolve) =>
      registration.once('registered', (e) => resolve(e.expiresSeconds))
    );
    registration.start();
    const register = (await registrar.next(isRegister)) as SipRequest;
    await reply(register, 200, { Contact: `<${contactUri(register)};ob>;expires=2` });
    expect(await granted).toBe(2);
  });

  it("is not another binding's, whose URI names another transport", async () => {
    const { registrar, registration, reply } = await setup();
    const granted = new Promise<number>((resolve) =>
      registration.once('registered', (e) => resolve(e.expiresSeconds))
    );
    registration.start();
    const register = (await registrar.next(isRegister)) as SipRequest;
    await reply(register, 200, {
      Contact: `<${contactUri(register)};transport=tcp>;expires=2`,
      Expires: '300'
    });
    expect(await granted).toBe(300);
  });
});

describe('a REGISTER challenged by an outbound proxy and then by the registrar', () => {
  it('answers both, the last REGISTER carrying both answers', async () => {
    const { registrar, registration, reply } = await setup({ username: 'u', password: 'p' });
    const registered = new Promise<void>((resolve) => registration.once('registered', () => resolve()));
    registration.start();
    const first = (await registrar.next(isRegister)) as SipRequest;
    await reply(first, 407, { 'Proxy-Authenticate': 'Digest realm="proxy", nonce="pn", qop="auth"' });
    const second = (await registrar.next(isRegister)) as SipRequest;
    expect(second.get('Proxy-Authorization')).toMatch(/realm="proxy"/);
    await reply(second, 401, { 'WWW-Authenticate': 'Digest realm="registrar", nonce="rn", qop="auth"' });
    const third = (await registrar.next(isRegister)) as SipRequest;
    expect(third.get('Proxy-Authorization')).toMatch(/realm="proxy"/);
    expect(third.get('Authorization')).toMatch(/realm="registrar"/);
    await reply(third, 200, { Contact: `<${contactUri(third)}>;expires=600` });
    await registered;
    expect(registration.state).toBe('registered');
  });

  it('fails once a realm challenges again in one exchange (a wrong password), without a loop', async () => {
    const { registrar, registration, reply } = await setup({
      username: 'u',
      password: 'p',
      retrySeconds: 30
    });
    const failed = new Promise<number>((resolve) => registration.once('failed', (e) => resolve(e.status)));
    registration.start();
    for (let i = 0; i < 2; i++) {
      const register = (await registrar.next(isRegister)) as SipRequest;
      await reply(register, 401, {
        'WWW-Authenticate': `Digest realm="registrar", nonce="n${i}", qop="auth"`
      });
    }
    expect(await failed).toBe(401);
    expect(registrar.received.filter(isRegister)).toHaveLength(2);
  });
});

describe('a refresh of a registration that was challenged', () => {
  it('carries the last answer with the nonce counted on, and answers a stale nonce once more', async () => {
    const { registrar, registration, reply } = await setup({
      username: 'u',
      password: 'p',
      expiresSeconds: 2
    });
    const registered = (): Promise<void> =>
      new Promise<void>((resolve) => registration.once('registered', () => resolve()));
    const first = registered();
    registration.start();
    const challenged = (await registrar.next(isRegister)) as SipRequest;
    expect(challenged.get('Authorization')).toBeUndefined();
    await reply(challenged, 401, { 'WWW-Authenticate': 'Digest realm="registrar", nonce="n1", qop="auth"' });
    const answered = (await registrar.next(isRegister)) as SipRequest;
    expect(answered.get('Authorization')).toMatch(/nonce="n1".*nc=00000001/);
    await reply(answered, 200, { Contact: `<${contactUri(answered)}>;expires=2` });
    await first;
    const refreshed = registered();
    // The refresh, a second later, answers before it is asked: the same nonce, its next count.
    const refresh = (await registrar.next(isRegister)) as SipRequest;
    expect(refresh.get('Authorization')).toMatch(/nonce="n1".*nc=00000002/);
    await reply(refresh, 401, {
      'WWW-Authenticate': 'Digest realm="registrar", nonce="n2", qop="auth", stale=true'
    });
    const renewed = (await registrar.next(isRegister)) as SipRequest;
    expect(renewed.get('Authorization')).toMatch(/nonce="n2".*nc=00000001/);
    await reply(renewed, 200, { Contact: `<${contactUri(renewed)}>;expires=600` });
    await refreshed;
    expect(registration.registrations).toBe(2);
  });
});
