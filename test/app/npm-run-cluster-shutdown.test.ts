/**
 * `npm run cluster` under a service manager: SIGTERM to the top process (npm) stops the whole
 * cluster (the engines, Kamailio, redis-server) and npm exits. Its script ran through a shell
 * that did not pass the signal on, so npm exited and the cluster ran on as orphans, holding the
 * SIP port. An engine killed on its own is started again; before, the script stopped the whole
 * cluster, hanging up every call of the engines still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hasPeer } from '../support/peers.js';
import { waitFor } from '../support/wait.js';
import { alive, descendants } from '../support/process-tree.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const havePeers = hasPeer('redis-server') && hasPeer('kamailio');
let tree: number[] = [];

afterEach(() => {
  for (const pid of tree) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  tree = [];
});

/** Starts `npm run cluster` with one engine on `host`; resolves once it says it is up. */
async function cluster(
  host: string
): Promise<{ proc: ChildProcess; output: () => string; exited: Promise<number | null> }> {
  // A loopback address of its own: the front's 5060 and the engines' ports are free there.
  const proc = spawn('npm', ['run', 'cluster', '--ignore-scripts'], {
    cwd: repo,
    env: {
      ...process.env,
      UASMEDIA_SIP_HOST: host,
      UASMEDIA_ENGINES: '1',
      UASMEDIA_WS_PORT: '0',
      UASMEDIA_LOG_LEVEL: 'warn'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let text = '';
  proc.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  proc.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await waitFor(() => text.includes('Ctrl-C stops.') || proc.exitCode !== null, 150_000);
  return { proc, output: () => text, exited };
}

/** The cluster's engine processes (node running engine/main.ts) under `pid`. */
function enginePids(pid: number): number[] {
  return descendants(pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('engine/main.ts');
    } catch {
      return false;
    }
  });
}

describe.skipIf(!havePeers)('npm run cluster and SIGTERM', () => {
  it('SIGTERM to npm stops every process of the cluster', async () => {
    const { proc, output, exited } = await cluster('127.0.0.23');
    tree = [...descendants(proc.pid as number), proc.pid as number];
    // npm, the cluster script, redis-server, Kamailio's processes and the engine.
    expect(tree.length, output()).toBeGreaterThanOrEqual(5);
    // Callers are told to dial the front, not an engine's own port as if it were `npm start`.
    expect(output()).toContain("Callers dial the cluster's front");
    expect(output()).not.toContain('meet-me conference server on');
    proc.kill('SIGTERM');
    await exited;
    await waitFor(() => tree.every((pid) => !alive(pid)), 30_000);
  }, 240_000);

  it('starts an engine that was killed again, and SIGTERM still stops everything', async () => {
    const { proc, output, exited } = await cluster('127.0.0.24');
    const [engine] = enginePids(proc.pid as number);
    expect(engine, output()).toBeDefined();
    process.kill(engine, 'SIGKILL');
    await waitFor(() => enginePids(proc.pid as number).some((pid) => pid !== engine), 60_000);
    expect(output()).toContain('engine 1 exited (SIGKILL); starting it again');
    expect(proc.exitCode).toBeNull();
    tree = [...descendants(proc.pid as number), proc.pid as number];
    proc.kill('SIGTERM');
    await exited;
    await waitFor(() => tree.every((pid) => !alive(pid)), 30_000);
  }, 240_000);
});
