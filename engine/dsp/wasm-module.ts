import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EngineError } from '../errors.js';

/**
 * Where `npm run build:wasm` writes the module, relative to this file: `engine/dsp/` in the
 * repository (tsx, vitest) is two levels below the package root, `dist/engine/dsp/` in the
 * installed package is three. A file URL keeps spaces and other escapes in the path right.
 */
export function wasmPath(moduleUrl: string = import.meta.url): string {
  const fromSource = new URL(moduleUrl).pathname.endsWith('.ts');
  return fileURLToPath(
    new URL(fromSource ? '../../build/uasmedia.wasm' : '../../../build/uasmedia.wasm', moduleUrl)
  );
}

/** Compiled once per process; each instance owns its own linear memory. */
let compiled: WebAssembly.Module | undefined;

export function instantiateDsp(): WebAssembly.Instance {
  if (!compiled) {
    const path = wasmPath();
    if (!existsSync(path))
      throw new EngineError('ERR_DSP_UNAVAILABLE', `${path} not found: run 'npm run build:wasm'`);
    compiled = new WebAssembly.Module(readFileSync(path));
  }
  return new WebAssembly.Instance(compiled, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): void {
        throw new EngineError('ERR_DSP_UNAVAILABLE', `uasmedia.wasm aborted at ${line}:${column}`);
      }
    }
  });
}
