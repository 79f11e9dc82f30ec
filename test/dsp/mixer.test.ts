import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_SILENT, type Codec } from '../../engine/dsp/kernels.js';
import { contribution, gainQ14FromDb, mixMinus } from '../../engine/dsp/reference/mixer.js';
import { ulawCompress, ulawExpand } from '../../engine/dsp/reference/g711.js';
import { mulberry32, randomInt, randomPcm } from '../support/dsp-prng.js';

interface PartySpec {
  slot: number;
  talker: boolean;
  muted: boolean;
  gainDb: number;
  prompt: boolean;
}

/**
 * One room; random parties. 16 kHz rooms use L16 parties (lossless in and out, so the mix is
 * compared sample for sample); 8 kHz rooms use PCMU (inputs are codes, outputs compared as codes
 * of the reference mix).
 */
function runRoom(
  k: WasmKernels,
  seed: number,
  nParties: number,
  rate: 8000 | 16000,
  amplitude: number,
  limiter: boolean,
  frames = 3
): number {
  const rand = mulberry32(seed);
  const codec: Codec = rate === 16000 ? 'L16' : 'PCMU';
  const n = rate / 50;
  const room = k.createRoom(rate);
  k.setSoftLimiter(room, limiter);
  const parties: PartySpec[] = [];
  for (let i = 0; i < nParties; i++) {
    const spec: PartySpec = {
      slot: k.createParty(codec),
      talker: rand() < 0.8,
      muted: rand() < 0.15,
      gainDb: rand() < 0.5 ? 0 : randomInt(rand, -20, 12),
      prompt: rand() < 0.2
    };
    k.addParty(room, spec.slot);
    k.setTalker(spec.slot, spec.talker);
    k.setMuted(spec.slot, spec.muted);
    k.setGainDb(spec.slot, spec.gainDb);
    k.setPrivatePromptActive(spec.slot, spec.prompt);
    parties.push(spec);
  }
  const inputs = parties.map(() => new Int16Array(n));
  const prompts = parties.map(() => new Int16Array(n));
  const sum = new Int32Array(n);
  const want = new Int16Array(n);
  let compared = 0;
  for (let f = 0; f < frames; f++) {
    const announce = f % 2 === 1;
    const ann = randomPcm(rand, n, 8000);
    k.announcement(room).set(ann);
    k.setAnnouncementActive(room, announce);
    for (let i = 0; i < nParties; i++) {
      const p = parties[i];
      const payload = k.inputPayload(p.slot);
      if (codec === 'L16') {
        const pcm = randomPcm(rand, n, amplitude);
        inputs[i].set(pcm);
        for (let j = 0; j < n; j++) {
          payload[2 * j] = (pcm[j] >> 8) & 0xff;
          payload[2 * j + 1] = pcm[j] & 0xff;
        }
        k.setInput(p.slot, 2 * n);
      } else {
        for (let j = 0; j < n; j++) {
          const code = ulawCompress(randomInt(rand, -amplitude, amplitude));
          payload[j] = code;
          inputs[i][j] = ulawExpand(code);
        }
        k.setInput(p.slot, n);
      }
      prompts[i].set(randomPcm(rand, n, 4000));
      k.privatePrompt(p.slot).set(prompts[i]);
    }
    k.processRoom(room);

    sum.fill(0);
    const gains = parties.map((p) => (p.talker && !p.muted ? gainQ14FromDb(p.gainDb) : 0));
    for (let i = 0; i < nParties; i++)
      if (gains[i] !== 0) for (let j = 0; j < n; j++) sum[j] += contribution(inputs[i][j], gains[i]);
    if (announce) for (let j = 0; j < n; j++) sum[j] += ann[j];
    for (let i = 0; i < nParties; i++) {
      const p = parties[i];
      expect(Array.from(k.decodedInput(p.slot))).toEqual(Array.from(inputs[i]));
      mixMinus(sum, inputs[i], gains[i], p.prompt ? prompts[i] : null, want, n, limiter);
      const out = k.outputPayload(p.slot);
      expect(k.outputBytes(p.slot)).toBe(codec === 'L16' ? 2 * n : n);
      for (let j = 0; j < n; j++) {
        const got = codec === 'L16' ? (((out[2 * j] << 8) | out[2 * j + 1]) << 16) >> 16 : out[j];
        const expected = codec === 'L16' ? want[j] : ulawCompress(want[j]);
        if (got !== expected)
          throw new Error(`frame ${f} party ${i} sample ${j}: got ${got}, want ${expected}`);
        compared++;
      }
    }
  }
  k.destroyRoom(room);
  for (const p of parties) k.destroyParty(p.slot);
  return compared;
}

describe('conference mixer (WASM) against the TypeScript reference', () => {
  let k: WasmKernels;
  beforeAll(() => {
    k = new WasmKernels();
  });
  afterAll(() => k.close());

  for (const rate of [8000, 16000] as const) {
    for (const nParties of [1, 2, 3, 50, 1000]) {
      it(`is sample-exact for ${nParties} parties at ${rate} Hz (random gains, listeners, muted, prompts, announcement)`, () => {
        const frames = nParties === 1000 ? 2 : 3;
        expect(runRoom(k, 1000 * nParties + rate, nParties, rate, 6000, true, frames)).toBe(
          frames * nParties * (rate / 50)
        );
      });
    }
    it(`is sample-exact at ${rate} Hz when 50 full-scale talkers saturate, with and without the soft limiter`, () => {
      expect(runRoom(k, 77 + rate, 50, rate, 32767, true)).toBeGreaterThan(0);
      expect(runRoom(k, 78 + rate, 50, rate, 32767, false)).toBeGreaterThan(0);
    });
  }

  it('saturates to int16 without the limiter and compresses above the knee with it', () => {
    const room = k.createRoom(16000);
    const parties = [0, 1, 2, 3].map(() => k.createParty('L16'));
    for (const p of parties) {
      k.addParty(room, p);
      k.setTalker(p, true);
    }
    const listener = k.createParty('L16');
    k.addParty(room, listener);
    const feed = (value: number) => {
      for (const p of parties) {
        const b = k.inputPayload(p);
        for (let j = 0; j < 320; j++) {
          b[2 * j] = (value >> 8) & 0xff;
          b[2 * j + 1] = value & 0xff;
        }
        k.setInput(p, 640);
      }
      k.setInput(listener, INPUT_SILENT);
      k.processRoom(room);
      const o = k.outputPayload(listener);
      return (((o[100] << 8) | o[101]) << 16) >> 16;
    };
    k.setSoftLimiter(room, false);
    expect(feed(12000)).toBe(32767);
    expect(feed(-12000)).toBe(-32768);
    expect(feed(5000)).toBe(20000);
    k.setSoftLimiter(room, true);
    expect(feed(5000)).toBe(20000);
    expect(feed(7000)).toBe(24576 + ((28000 - 24576) >> 2));
    expect(feed(-7000)).toBe(-24576 + ((-28000 + 24576) >> 2));
    k.destroyRoom(room);
    for (const p of [...parties, listener]) k.destroyParty(p);
  });

  it('listen-only and muted parties hear everyone and add nothing; nobody hears itself', () => {
    const room = k.createRoom(16000);
    k.setSoftLimiter(room, false);
    const talkers = [0, 1, 2].map(() => k.createParty('L16'));
    const listener = k.createParty('L16');
    const muted = k.createParty('L16');
    const all = [...talkers, listener, muted];
    for (const p of all) k.addParty(room, p);
    for (const p of talkers) k.setTalker(p, true);
    k.setTalker(muted, true);
    k.setMuted(muted, true);
    const levels = new Map<number, number>([
      [talkers[0], 100],
      [talkers[1], 1000],
      [talkers[2], 10000],
      [listener, 3],
      [muted, 7]
    ]);
    for (const p of all) {
      const b = k.inputPayload(p);
      const v = levels.get(p) as number;
      for (let j = 0; j < 320; j++) {
        b[2 * j] = v >> 8;
        b[2 * j + 1] = v & 0xff;
      }
      k.setInput(p, 640);
    }
    k.processRoom(room);
    const heard = (p: number) => {
      const o = k.outputPayload(p);
      const values = new Set<number>();
      for (let j = 0; j < 320; j++) values.add((((o[2 * j] << 8) | o[2 * j + 1]) << 16) >> 16);
      return [...values];
    };
    expect(heard(listener)).toEqual([11100]);
    expect(heard(muted)).toEqual([11100]);
    expect(heard(talkers[0])).toEqual([11000]);
    expect(heard(talkers[1])).toEqual([10100]);
    expect(heard(talkers[2])).toEqual([1100]);
    k.destroyRoom(room);
    for (const p of all) k.destroyParty(p);
  });

  it('a single talker in a room hears silence from itself (mix-minus) but its private prompt', () => {
    const room = k.createRoom(8000);
    const p = k.createParty('PCMU');
    k.addParty(room, p);
    k.setTalker(p, true);
    const rand = mulberry32(5);
    for (let f = 0; f < 5; f++) {
      const b = k.inputPayload(p);
      for (let j = 0; j < 160; j++) b[j] = randomInt(rand, 0, 255);
      k.setInput(p, 160);
      k.setPrivatePromptActive(p, f >= 3);
      k.privatePrompt(p).fill(f >= 3 ? 1000 : 0);
      k.processRoom(room);
      const out = k.outputPayload(p).subarray(0, 160);
      expect(new Set(out)).toEqual(new Set([ulawCompress(f >= 3 ? 1000 : 0)]));
    }
    k.destroyRoom(room);
    k.destroyParty(p);
  });
});
