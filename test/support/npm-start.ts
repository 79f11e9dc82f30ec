/**
 * engine/main.ts run as `npm start` runs it, with variables added, for tests of what it makes of
 * its environment. Every process started here is killed by `killStartedMains()` (an afterEach),
 * whether its test passed, failed or timed out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../engine/main.ts', import.meta.url));
const started = new Set<ChildProcess>();

export interface StartedMain {
  child: ChildProcess;
  /** What it printed so far, stdout and stderr together. */
  output(): string;
  /** Its exit code once it has exited (after SIGINT, if `interrupt`). */
  exit(interrupt?: boolean): Promise<number | null>;
}

/** Ephemeral SIP and WebSocket ports and warn-level logs unless `env` says otherwise. */
export function startMain(env: Record<string, string>): StartedMain {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: {
      ...process.env,
      UASMEDIA_SIP_PORT: '0',
      UASMEDIA_WS_PORT: '0',
      UASMEDIA_LOG_LEVEL: 'warn',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  return {
    child,
    output: () => text,
    async exit(interrupt = false) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = once(child, 'exit') as Promise<[number | null]>;
      if (interrupt) child.kill('SIGINT');
      return (await exited)[0];
    }
  };
}

/** Runs main.ts with `env` until it exits by itself (a refused start): its exit code and output. */
export async function mainRefusing(
  env: Record<string, string>
): Promise<{ code: number | null; output: string }> {
  const main = startMain(env);
  const code = await main.exit();
  return { code, output: main.output() };
}

export function killStartedMains(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}
