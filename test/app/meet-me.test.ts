/**
 * The example meet-me application of `npm start`, over real SIP and RTP: the Request-URI names the
 * room, callers are greeted and announced, '#' retrieves a caller who then hears goodbye and is
 * hung up, anything else gets a SIP error. And `npm start`'s entry itself: it prints how to call
 * it and stops cleanly on Ctrl-C.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../engine/index.js';
import { meetMeInviteFilter, serveMeetMe, roomOfRequestUri } from '../../engine/app/meet-me.js';
import { TonePhone } from '../support/tone-phone.js';
import { loudestDbfs } from '../support/tone-analysis.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const phones: TonePhone[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp', 'tcp'] },
    rtp: { minPort: 35000, maxPort: 35999 },
    inviteFilter: meetMeInviteFilter
  });
  serveMeetMe(engine);
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await Promise.all(phones.map((p) => p.close()));
  await engine?.stop();
});

async function phone(user: string): Promise<TonePhone> {
  const p = await TonePhone.create({ toneHz: null, user, displayName: user });
  phones.push(p);
  return p;
}

describe('meet-me application', () => {
  it('reads the room from the Request-URI user part, alphanumeric only', () => {
    expect(roomOfRequestUri('sip:room42@127.0.0.1:5060')).toBe('room42');
    expect(roomOfRequestUri('sip:bad-name@127.0.0.1')).toBeUndefined();
    expect(roomOfRequestUri('sip:127.0.0.1')).toBeUndefined();
    expect(roomOfRequestUri('tel:+123')).toBeUndefined();
  });

  it('answers 404 to a Request-URI that names no valid room, before any channel exists', async () => {
    const p = await phone('nobody');
    await expect(p.call(`sip:bad-name@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 404 });
    expect(engine.activeChannels()).toHaveLength(0);
  });

  // Prompts are synthesised on the host's CPU: a loaded host needs minutes, not seconds.
  it(
    'greets, announces entries to the room, and on # says goodbye and hangs up',
    { timeout: 300_000 },
    async () => {
      const alice = await phone('alice');
      await alice.call(`sip:lobby1@127.0.0.1:${port}`);
      // Prompts are synthesised and played at the host's pace: each step waits for what it must
      // see or hear (generous timeouts), never a fixed time.
      await waitFor(() => engine.rooms.has('lobby1'), 60_000); // greeting, then alone in the room
      alice.clearReceived();
      const bob = await phone('bob');
      await bob.call(`sip:lobby1@127.0.0.1:${port}`);
      await waitFor(() => loudestDbfs(bob.receivedPcm(), 8000) > -40, 60_000); // "Welcome to conference lobby1"
      await waitFor(() => engine.rooms.get('lobby1')?.size === 2, 60_000);
      await waitFor(() => loudestDbfs(alice.receivedPcm(), 8000) > -40, 60_000); // beep, "bob" "has joined"

      bob.clearReceived();
      await bob.infoDigit('#');
      await waitFor(() => bob.ended, 60_000); // "goodbye", then the engine hangs up
      expect(loudestDbfs(bob.receivedPcm(), 8000)).toBeGreaterThan(-40);
      await alice.hangUp();
      await waitFor(() => engine.rooms.size === 0 && engine.activeChannels().length === 0, 60_000);
    }
  );
});

describe('npm start entry (engine/main.ts)', () => {
  it('prints how to call it with SIPp and baresip and stops cleanly on SIGINT', async () => {
    const main = fileURLToPath(new URL('../../engine/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: { ...process.env, UASMEDIA_SIP_PORT: '0', UASMEDIA_WS_PORT: '0', UASMEDIA_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('Ctrl-C stops.'), 20000);
      expect(out).toMatch(/sipp -sn uac_pcap -s demo 127\.0\.0\.1:\d+/);
      expect(out).toMatch(/baresip/);
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
      expect(out).toContain('stopped.');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
