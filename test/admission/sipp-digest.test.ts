/**
 * Digest interop: SIPp, which knows only MD5, answers the engine's 401 (SHA-256 offered first,
 * MD5 second) and is let in; with a wrong password it is refused.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { hasPeer } from '../support/peers.js';
import { freeUdpPort, killAllSipp, runSipp } from '../support/sip-sipp.js';
import { waitFor } from '../support/wait.js';

const haveSipp = hasPeer('sipp');
const scenario = fileURLToPath(new URL('../fixtures/sipp/uac-digest.xml', import.meta.url));
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

describe.skipIf(!haveSipp)("SIPp against the engine's digest authentication", () => {
  let engine: Engine;
  let port: number;
  const calls: UASCallChannel[] = [];
  let password = 'wonderland';

  beforeAll(async () => {
    engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 99 },
      access: {
        auth: {
          realm: 'uasmedia.test',
          credentials: (_realm, username) => (username === 'alice' ? { password } : undefined)
        }
      }
    });
    engine.on('call', (channel) => {
      calls.push(channel);
      void channel.answer().catch(() => undefined);
    });
    await engine.start();
    port = engine.sipAddresses()[0].port;
  });

  afterEach(() => killAllSipp());
  afterAll(async () => {
    await engine?.stop();
  });

  it('lets SIPp in with MD5 credentials', async () => {
    const { done } = runSipp(
      [
        '-sf',
        scenario,
        '-s',
        'room7',
        '-mp',
        String(await freeUdpPort()),
        `127.0.0.1:${port}`,
        '-m',
        '1',
        '-timeout',
        '20s'
      ],
      25_000
    );
    const result = await done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    expect(calls).toHaveLength(1);
    await waitFor(() => calls[0].state === State.IDLE, 5000);
  });

  it('refuses SIPp with a wrong password (403)', async () => {
    password = 'other';
    const refusedBefore = engine.metrics.sipRefusals.auth_failed.value;
    const { done } = runSipp(
      [
        '-sf',
        scenario,
        '-s',
        'room7',
        '-mp',
        String(await freeUdpPort()),
        `127.0.0.1:${port}`,
        '-m',
        '1',
        '-timeout',
        '10s'
      ],
      15_000
    );
    const result = await done;
    expect(result.code).not.toBe(0);
    expect(result.errors + result.stdout).toMatch(/403/);
    expect(engine.metrics.sipRefusals.auth_failed.value).toBe(refusedBefore + 1);
    expect(calls).toHaveLength(1);
  });
});
