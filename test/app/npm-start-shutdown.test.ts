/**
 * `npm start` under a service manager: SIGTERM to the top process (npm) reaches the engine,
 * every caller gets BYE, npm exits 0 within a bounded time and leaves no process behind. And
 * with every peer gone, shutdown does not wait out 32 s of BYE timeouts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';
import { alive, descendants } from '../support/process-tree.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let server: ChildProcess | undefined;
const phones: TonePhone[] = [];

afterEach(async () => {
  // A failed test must not leave an engine behind: kill npm's whole tree, not only npm.
  if (server?.pid !== undefined) {
    for (const pid of [...descendants(server.pid), server.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  server = undefined;
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

/**
 * `npm start` on an ephemeral SIP port; resolves with the port from its banner. Without its
 * prestart (the wasm build `npm test` has done already): rebuilding build/uasmedia.wasm while
 * other test files load it would race them.
 */
async function npmStart(): Promise<{ proc: ChildProcess; port: number; output: () => string }> {
  const proc = spawn('npm', ['start', '--ignore-scripts'], {
    cwd: repo,
    env: { ...process.env, UASMEDIA_SIP_PORT: '0', UASMEDIA_WS_PORT: '0', UASMEDIA_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  server = proc;
  let text = '';
  proc.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await waitFor(
    () => /meet-me conference server on sip:<room>@127\.0\.0\.1:(\d+)/.test(text) || proc.exitCode !== null,
    150_000
  );
  const match = /meet-me conference server on sip:<room>@127\.0\.0\.1:(\d+)/.exec(text);
  if (!match) throw new Error(`npm start did not come up:\n${text}`);
  return { proc, port: Number(match[1]), output: () => text };
}

function exited(proc: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (proc.exitCode !== null || proc.signalCode !== null)
    return Promise.resolve({ code: proc.exitCode, signal: proc.signalCode });
  return new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('npm start and SIGTERM', () => {
  it('SIGTERM to npm with 20 calls up: every caller gets BYE, exit 0 in bounded time, no process left', async () => {
    const { proc, port, output } = await npmStart();
    for (let i = 0; i < 20; i++) {
      const phone = await TonePhone.create({ toneHz: 300 + 20 * i, displayName: `caller${i}` });
      phones.push(phone);
    }
    await Promise.all(phones.map((phone, i) => phone.call(`sip:shutdown${i % 4}@127.0.0.1:${port}`)));
    const tree = descendants(proc.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(1); // node (npm's script execs it: no shell between)
    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    const { code, signal } = await exited(proc);
    const tookMs = Date.now() - signalledAt;
    expect({ code, signal }, output()).toEqual({ code: 0, signal: null });
    expect(tookMs).toBeLessThan(20_000);
    await waitFor(() => phones.every((phone) => phone.endedByRemote), 5000);
    await waitFor(() => tree.every((pid) => !alive(pid)), 5000);
    console.log(`npm start: SIGTERM with 20 calls up → exit 0 after ${tookMs} ms, 20/20 BYE`);
  }, 240_000);

  it('with every caller vanished, shutdown ends after its BYE wait instead of 32 s of BYE timeouts', async () => {
    const { proc, port } = await npmStart();
    for (let i = 0; i < 5; i++) {
      const phone = await TonePhone.create({ toneHz: 440 });
      phones.push(phone);
      await phone.call(`sip:gone@127.0.0.1:${port}`);
    }
    for (const phone of phones) await phone.vanish();
    const tree = descendants(proc.pid as number);
    const signalledAt = Date.now();
    proc.kill('SIGTERM');
    const { code } = await exited(proc);
    const tookMs = Date.now() - signalledAt;
    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(12_000);
    await waitFor(() => tree.every((pid) => !alive(pid)), 5000);
    console.log(`npm start: SIGTERM with 5 vanished callers → exit 0 after ${tookMs} ms`);
  }, 240_000);
});
