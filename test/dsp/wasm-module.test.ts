/**
 * The WebAssembly core is found from wherever the engine runs: its TypeScript sources in the
 * repository, or the compiled JavaScript in dist/ of an installed package, under a path with
 * spaces in it. (test/package/packed-install.test.ts runs the installed package for real.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wasmPath } from '../../engine/dsp/wasm-module.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('wasmPath', () => {
  it('is build/uasmedia.wasm of the repository when running from sources', () => {
    expect(wasmPath()).toBe(join(ROOT, 'build', 'uasmedia.wasm'));
    expect(existsSync(wasmPath())).toBe(true);
  });

  it('is build/uasmedia.wasm of the installed package when running from dist/, spaces and all', () => {
    const app = '/srv/my app/node_modules/uasmedia';
    const moduleUrl = pathToFileURL(join(app, 'dist', 'engine', 'dsp', 'wasm-module.js')).href;
    expect(moduleUrl).toContain('my%20app');
    expect(wasmPath(moduleUrl)).toBe(join(app, 'build', 'uasmedia.wasm'));
  });
});
