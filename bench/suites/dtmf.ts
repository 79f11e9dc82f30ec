/**
 * DTMF detection cost per party-frame (160 samples at 8 kHz, one dtmfProcess call), WASM vs the
 * plain-TypeScript reference, on three kinds of input: speech-like (vowels, the usual case),
 * a digit being received (the frequency-check filters then run at every decision) and silence.
 * Target (reported, not asserted): <= 1.5 µs per party-frame and >= 5x the reference.
 */
import Benchmark from 'benchmark';
import type { BenchReport } from '../report.js';
import { DtmfDetectorReference } from '../../engine/dsp/reference/dtmf-detector.js';
import { WasmDtmf } from '../../test/support/dtmf-harness.js';
import * as S from '../../test/support/dtmf-signals.js';

const FRAME = 160;
const FRAMES = 200; // 4 s of input, replayed in a loop

function inputs(): Record<string, Int16Array> {
  const rand = S.dtmfPrng(7);
  const speech = new S.SignalBuilder();
  while (speech.build().length < FRAMES * FRAME)
    speech.samples(S.vowelLike(rand, 0.4 + 0.4 * rand(), 8000, -15));
  const digits = new S.SignalBuilder();
  while (digits.build().length < FRAMES * FRAME)
    digits.digit(S.DTMF_DIGITS[Math.floor(16 * rand())], { durationMs: 200 }).silence(20);
  return {
    speech: S.toPcm16(speech.build()).subarray(0, FRAMES * FRAME),
    'digit tone': S.toPcm16(digits.build()).subarray(0, FRAMES * FRAME),
    silence: new Int16Array(FRAMES * FRAME)
  };
}

function measure(name: string, fn: () => void): number {
  const bench = new Benchmark(name, fn, { maxTime: 1 });
  bench.run();
  return 1e9 / bench.hz;
}

export async function run(report: BenchReport): Promise<void> {
  const wasm = new WasmDtmf();
  const state = wasm.init(0, 8000);
  const pcmPtr = wasm.exports.dtmfTestPcmPtr();
  for (const [name, pcm] of Object.entries(inputs())) {
    new Int16Array(wasm.exports.memory.buffer, pcmPtr, pcm.length).set(pcm);
    let i = 0;
    const wasmNs = measure(`wasm ${name}`, () => {
      wasm.exports.dtmfProcess(state, pcmPtr + i * FRAME * 2, FRAME, 0);
      i = (i + 1) % FRAMES;
    });
    const ref = new DtmfDetectorReference(8000);
    const frames = Array.from({ length: FRAMES }, (_, k) => pcm.subarray(k * FRAME, (k + 1) * FRAME));
    let j = 0;
    const jsNs = measure(`js ${name}`, () => {
      ref.process(frames[j]);
      j = (j + 1) % FRAMES;
    });
    report.add({
      suite: 'dtmf',
      name: `detect 160 samples @8k, ${name}`,
      nsPerFrame: wasmNs,
      nsPerPartyFrame: wasmNs,
      speedupOverJs: jsNs / wasmNs,
      extra: { jsNsPerPartyFrame: jsNs, targetNs: 1500 }
    });
  }
}
