// The one WebAssembly module of uasmedia. Each file below documents its own memory layout.
export * from './room';
export * from './dtmf';
