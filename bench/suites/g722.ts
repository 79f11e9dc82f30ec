/**
 * G.722 at 64 kbit/s on one 20 ms frame (320 samples at 16 kHz, 160 bytes), WebAssembly against
 * the plain-TypeScript reference in the same run, and against the WebAssembly μ-law encode and
 * decode of a 20 ms frame: what a wideband phone costs the core over a G.711 one.
 */
import { nsPerCall } from '../support/ns-per-call.js';
import type { BenchReport } from '../report.js';
import type { KernelExports } from '../support/kernel-exports.js';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { G722_STATE, g722Decode, g722Encode, g722InitState } from '../../engine/dsp/reference/g722.js';

const SAMPLING = { minSamples: 20 };

export async function run(report: BenchReport): Promise<void> {
  const k = new WasmKernels();
  const e = k.exports as unknown as KernelExports;
  const base = e.benchBufferPtr();
  const encState = base;
  const decState = base + 1024;
  const pcmPtr = base + 2048;
  const codesPtr = base + 2816;
  const outPtr = base + 3072;
  const pcm = new Int16Array(320);
  for (let i = 0; i < 320; i++) pcm[i] = Math.round(8000 * Math.sin(i / 7) + 3000 * Math.sin(i / 2.3));
  new Int16Array(e.memory.buffer, pcmPtr, 320).set(pcm);
  e.g722Init(encState);
  e.g722Init(decState);
  const enc = new Int32Array(G722_STATE.words);
  const dec = new Int32Array(G722_STATE.words);
  g722InitState(enc);
  g722InitState(dec);
  const codes = new Uint8Array(160);
  const decoded = new Int16Array(320);
  e.g722EncodeFrame(encState, pcmPtr, codesPtr, 320);
  g722Encode(enc, pcm, codes, 320);

  const wEnc = nsPerCall(
    'g722 encode wasm',
    () => e.g722EncodeFrame(encState, pcmPtr, codesPtr, 320),
    SAMPLING
  );
  const jEnc = nsPerCall('g722 encode js', () => g722Encode(enc, pcm, codes, 320), SAMPLING);
  const wDec = nsPerCall(
    'g722 decode wasm',
    () => e.g722DecodeFrame(decState, codesPtr, outPtr, 160),
    SAMPLING
  );
  const jDec = nsPerCall('g722 decode js', () => g722Decode(dec, codes, decoded, 160), SAMPLING);
  const uEnc = nsPerCall('pcmu encode wasm', () => e.encodeFrame(0, pcmPtr, codesPtr, 160), SAMPLING);
  const uDec = nsPerCall('pcmu decode wasm', () => e.decodeFrame(0, codesPtr, outPtr, 160), SAMPLING);
  report.add({
    suite: 'g722',
    name: 'G722 encode 320 wasm',
    nsPerFrame: wEnc,
    speedupOverJs: jEnc / wEnc,
    extra: { overPcmuEncode: wEnc / uEnc }
  });
  report.add({ suite: 'g722', name: 'G722 encode 320 js', nsPerFrame: jEnc });
  report.add({
    suite: 'g722',
    name: 'G722 decode 160 wasm',
    nsPerFrame: wDec,
    speedupOverJs: jDec / wDec,
    extra: { overPcmuDecode: wDec / uDec }
  });
  report.add({ suite: 'g722', name: 'G722 decode 160 js', nsPerFrame: jDec });
  k.close();
}
