/**
 * Registration as a UAC against a real Kamailio registrar (registrar + usrloc + auth with a
 * plaintext password): the engine registers with digest credentials, refreshes before its
 * short expiry runs out, receives an INVITE that Kamailio routes to it by lookup("location"),
 * and on stop removes its binding, after which Kamailio answers 404 for the same user. A wrong
 * password fails and is retried with backoff.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Engine, State, type RegistrationEvent, type UASCallChannel } from '../../engine/index.js';
import { hasPeer } from '../support/peers.js';
import { Kamailio } from '../support/kamailio.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const haveKamailio = hasPeer('kamailio');
const cfg = fileURLToPath(new URL('../fixtures/kamailio/registrar.cfg', import.meta.url));
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

describe.skipIf(!haveKamailio)('registration to Kamailio', () => {
  let kamailio: Kamailio;
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    kamailio = await new Kamailio().start(cfg);
  });

  afterAll(async () => {
    await Promise.all(phones.map((p) => p.close()));
    await kamailio?.stop();
  });

  it('registers with digest, refreshes, takes a call routed by lookup("location"), and unregisters on stop', async () => {
    const events: RegistrationEvent[] = [];
    const calls: UASCallChannel[] = [];
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 49 },
      registrations: [
        {
          registrar: `sip:127.0.0.1:${kamailio.port}`,
          aor: 'sip:engine@127.0.0.1',
          username: 'engine',
          password: 'wonderland',
          expiresSeconds: 4
        }
      ]
    });
    engine.on('registration', (event) => events.push(event));
    engine.on('call', (channel) => {
      calls.push(channel);
      void channel.answer().catch(() => undefined);
    });
    await engine.start();
    try {
      await waitFor(() => events.some((e) => e.state === 'registered'), 10000);
      expect(events[0]).toEqual({ aor: 'sip:engine@127.0.0.1', state: 'registered', expiresSeconds: 4 });
      // Refreshed at half the grant: a second and third successful REGISTER on the same binding.
      await waitFor(() => engine.registrationStatus()[0].registrations >= 3, 15000);
      expect(events.filter((e) => e.state === 'failed')).toEqual([]);
      expect(kamailio.log).toMatch(/REGISTER sip:engine@127\.0\.0\.1 from 127\.0\.0\.1/);

      const caller = await TonePhone.create({ toneHz: 440, user: 'caller' });
      phones.push(caller);
      await caller.call(`sip:engine@127.0.0.1:${kamailio.port}`);
      await waitFor(() => calls[0]?.state === State.ANSWERED, 5000);
      expect(calls[0].requestUri).toMatch(/^sip:engine@127\.0\.0\.1:\d+/);
      expect(kamailio.log).toMatch(/relaying INVITE to sip:engine@127\.0\.0\.1:\d+/);
      await caller.hangUp();
      await waitFor(() => calls[0].state === State.IDLE, 5000);
    } finally {
      await engine.stop();
    }
    expect(events[events.length - 1]).toEqual({ aor: 'sip:engine@127.0.0.1', state: 'unregistered' });
    // The binding is gone: Kamailio has nobody to route to.
    const late = await TonePhone.create({ toneHz: null, user: 'late' });
    phones.push(late);
    await expect(late.call(`sip:engine@127.0.0.1:${kamailio.port}`)).rejects.toMatchObject({ status: 404 });
  }, 60_000);

  it('reports a wrong password as a failure and retries with growing backoff', async () => {
    const events: RegistrationEvent[] = [];
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase + 50, maxPort: rtpBase + 99 },
      registrations: [
        {
          registrar: `sip:127.0.0.1:${kamailio.port}`,
          aor: 'sip:engine@127.0.0.1',
          username: 'engine',
          password: 'guess',
          retrySeconds: 1,
          maxRetrySeconds: 8
        }
      ]
    });
    engine.on('registration', (event) => events.push(event));
    await engine.start();
    try {
      await waitFor(() => events.filter((e) => e.state === 'failed').length >= 2, 15000);
      const failures = events.filter((e) => e.state === 'failed');
      expect(failures[0]).toMatchObject({ status: 401, retryInSeconds: 1 });
      expect(failures[1]).toMatchObject({ status: 401, retryInSeconds: 2 });
      expect(engine.registrationStatus()[0]).toMatchObject({ state: 'failed', registrations: 0 });
    } finally {
      await engine.stop();
    }
    expect(events.some((e) => e.state === 'registered' || e.state === 'unregistered')).toBe(false);
  }, 30_000);
});
