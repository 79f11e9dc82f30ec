/**
 * The WASM DTMF detector against its plain-TypeScript reference: same coefficient bits, same
 * decisions (digits, start, duration, tone-active after every block) on mixed material at 8 and
 * 16 kHz and any block size; per-party state; argument validation.
 */
import { describe, it, expect } from 'vitest';
import { WasmDtmf, runReference, type DtmfRun } from '../support/dtmf-harness.js';
import { buildDtmfTables, DtmfDetectorReference } from '../../engine/dsp/reference/dtmf-detector.js';
import * as S from '../support/dtmf-signals.js';
import { loadSpeech } from '../support/dtmf-speech.js';

const wasm = new WasmDtmf();

/** Random digits (level, twist, frequency error, duration, pause all drawn) in noise, then a vowel and speech. */
function mixedMaterial(seed: number, sampleRateHz: number): Int16Array {
  const rand = S.dtmfPrng(seed);
  const b = new S.SignalBuilder(sampleRateHz);
  for (let i = 0; i < 32; i++) {
    const digit = S.DTMF_DIGITS[Math.floor(rand() * 16)];
    b.digit(digit, {
      durationMs: 25 + rand() * 80,
      lowDbm0: -3 - 35 * rand(),
      twistDb: -11 + 18 * rand(),
      lowDeviation: (rand() - 0.5) * 0.06,
      highDeviation: (rand() - 0.5) * 0.06,
      lowPhase: 6.3 * rand(),
      highPhase: 6.3 * rand()
    }).silence(15 + rand() * 60);
  }
  b.samples(S.vowelLike(rand, 0.5, sampleRateHz));
  const x = S.addNoise(b.build(), S.dtmfPower(-15), 10 + 15 * rand(), rand);
  const pcm = S.toPcm16(x);
  if (sampleRateHz !== 8000) return pcm;
  const speech = loadSpeech('espeak-f-8k-ulaw.wav').subarray(0, 24000);
  const out = new Int16Array(pcm.length + speech.length);
  out.set(pcm);
  out.set(speech, pcm.length);
  return out;
}

function digits(run: DtmfRun): string {
  return run.events.map((e) => e.digit).join('');
}

describe('WASM DTMF detector vs the TypeScript reference', () => {
  it('uses the very same coefficient tables', () => {
    const t = buildDtmfTables();
    const fields = [
      t.goertzel2Cos,
      t.cos,
      t.sin,
      t.rotRe,
      t.rotIm,
      t.levelScale8k,
      t.levelScale16k,
      t.shareScale,
      t.offset2Cos,
      t.harmonic2Cos,
      t.sum2Cos
    ];
    fields.forEach((table, which) => {
      const ptr = wasm.exports.dtmfTablePtr(which);
      expect(ptr).not.toBe(0);
      const inWasm = new Uint32Array(wasm.exports.memory.buffer, ptr, table.length);
      expect(Array.from(inWasm)).toEqual(Array.from(new Uint32Array(table.buffer)));
    });
  });

  it('keeps its state within the 1040 bytes a party slot reserves for it', () => {
    const bytes = wasm.exports.DTMF_STATE_BYTES.value as number;
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(1040);
  });

  for (const [rate, blocks] of [
    [8000, [160, 37, 320, 1, 4096]],
    [16000, [320, 37, 640]]
  ] as const) {
    for (const block of blocks) {
      it(`makes the same decisions at ${rate} Hz in blocks of ${block}`, () => {
        for (const seed of [11, 12]) {
          const pcm = mixedMaterial(seed, rate);
          const ref = runReference(pcm, rate, block);
          const got = wasm.run(pcm, rate, block);
          expect(ref.events.length).toBeGreaterThan(5);
          expect(got.events).toEqual(ref.events);
          expect(got.active).toEqual(ref.active);
        }
      });
    }
  }

  it('gives the same digits, starts and durations for 37-sample and 160-sample blocks', () => {
    for (const rate of [8000, 16000]) {
      const pcm = mixedMaterial(21, rate);
      const a = wasm.run(pcm, rate, 160).events.map(({ reportedAt: _r, ...e }) => e);
      const b = wasm.run(pcm, rate, 37).events.map(({ reportedAt: _r, ...e }) => e);
      expect(a.length).toBeGreaterThan(5);
      expect(b).toEqual(a);
    }
  });

  it('keeps each party in its own state: two interleaved parties decide as if alone', () => {
    const a = mixedMaterial(31, 8000);
    const b = mixedMaterial(32, 8000);
    const aloneA = wasm.run(a, 8000, 160, 0).events;
    const aloneB = wasm.run(b, 8000, 160, 1).events;
    expect(digits({ events: aloneA, active: [] })).not.toBe(digits({ events: aloneB, active: [] }));
    const sa = wasm.init(0, 8000);
    const sb = wasm.init(1, 8000);
    const gotA = [];
    const gotB = [];
    for (let i = 0; i < Math.max(a.length, b.length); i += 160) {
      if (i < a.length) {
        const chunk = a.subarray(i, Math.min(a.length, i + 160));
        const e = wasm.feed(sa, chunk, i + chunk.length);
        if (e) gotA.push(e);
      }
      if (i < b.length) {
        const chunk = b.subarray(i, Math.min(b.length, i + 160));
        const e = wasm.feed(sb, chunk, i + chunk.length);
        if (e) gotB.push(e);
      }
    }
    expect(gotA).toEqual(aloneA);
    expect(gotB).toEqual(aloneB);
  });

  it('reports two digits that end in one long call on this call and the next', () => {
    const pcm = S.toPcm16(
      new S.SignalBuilder()
        .digit('5', { durationMs: 60 })
        .silence(60)
        .digit('9', { durationMs: 60 })
        .silence(60)
        .build()
    );
    const state = wasm.init(0, 8000);
    const first = wasm.feed(state, pcm, pcm.length);
    const second = wasm.feed(state, new Int16Array(0), pcm.length);
    expect(first?.digit).toBe('5');
    expect(second?.digit).toBe('9');
    expect(second!.startSample).toBeGreaterThan(first!.startSample);
    expect(wasm.feed(state, new Int16Array(0), pcm.length)).toBeUndefined();
  });

  it('flags the tone as active while a digit is received, from 40 ms into it until it ends', () => {
    // 100 ms silence, 200 ms digit, 200 ms silence; one flag per 20 ms frame.
    const pcm = S.toPcm16(
      new S.SignalBuilder().silence(100).digit('7', { durationMs: 200 }).silence(200).build()
    );
    const run = wasm.run(pcm, 8000, 160);
    expect(run.active.slice(0, 5).some(Boolean)).toBe(false);
    expect(run.active.slice(7, 15).every(Boolean)).toBe(true);
    expect(run.active.slice(17).some(Boolean)).toBe(false);
    expect(run.events.map((e) => e.digit)).toEqual(['7']);
  });

  it('validates the sample rate', () => {
    const state = wasm.exports.dtmfTestStatePtr(0);
    for (const bad of [0, 8001, 11025, 44100, -8000]) {
      expect(() => wasm.exports.dtmfInit(state, bad)).toThrow(WebAssembly.RuntimeError);
      expect(() => new DtmfDetectorReference(bad)).toThrow(RangeError);
    }
    expect(() => wasm.exports.dtmfInit(state, 16000)).not.toThrow();
  });
});
