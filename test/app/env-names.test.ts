/**
 * `npm start` warns about a UASMEDIA_* variable nothing reads, with the name it probably meant.
 * Before, a misspelled one was ignored in silence: UASMEDIA_SIP_ALOW left the door open and
 * UASMEDIA_SIP_PROT bound port 5060.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES, unknownVariableWarnings } from '../../engine/app/env-names.js';
import { killStartedMains, startMain } from '../support/npm-start.js';
import { waitFor } from '../support/wait.js';

afterEach(killStartedMains);

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
    const main = startMain({ UASMEDIA_SIP_HOST: '127.0.21.50', UASMEDIA_SIP_PROT: '5070' });
    await waitFor(() => main.output().includes('Ctrl-C stops.') || main.child.exitCode !== null, 120_000);
    expect(main.output()).toContain(
      'WARNING: UASMEDIA_SIP_PROT is not a variable uasmedia reads (did you mean UASMEDIA_SIP_PORT?)'
    );
    expect(await main.exit(true)).toBe(0);
  }, 180_000);
});
