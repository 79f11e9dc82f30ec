/**
 * `npm start` warns about a UASMEDIA_* variable nothing reads, with the name it probably meant.
 * Before, a misspelled one was ignored in silence: UASMEDIA_SIP_ALOW left the door open and
 * UASMEDIA_SIP_PROT bound port 5060.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, unknownVariableWarnings } from '../../engine/app/env-names.js';
import { waitFor } from '../support/wait.js';

const source = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('unknownVariableWarnings', () => {
  it('knows every variable npm start and npm run cluster read', () => {
    const app = readdirSync(new URL('../../engine/app/', import.meta.url)).filter(
      (file) => file.endsWith('.ts') && file !== 'env-names.ts'
    );
    const files = [
      'engine/main.ts',
      'engine/cluster/start-cluster.ts',
      ...app.map((file) => `engine/app/${file}`)
    ];
    const read = new Set(files.flatMap((file) => source(file).match(/UASMEDIA_[A-Z0-9_]+/g) ?? []));
    for (const name of read) expect(ENVIRONMENT_NAMES).toContain(name);
    expect(unknownVariableWarnings(Object.fromEntries(ENVIRONMENT_NAMES.map((n) => [n, 'x'])))).toEqual([]);
  });

  it('warns about any other, naming the one it probably meant', () => {
    expect(
      unknownVariableWarnings({ UASMEDIA_SIP_ALOW: '10.0.0.0/8', UASMEDIA_FOO: '1', HOME: '/root' })
    ).toEqual([
      'WARNING: UASMEDIA_SIP_ALOW is not a variable uasmedia reads (did you mean UASMEDIA_SIP_ALLOW?); it is ignored.',
      'WARNING: UASMEDIA_FOO is not a variable uasmedia reads; it is ignored.'
    ]);
  });
});

describe('npm start with a misspelled variable', () => {
  it('starts, and warns naming the variable meant', async () => {
    const main = fileURLToPath(new URL('../../engine/main.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', main], {
      env: {
        ...process.env,
        UASMEDIA_SIP_HOST: '127.0.21.50',
        UASMEDIA_SIP_PORT: '0',
        UASMEDIA_WS_PORT: '0',
        UASMEDIA_LOG_LEVEL: 'warn',
        UASMEDIA_SIP_PROT: '5070'
      },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(() => output.includes('Ctrl-C stops.') || child.exitCode !== null, 120_000);
      expect(output).toContain(
        'WARNING: UASMEDIA_SIP_PROT is not a variable uasmedia reads (did you mean UASMEDIA_SIP_PORT?)'
      );
      child.kill('SIGINT');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
