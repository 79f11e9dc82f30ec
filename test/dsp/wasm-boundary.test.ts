/**
 * The per-frame path crosses into WebAssembly once per room: a whole media path (RTP packets in,
 * jitter buffers, the frame loop, talker detection, RTP packets out) run on a WasmKernels whose
 * module exports count their calls.
 */
import { describe, it, expect } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { instantiateDsp } from '../../engine/dsp/wasm-module.js';
import { buildPipeline } from '../../bench/suites/media-path.js';

function countingInstance(): { instance: WebAssembly.Instance; calls: Map<string, number> } {
  const real = instantiateDsp().exports;
  const calls = new Map<string, number>();
  const exports: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(real)) {
    exports[name] =
      typeof value === 'function'
        ? (...args: unknown[]): unknown => {
            calls.set(name, (calls.get(name) ?? 0) + 1);
            return (value as (...a: unknown[]) => unknown)(...args);
          }
        : value;
  }
  return { instance: { exports } as unknown as WebAssembly.Instance, calls };
}

describe('the WebAssembly boundary per frame', () => {
  it('is crossed once per room: processRoom, nothing per party', () => {
    const { instance, calls } = countingInstance();
    const kernels = new WasmKernels(instance);
    const participants = 30;
    const pipeline = buildPipeline(kernels, participants);
    for (let f = 0; f < 20; f++) pipeline.frame(); // lazily made views, jitter buffers filling
    calls.clear();
    const frames = 50;
    for (let f = 0; f < frames; f++) pipeline.frame();
    const rooms = participants / 3;
    expect(Object.fromEntries(calls)).toEqual({ processRoom: frames * rooms });
    expect(pipeline.sent()).toBeGreaterThan(participants * 60);
    pipeline.close();
    kernels.close();
  });
});
