import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import {
  HalfbandDownsampler,
  HalfbandUpsampler,
  HALFBAND_Q14
} from '../../engine/dsp/reference/resample-halfband.js';
import { mulberry32, randomPcm, sine } from '../support/dsp-prng.js';

interface ResamplerExports {
  memory: WebAssembly.Memory;
  benchBufferPtr(): number;
  upsampleFrame(state: number, src: number, dst: number, n: number): void;
  downsampleFrame(state: number, src: number, dst: number, n: number): void;
  halfbandCoefficient(k: number): number;
}

/** Amplitude of the component at freqHz (single-bin DFT over a whole number of periods). */
function toneAmplitude(x: Int16Array, freqHz: number, rateHz: number, from: number): number {
  let re = 0;
  let im = 0;
  for (let i = from; i < x.length; i++) {
    const w = (2 * Math.PI * freqHz * i) / rateHz;
    re += x[i] * Math.cos(w);
    im += x[i] * Math.sin(w);
  }
  return (2 * Math.hypot(re, im)) / (x.length - from);
}

describe('half-band 8 kHz <-> 16 kHz resampler', () => {
  let k: WasmKernels;
  let e: ResamplerExports;
  // Bench scratch layout: up state (23), down state (46), input frame, output frame.
  let upState: number, downState: number, src: number, dst: number;
  beforeAll(() => {
    k = new WasmKernels();
    e = k.exports as unknown as ResamplerExports;
    const base = e.benchBufferPtr();
    upState = base;
    downState = base + 64;
    src = base + 256;
    dst = base + 256 + 640;
    new Uint8Array(e.memory.buffer, base, 256).fill(0);
  });
  afterAll(() => k.close());

  const view = (ptr: number, n: number) => new Int16Array(e.memory.buffer, ptr, n);

  function up(frame: Int16Array): Int16Array {
    view(src, frame.length).set(frame);
    e.upsampleFrame(upState, src, dst, frame.length);
    return Int16Array.from(view(dst, 2 * frame.length));
  }
  function down(frame: Int16Array): Int16Array {
    view(src, frame.length).set(frame);
    e.downsampleFrame(downState, src, dst, frame.length);
    return Int16Array.from(view(dst, frame.length / 2));
  }

  it('uses the reference coefficients, which sum to unity DC gain', () => {
    expect(HALFBAND_Q14.map((_, i) => e.halfbandCoefficient(i))).toEqual(HALFBAND_Q14);
    expect(HALFBAND_Q14.reduce((a, b) => a + b, 0)).toBe(8192);
  });

  it('a 1 kHz tone survives 8k -> 16k -> 8k, frame by frame, with a small error', () => {
    const frames = 10;
    const out = new Int16Array(frames * 160);
    const hi = new Int16Array(frames * 320);
    for (let f = 0; f < frames; f++) {
      const u = up(sine(160, 1000, 8000, 10000, f * 160));
      hi.set(u, f * 320);
      out.set(down(u), f * 160);
    }
    // Total delay: 12 samples (up) + 11.5 samples (down) at 8 kHz.
    let maxErr = 0;
    for (let i = 160; i < out.length; i++) {
      const want = 10000 * Math.sin((2 * Math.PI * 1000 * (i - 23.5)) / 8000);
      maxErr = Math.max(maxErr, Math.abs(out[i] - want));
    }
    expect(maxErr).toBeLessThan(40);
    // In the 16 kHz signal, the image of 1 kHz at 7 kHz is removed (> 60 dB down).
    expect(toneAmplitude(hi, 1000, 16000, 320)).toBeGreaterThan(9900);
    expect(toneAmplitude(hi, 7000, 16000, 320)).toBeLessThan(10);
  });

  it('attenuates content above 4 kHz before decimating to 8 kHz', () => {
    for (const f of [5000, 6000, 7000]) {
      const out = new Int16Array(10 * 160);
      for (let i = 0; i < 10; i++) out.set(down(sine(320, f, 16000, 16000, i * 320)), i * 160);
      // It would alias to 8000 - f; the filter leaves less than 1/1000 of it.
      expect(toneAmplitude(out, 8000 - f, 8000, 160)).toBeLessThan(16);
    }
    const pass = new Int16Array(10 * 160);
    for (let i = 0; i < 10; i++) pass.set(down(sine(320, 3000, 16000, 16000, i * 320)), i * 160);
    expect(toneAmplitude(pass, 3000, 8000, 160)).toBeGreaterThan(15800);
  });

  it('is bit-exact with the TypeScript reference on random full-scale frames', () => {
    const rand = mulberry32(42);
    const upRef = new HalfbandUpsampler();
    const downRef = new HalfbandDownsampler();
    new Uint8Array(e.memory.buffer, upState, 256).fill(0);
    const want = new Int16Array(640);
    for (let f = 0; f < 20; f++) {
      const x = randomPcm(rand, 160, 32767);
      upRef.process(x, want, 160);
      expect(Array.from(up(x))).toEqual(Array.from(want.subarray(0, 320)));
      const y = randomPcm(rand, 320, 32767);
      downRef.process(y, want, 320);
      expect(Array.from(down(y))).toEqual(Array.from(want.subarray(0, 160)));
    }
  });
});
