/**
 * The pitch search of packet-loss concealment on full-scale input: the products of two samples of
 * -32768 are 2^30, and two of them overflow an i32 (assembly/plc.ts keeps one product per lane
 * and sums in i64). Both cores must conceal a full-scale square wave alike, repeating its period.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { createKernels, INPUT_LOST, type DspKernels } from '../../engine/dsp/kernels.js';
import { l16EncodeFrame } from '../../engine/dsp/reference/g711.js';

const RATE = 16000;
const N = RATE / 50;
/** Within the 5-15 ms the pitch search looks at, at 16 kHz. */
const PERIOD = 100;

function squareFrame(frame: number): Int16Array {
  const pcm = new Int16Array(N);
  for (let j = 0; j < N; j++) pcm[j] = ((frame * N + j) % PERIOD) * 2 < PERIOD ? -32768 : 32767;
  return pcm;
}

async function conceal(kind: 'wasm' | 'js', keep: DspKernels[]): Promise<Int16Array> {
  const k = await createKernels(kind);
  keep.push(k);
  const room = k.createRoom(RATE);
  const p = k.createParty('L16');
  k.addParty(room, p);
  for (let f = 0; f < 3; f++) {
    l16EncodeFrame(squareFrame(f), k.inputPayload(p), N);
    k.setInput(p, 2 * N);
    k.processRoom(room);
  }
  k.setInput(p, INPUT_LOST);
  k.processRoom(room);
  return k.decodedInput(p).slice();
}

describe('concealment of a full-scale signal', () => {
  const kernels: DspKernels[] = [];
  afterAll(() => kernels.forEach((k) => k.close()));

  it('repeats the period of a square wave of -32768 and 32767, the same in both cores', async () => {
    const wasm = await conceal('wasm', kernels);
    const js = await conceal('js', kernels);
    expect(Array.from(wasm)).toEqual(Array.from(js));
    // Full level for the first 10 ms: the concealment is the wave's own period, repeated.
    for (let j = 0; j + PERIOD < RATE / 100; j++) expect(wasm[j + PERIOD]).toBe(wasm[j]);
    expect(Math.min(...wasm.subarray(0, PERIOD))).toBe(-32768);
  });
});
