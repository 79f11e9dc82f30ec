/**
 * Per-frame codec and resampling kernels, WebAssembly against the plain-TypeScript references in
 * the same run: G.711 μ-law / A-law encode and decode of one 20 ms frame (160 samples), and the
 * 8k↔16k half-band resampler on one frame, also compared with libsamplerate-js (the
 * `full` streaming API with a preallocated output, float32 frames; SINC_FASTEST and
 * SINC_MEDIUM_QUALITY) on the same frames.
 */
import { nsPerCall } from '../support/ns-per-call.js';
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import type { BenchReport } from '../report.js';
import type { KernelExports } from '../support/kernel-exports.js';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { g711DecodeFrame, g711EncodeFrame } from '../../engine/dsp/reference/g711.js';
import { HalfbandDownsampler, HalfbandUpsampler } from '../../engine/dsp/reference/resample-halfband.js';

/** benchmark.js sampling for this suite's measurements. */
const SAMPLING = { minSamples: 20 };

export async function run(report: BenchReport): Promise<void> {
  const k = new WasmKernels();
  const e = k.exports as unknown as KernelExports;
  const base = e.benchBufferPtr();
  const upState = base;
  const downState = base + 128;
  const pcmPtr = base + 256;
  const codesPtr = base + 1024;
  const outPtr = base + 1536;
  const pcm = new Int16Array(320);
  for (let i = 0; i < 320; i++) pcm[i] = Math.round(8000 * Math.sin(i / 7) + 3000 * Math.sin(i / 2.3));
  new Int16Array(e.memory.buffer, pcmPtr, 320).set(pcm);
  const codes = new Uint8Array(160);
  const decoded = new Int16Array(320);

  for (const [law, id] of [
    ['PCMU', 0],
    ['PCMA', 1]
  ] as const) {
    e.encodeFrame(id, pcmPtr, codesPtr, 160);
    g711EncodeFrame(law, pcm, codes, 160);
    const wEnc = nsPerCall(`${law} encode wasm`, () => e.encodeFrame(id, pcmPtr, codesPtr, 160), SAMPLING);
    const jEnc = nsPerCall(`${law} encode js`, () => g711EncodeFrame(law, pcm, codes, 160), SAMPLING);
    const wDec = nsPerCall(`${law} decode wasm`, () => e.decodeFrame(id, codesPtr, outPtr, 160), SAMPLING);
    const jDec = nsPerCall(`${law} decode js`, () => g711DecodeFrame(law, codes, decoded, 160), SAMPLING);
    report.add({
      suite: 'g711',
      name: `${law} encode 160 wasm`,
      nsPerFrame: wEnc,
      speedupOverJs: jEnc / wEnc
    });
    report.add({ suite: 'g711', name: `${law} encode 160 js`, nsPerFrame: jEnc });
    report.add({
      suite: 'g711',
      name: `${law} decode 160 wasm`,
      nsPerFrame: wDec,
      speedupOverJs: jDec / wDec
    });
    report.add({ suite: 'g711', name: `${law} decode 160 js`, nsPerFrame: jDec });
  }

  // Resampling one 20 ms frame: 8k→16k (160 in) and 16k→8k (320 in).
  const up = new HalfbandUpsampler();
  const down = new HalfbandDownsampler();
  const wUp = nsPerCall('up wasm', () => e.upsampleFrame(upState, pcmPtr, outPtr, 160), SAMPLING);
  const jUp = nsPerCall('up js', () => up.process(pcm, decoded, 160), SAMPLING);
  const wDown = nsPerCall('down wasm', () => e.downsampleFrame(downState, pcmPtr, outPtr, 320), SAMPLING);
  const jDown = nsPerCall('down js', () => down.process(pcm, decoded, 320), SAMPLING);
  const f8 = Float32Array.from(pcm.subarray(0, 160), (x) => x / 32768);
  const f16 = Float32Array.from(pcm, (x) => x / 32768);
  const out32 = new Float32Array(400);
  const src: Record<string, number> = {};
  for (const [label, type] of [
    ['fastest', libsamplerate.ConverterType.SRC_SINC_FASTEST],
    ['medium', libsamplerate.ConverterType.SRC_SINC_MEDIUM_QUALITY]
  ] as const) {
    const srcUp = await libsamplerate.create(1, 8000, 16000, { converterType: type });
    const srcDown = await libsamplerate.create(1, 16000, 8000, { converterType: type });
    src[`up ${label}`] = nsPerCall(`src up ${label}`, () => srcUp.full(f8, out32), SAMPLING);
    src[`down ${label}`] = nsPerCall(`src down ${label}`, () => srcDown.full(f16, out32), SAMPLING);
    srcUp.destroy();
    srcDown.destroy();
  }
  const extraUp = {
    libsamplerateFastestNs: src['up fastest'],
    libsamplerateMediumNs: src['up medium'],
    xLibsamplerateFastest: src['up fastest'] / wUp
  };
  const extraDown = {
    libsamplerateFastestNs: src['down fastest'],
    libsamplerateMediumNs: src['down medium'],
    xLibsamplerateFastest: src['down fastest'] / wDown
  };
  report.add({
    suite: 'g711',
    name: 'halfband 8k->16k frame wasm',
    nsPerFrame: wUp,
    speedupOverJs: jUp / wUp,
    extra: extraUp
  });
  report.add({ suite: 'g711', name: 'halfband 8k->16k frame js', nsPerFrame: jUp });
  report.add({
    suite: 'g711',
    name: 'halfband 16k->8k frame wasm',
    nsPerFrame: wDown,
    speedupOverJs: jDown / wDown,
    extra: extraDown
  });
  report.add({ suite: 'g711', name: 'halfband 16k->8k frame js', nsPerFrame: jDown });
  k.close();
}
