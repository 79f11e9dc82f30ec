/**
 * RFC 3261 §11.2: an OPTIONS is answered as an INVITE would be. A proxy in front (Kamailio's
 * dispatcher) probes the engine with OPTIONS and sends no calls to one that answers 503: so a
 * full or stopping engine answers 503 (with Retry-After when it knows when), a source over its
 * own ceiling still gets 200 (the engine takes other callers' calls), and a free engine 200.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Engine, UASCallChannel } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { optionsAnswer as ping } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitForAsync } from '../support/wait.js';

const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

describe('OPTIONS answered as an INVITE would be', () => {
  let engine: Engine;
  let port: number;
  let calls: UASCallChannel[];
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    ({
      engine,
      sipPort: port,
      incoming: calls
    } = await startAnsweringEngine(
      { minPort: rtpBase, maxPort: rtpBase + 49 },
      { callLimits: { maxCalls: 2, maxCallsPerSource: 1, retryAfterSeconds: 7 }, stopByeWaitMs: 3000 }
    ));
  });

  afterAll(async () => {
    await Promise.all(phones.map((p) => p.close()));
    await engine?.stop();
  });

  async function phone(host: string): Promise<TonePhone> {
    const p = await TonePhone.create({ toneHz: 440, host });
    phones.push(p);
    return p;
  }

  it('gets 200 while the engine takes calls, 503 with Retry-After once it is full, and 200 again after a hang-up', async () => {
    const free = await ping(port);
    expect(free.status).toBe(200);
    expect(free.get('Allow')).toContain('INVITE');

    const first = await phone('127.0.0.2');
    await first.call(`sip:a@127.0.0.1:${port}`);
    // 127.0.0.2 holds its one call: its INVITE would get 486, but the engine takes others' calls.
    expect((await ping(port, '127.0.0.2')).status).toBe(200);
    expect((await ping(port, '127.0.0.3')).status).toBe(200);

    const second = await phone('127.0.0.3');
    await second.call(`sip:b@127.0.0.1:${port}`);
    const full = await ping(port, '127.0.0.4');
    expect(full.status).toBe(503);
    expect(full.get('Retry-After')).toBe('7');
    expect(full.get('Allow')).toBeUndefined();
    // The INVITE it stands for gets the same answer.
    const refused = await phone('127.0.0.4');
    await expect(refused.call(`sip:c@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 503 });
    expect(calls).toHaveLength(2);

    await second.hangUp();
    // The call's place in the ceiling is freed when its dialog ends, just after the BYE's answer.
    await waitForAsync(async () => (await ping(port, '127.0.0.4')).status === 200, 10_000);
    expect(calls).toHaveLength(2);
    await first.hangUp();
  });

  it('gets 503 once the engine is stopping, while it waits for its BYEs to be answered', async () => {
    const caller = await phone('127.0.0.5');
    await caller.call(`sip:d@127.0.0.1:${port}`);
    // One call of two is up (the last test's are ending): the engine takes calls.
    await waitForAsync(async () => (await ping(port)).status === 200, 10_000);
    // A caller that is gone keeps the engine waiting for its BYE's answer (stopByeWaitMs).
    await caller.vanish();
    const stopped = engine.stop();
    const stopping = await ping(port);
    expect(stopping.status).toBe(503);
    expect(stopping.get('Retry-After')).toBeUndefined();
    await stopped;
  });
});
