import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build:wasm` writes the module, found from this file in source or in dist/. */
export function wasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'uasmedia.wasm');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error("build/uasmedia.wasm not found: run 'npm run build:wasm'");
}

/** Compiled once per process; each instance owns its own linear memory. */
let compiled: WebAssembly.Module | undefined;

export function instantiateDsp(): WebAssembly.Instance {
  compiled ??= new WebAssembly.Module(readFileSync(wasmPath()));
  return new WebAssembly.Instance(compiled, {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): void {
        throw new Error(`uasmedia.wasm aborted at ${line}:${column}`);
      }
    }
  });
}
