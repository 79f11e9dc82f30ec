import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_SILENT, type Codec } from '../../engine/dsp/kernels.js';
import {
  contribution,
  gainQ14FromDb,
  LIMITER_CEILING,
  listenGainQ14FromDb,
  partyOutput,
  rampGain,
  UNITY_GAIN_Q14
} from '../../engine/dsp/reference/mixer.js';
import { ulawCompress, ulawExpand } from '../../engine/dsp/reference/g711.js';
import { mulberry32, randomInt, randomPcm } from '../support/dsp-prng.js';

interface PartySpec {
  slot: number;
  talker: boolean;
  muted: boolean;
  gainDb: number;
  prompt: boolean;
  listenDb: number;
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
  amplitude: number | ((frame: number) => number),
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
      prompt: rand() < 0.2,
      listenDb: rand() < 0.5 ? 0 : randomInt(rand, -30, 6)
    };
    k.addParty(room, spec.slot);
    k.setTalker(spec.slot, spec.talker);
    k.setMuted(spec.slot, spec.muted);
    k.setGainDb(spec.slot, spec.gainDb);
    k.setListenGainDb(spec.slot, spec.listenDb);
    k.setPrivatePromptActive(spec.slot, spec.prompt);
    parties.push(spec);
  }
  const inputs = parties.map(() => new Int16Array(n));
  const prompts = parties.map(() => new Int16Array(n));
  const sum = new Int32Array(n);
  const want = new Int16Array(n);
  const attenuation = parties.map(() => 0);
  // A party's first frame in the room fades in from 0 (assembly/mixer.ts).
  let lastGains = parties.map(() => 0);
  const lastListens = parties.map(() => UNITY_GAIN_Q14);
  let compared = 0;
  for (let f = 0; f < frames; f++) {
    const peak = typeof amplitude === 'number' ? amplitude : amplitude(f);
    // Mutes, unmutes and volume changes between frames: the gain ramps across the next one.
    for (const p of f === 0 ? [] : parties) {
      if (rand() < 0.2) k.setMuted(p.slot, (p.muted = !p.muted));
      if (rand() < 0.1) k.setGainDb(p.slot, (p.gainDb = randomInt(rand, -20, 12)));
      if (rand() < 0.1) k.setListenGainDb(p.slot, (p.listenDb = randomInt(rand, -30, 6)));
    }
    const announce = f % 2 === 1;
    const ann = randomPcm(rand, n, 8000);
    k.announcement(room).set(ann);
    k.setAnnouncementActive(room, announce);
    for (let i = 0; i < nParties; i++) {
      const p = parties[i];
      const payload = k.inputPayload(p.slot);
      if (codec === 'L16') {
        const pcm = randomPcm(rand, n, peak);
        inputs[i].set(pcm);
        for (let j = 0; j < n; j++) {
          payload[2 * j] = (pcm[j] >> 8) & 0xff;
          payload[2 * j + 1] = pcm[j] & 0xff;
        }
        k.setInput(p.slot, 2 * n);
      } else {
        for (let j = 0; j < n; j++) {
          const code = ulawCompress(randomInt(rand, -peak, peak));
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
    const froms = lastGains;
    lastGains = gains;
    for (let i = 0; i < nParties; i++)
      for (let j = 0; j < n; j++) sum[j] += contribution(inputs[i][j], rampGain(froms[i], gains[i], j, n));
    if (announce) for (let j = 0; j < n; j++) sum[j] += ann[j];
    for (let i = 0; i < nParties; i++) {
      const p = parties[i];
      expect(Array.from(k.decodedInput(p.slot))).toEqual(Array.from(inputs[i]));
      const prompt = p.prompt ? prompts[i] : null;
      const listen = listenGainQ14FromDb(p.listenDb);
      attenuation[i] = partyOutput(
        sum,
        inputs[i],
        gains[i],
        listen,
        prompt,
        want,
        n,
        limiter,
        attenuation[i],
        froms[i],
        lastListens[i]
      );
      lastListens[i] = listen;
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

/** The first n samples of an L16 (big-endian) payload. */
function l16Samples(payload: Uint8Array, n: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < n; j++) out.push((((payload[2 * j] << 8) | payload[2 * j + 1]) << 16) >> 16);
  return out;
}

/** Writes `sample(j)` for each of a 16 kHz frame's 320 samples into the party's L16 input payload. */
function fillL16(k: WasmKernels, party: number, sample: (j: number) => number): void {
  const b = k.inputPayload(party);
  for (let j = 0; j < 320; j++) {
    b[2 * j] = (sample(j) >> 8) & 0xff;
    b[2 * j + 1] = sample(j) & 0xff;
  }
}

/**
 * A 16 kHz room of L16 talkers, each sending a sine (lossless in and out, so the listener's
 * output is the mixer's, sample for sample), and a silent listener. `frame()` feeds one frame
 * (a talker whose amplitude is 0 sends silence) and returns what the listener receives.
 */
function toneRoom(k: WasmKernels, tones: { hz: number; amplitude: number }[]) {
  const n = 320;
  const room = k.createRoom(16000);
  const talkers = tones.map(() => k.createParty('L16'));
  const listener = k.createParty('L16');
  for (const p of [...talkers, listener]) {
    k.addParty(room, p);
    k.setInbandDtmf(p, false);
  }
  for (const p of talkers) k.setTalker(p, true);
  let t = 0;
  return {
    sent: new Int16Array(n),
    frame(): Int16Array {
      tones.forEach((tone, i) => {
        const b = k.inputPayload(talkers[i]);
        for (let j = 0; j < n; j++) {
          const x = Math.round(
            tone.amplitude * Math.sin((2 * Math.PI * tone.hz * (t + j)) / 16000 + 0.7 * i)
          );
          if (i === 0) this.sent[j] = x;
          b[2 * j] = (x >> 8) & 0xff;
          b[2 * j + 1] = x & 0xff;
        }
        k.setInput(talkers[i], tone.amplitude === 0 ? INPUT_SILENT : 2 * n);
      });
      k.setInput(listener, INPUT_SILENT);
      k.processRoom(room);
      t += n;
      return Int16Array.from(l16Samples(k.outputPayload(listener), n));
    },
    close(): void {
      k.destroyRoom(room);
      for (const p of [...talkers, listener]) k.destroyParty(p);
    }
  };
}

/**
 * Distortion plus noise relative to the tones, in dB: what is left of `x` after taking out its
 * component at each frequency. `x` holds exactly one second, so whole-hertz tones are orthogonal.
 */
function residualDb(x: Int16Array, freqs: number[], rate: number): number {
  const fit = new Float64Array(x.length);
  for (const f of freqs) {
    let c = 0;
    let s = 0;
    for (let i = 0; i < x.length; i++) {
      c += x[i] * Math.cos((2 * Math.PI * f * i) / rate);
      s += x[i] * Math.sin((2 * Math.PI * f * i) / rate);
    }
    for (let i = 0; i < x.length; i++)
      fit[i] +=
        (2 / x.length) *
        (c * Math.cos((2 * Math.PI * f * i) / rate) + s * Math.sin((2 * Math.PI * f * i) / rate));
  }
  let residual = 0;
  let tones = 0;
  for (let i = 0; i < x.length; i++) {
    residual += (x[i] - fit[i]) ** 2;
    tones += fit[i] ** 2;
  }
  return 10 * Math.log10(residual / tones);
}

/** Peak amplitude of a sine at `db` dBFS. */
function amplitudeAt(db: number): number {
  return Math.round(32768 * 10 ** (db / 20));
}

describe('conference mixer (WASM) against the TypeScript reference', () => {
  let k: WasmKernels;
  beforeAll(() => {
    k = new WasmKernels();
  });
  afterAll(() => k.close());

  for (const rate of [8000, 16000] as const) {
    for (const nParties of [1, 2, 3, 50, 1000]) {
      it(`is sample-exact for ${nParties} parties at ${rate} Hz (random gains and listen gains, listeners, muted, prompts, announcement, gains changing between frames)`, () => {
        const frames = nParties === 1000 ? 2 : 3;
        expect(runRoom(k, 1000 * nParties + rate, nParties, rate, 6000, true, frames)).toBe(
          frames * nParties * (rate / 50)
        );
      });
    }
    it(`is sample-exact at ${rate} Hz when 50 full-scale talkers saturate, with and without the limiter`, () => {
      expect(runRoom(k, 77 + rate, 50, rate, 32767, true)).toBeGreaterThan(0);
      expect(runRoom(k, 78 + rate, 50, rate, 32767, false)).toBeGreaterThan(0);
    });
    it(`is sample-exact at ${rate} Hz while the limiter attacks and releases (loud and quiet frames in turn)`, () => {
      const levels = [500, 3000, 12000, 32767, 32767, 9000, 2000, 800, 20000, 300, 300, 300, 300];
      expect(runRoom(k, 79 + rate, 12, rate, (f) => levels[f % levels.length], true, 40)).toBe(
        40 * 12 * (rate / 50)
      );
    });
  }

  it('saturates to int16 without the limiter; with it, no sample goes over the ceiling', () => {
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
      return new Set(l16Samples(k.outputPayload(listener), 320));
    };
    k.setSoftLimiter(room, false);
    // Their first frame in the room fades in (assembly/mixer.ts).
    feed(0);
    expect(feed(12000)).toEqual(new Set([32767]));
    expect(feed(-12000)).toEqual(new Set([-32768]));
    expect(feed(5000)).toEqual(new Set([20000]));
    k.setSoftLimiter(room, true);
    expect(feed(5000)).toEqual(new Set([20000]));
    // 48000 at once: the whole frame at the gain that brings it under the ceiling.
    const limited = [...feed(12000)];
    expect(limited).toHaveLength(1);
    expect(limited[0]).toBeLessThanOrEqual(LIMITER_CEILING);
    expect(limited[0]).toBeGreaterThan(LIMITER_CEILING - 8);
    expect(Math.max(...[...feed(-12000)].map(Math.abs))).toBeLessThanOrEqual(LIMITER_CEILING);
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
    // Twice: the first frame in the room fades in (assembly/mixer.ts).
    for (let f = 0; f < 2; f++) {
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
    }
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

  it('a talker that leaves fades out over the next frame; one that comes back at once does not hear its tail', () => {
    const room = k.createRoom(16000);
    k.setSoftLimiter(room, false);
    const talker = k.createParty('L16');
    const listener = k.createParty('L16');
    k.addParty(room, talker);
    k.addParty(room, listener);
    k.setTalker(talker, true);
    k.setGainDb(talker, -6);
    const gain = gainQ14FromDb(-6);
    const sample = (j: number): number => 8000 - 50 * j;
    const frame = (): number[] => {
      fillL16(k, talker, sample);
      k.setInput(talker, 640);
      k.setInput(listener, INPUT_SILENT);
      k.processRoom(room);
      return l16Samples(k.outputPayload(listener), 320);
    };
    frame();
    expect(frame()[319]).toBe(contribution(sample(319), gain));
    k.removeParty(room, talker);
    // Its last frame backwards from where it stopped, the gain ramping to 0 over 256 samples, once.
    const tail = Array.from({ length: 320 }, (_, i) =>
      contribution(sample(319 - i), rampGain(gain, 0, i, 320))
    );
    expect(frame()).toEqual(tail);
    expect(frame().every((v) => v === 0)).toBe(true);
    // Out and back in before the next frame: the tail is dropped, so nobody hears the talker twice.
    frame();
    k.addParty(room, talker);
    frame();
    k.removeParty(room, talker);
    k.addParty(room, talker);
    k.setInput(listener, INPUT_SILENT);
    k.setInput(talker, INPUT_SILENT);
    k.processRoom(room);
    expect(Array.from(k.outputPayload(talker).subarray(0, 640)).every((b) => b === 0)).toBe(true);
    expect(Array.from(k.outputPayload(listener).subarray(0, 640)).every((b) => b === 0)).toBe(true);
    k.destroyRoom(room);
    k.destroyParty(talker);
    k.destroyParty(listener);
  });

  it('a talker that leaves as another joins in the same frame still fades out, heard by the joiner, not by itself', () => {
    const room = k.createRoom(16000);
    k.setSoftLimiter(room, false);
    const talker = k.createParty('L16');
    const listener = k.createParty('L16');
    const joiner = k.createParty('L16');
    k.addParty(room, talker);
    k.addParty(room, listener);
    k.setTalker(talker, true);
    const sample = (j: number): number => 8000 - 50 * j;
    const pcm = (p: number): number[] => l16Samples(k.outputPayload(p), 320);
    const frame = (): void => {
      fillL16(k, talker, sample);
      k.setInput(talker, 640);
      k.setInput(listener, INPUT_SILENT);
      k.setInput(joiner, INPUT_SILENT);
      k.processRoom(room);
    };
    frame();
    frame();
    const tail = Array.from({ length: 320 }, (_, i) =>
      contribution(sample(319 - i), rampGain(UNITY_GAIN_Q14, 0, i, 320))
    );
    // Leaves, and a silent party joins before the next frame: the tail was dropped, a cut of 8,000.
    k.removeParty(room, talker);
    k.addParty(room, joiner);
    frame();
    expect(pcm(listener)).toEqual(tail);
    expect(pcm(joiner)).toEqual(tail);
    k.removeParty(room, joiner);
    k.addParty(room, talker);
    frame();
    frame();
    // Leaves as another joins, and comes back in the same frame: it must not hear itself, nobody hears it twice.
    k.removeParty(room, talker);
    k.addParty(room, joiner);
    k.addParty(room, talker);
    k.setInput(talker, INPUT_SILENT);
    k.setInput(listener, INPUT_SILENT);
    k.setInput(joiner, INPUT_SILENT);
    k.processRoom(room);
    for (const p of [talker, listener, joiner]) expect(pcm(p).every((v) => v === 0)).toBe(true);
    k.destroyRoom(room);
    for (const p of [talker, listener, joiner]) k.destroyParty(p);
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

describe('the output limiter', () => {
  let k: WasmKernels;
  beforeAll(() => {
    k = new WasmKernels();
  });
  afterAll(() => k.close());

  /** Listener's output over 1.5 s of `tones`; the last second for analysis, and the peak of all of it. */
  function listen(tones: { hz: number; amplitude: number }[]): { last: Int16Array; peak: number } {
    const room = toneRoom(k, tones);
    const all = new Int16Array(75 * 320);
    for (let f = 0; f < 75; f++) all.set(room.frame(), f * 320);
    room.close();
    return { last: all.subarray(all.length - 16000), peak: Math.max(...all.map(Math.abs)) };
  }

  // The audio review's talkers (350 Hz + 150 Hz steps), and a set of frequencies with no common
  // period: the frame peak varies from frame to frame, so the gain moves.
  for (const [name, freqs, residualLimitDb] of [
    ['350 + 150·i Hz', Array.from({ length: 10 }, (_, i) => 350 + 150 * i), -40],
    ['without a common period', [312, 497, 731, 1013, 1289, 1553, 1871, 2203, 2477, 2791], -19]
  ] as const) {
    for (const talkers of [5, 10]) {
      it(`${talkers} talkers at -3 dBFS (${name}): no sample at the ceiling, distortion ${-residualLimitDb} dB down`, () => {
        const tones = freqs.slice(0, talkers).map((hz) => ({ hz, amplitude: amplitudeAt(-3) }));
        const { last, peak } = listen(tones);
        // Without the limiter's gain the static knee and int16 saturation left 8-25 % of the
        // samples at ±32767 and the residual at -4 to -10 dB.
        expect(peak).toBeLessThanOrEqual(LIMITER_CEILING);
        expect(
          residualDb(
            last,
            tones.map((t) => t.hz),
            16000
          )
        ).toBeLessThan(residualLimitDb);
      });
    }
  }

  for (const db of [-3, -1.5]) {
    it(`passes a lone talker at ${db} dBFS unchanged, sample for sample`, () => {
      const room = toneRoom(k, [{ hz: 1000, amplitude: amplitudeAt(db) }]);
      room.frame(); // its first frame in the room fades in
      for (let f = 0; f < 50; f++) expect(Array.from(room.frame())).toEqual(Array.from(room.sent));
      room.close();
    });
  }

  it("restores a quiet talker's level exactly within 160 ms after the loud talkers stop", () => {
    const tones = [
      { hz: 1000, amplitude: amplitudeAt(-20) },
      ...[350, 500, 650, 800].map((hz) => ({ hz, amplitude: amplitudeAt(-3) }))
    ];
    const room = toneRoom(k, tones);
    for (let f = 0; f < 50; f++) {
      const out = room.frame();
      expect(Math.max(...out.map(Math.abs))).toBeLessThanOrEqual(LIMITER_CEILING);
    }
    for (const t of tones.slice(1)) t.amplitude = 0;
    const exact: boolean[] = [];
    for (let f = 0; f < 20; f++) {
      const out = room.frame();
      exact.push(out.every((x, j) => x === room.sent[j]));
    }
    // Released over a few frames (no jump back to unity), unity from the 9th frame (160 ms) on.
    expect(exact.slice(0, 2)).toEqual([false, false]);
    expect(exact.slice(8)).toEqual(Array(12).fill(true));
    room.close();
  });
});
