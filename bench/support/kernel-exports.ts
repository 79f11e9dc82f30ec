/**
 * The WebAssembly core's single-kernel exports (assembly/room.ts, "single kernels"), which the
 * kernel suites call directly on frames in its 4 KiB bench buffer.
 */
export interface KernelExports {
  memory: WebAssembly.Memory;
  benchBufferPtr(): number;
  encodeFrame(codec: number, src: number, dst: number, n: number): void;
  decodeFrame(codec: number, src: number, dst: number, n: number): void;
  upsampleFrame(state: number, src: number, dst: number, n: number): void;
  downsampleFrame(state: number, src: number, dst: number, n: number): void;
  g722Init(state: number): void;
  g722EncodeFrame(state: number, pcm: number, out: number, samples: number): void;
  g722DecodeFrame(state: number, code: number, pcm: number, bytes: number): void;
}
