/** Runs one of the repository's bench scripts (`bench/...`) in a child process, as `npm run` would. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The script's exit code and everything it printed, stdout and stderr together. */
export async function runBenchScript(
  script: string,
  args: string[]
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repositoryRoot, script), ...args], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, out };
}
