/**
 * The few WebAssembly JS-API calls tts/ needs, typed locally: the project's TypeScript lib
 * (ES2022 without DOM) does not declare the `WebAssembly` global, and a global declaration here
 * could clash with one elsewhere.
 */

/** A compiled `WebAssembly.Module` (opaque here). */
export interface WasmModule {
  readonly __brand: 'WebAssembly.Module';
}

/** An instantiated `WebAssembly.Instance`. */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports?: WasmImports): Promise<WasmInstance>;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
