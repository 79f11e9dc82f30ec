/**
 * A registrar that answers 503 with Retry-After (overloaded, or in maintenance) is not asked
 * again before then (RFC 3261 §21.5.4, §20.33). Before, the REGISTER came back after the
 * backoff's 5 s whatever it said: measured against SIPp, Retry-After: 12 and the next REGISTER
 * 5.0 s later.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipRequest } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { responseTo } from '../support/sip-messages.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';

const HOST = '127.0.29.140';
const REGISTRAR = '127.0.29.141';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The retry a registration schedules after its registrar's `retryAfter` answer to the first REGISTER. */
async function retryAfter503(retryAfter: string): Promise<number> {
  const ua = new SipUserAgent({
    transports: [{ protocol: 'udp', host: HOST, port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const registrar = await new UdpTestPeer().open(REGISTRAR);
  cleanups.push(() => registrar.close());
  const registration = ua.register({
    registrar: `sip:${REGISTRAR}:${registrar.port}`,
    aor: 'sip:engine@carrier.example',
    retrySeconds: 5
  });
  const failed = new Promise<number>((resolve) =>
    registration.once('failed', (e) => resolve(e.retryInSeconds))
  );
  const register = (await registrar.next(
    (m) => m instanceof SipRequest && m.method === 'REGISTER'
  )) as SipRequest;
  const response = responseTo(register, 503, 'reg');
  response.add('Retry-After', retryAfter);
  await registrar.send(response.toBuffer(), ua.addresses()[0].port, HOST);
  return failed;
}

describe('a registrar answering 503 with Retry-After', () => {
  it('is asked again no sooner than it said', async () => {
    expect(await retryAfter503('12 (maintenance);duration=60')).toBe(12);
  });

  it('keeps the backoff when Retry-After is shorter, and an hour at most when it is huge', async () => {
    expect(await retryAfter503('1')).toBe(5);
    expect(await retryAfter503('4294967295')).toBe(3600);
  });
});
