/** The polyphase resampler for long audio: exact length, a clean tone in the band, aliases stopped. */
import { describe, expect, it } from 'vitest';
import { resamplePolyphase } from '../../tts/polyphase-resampler.js';

function tone(hz: number, rateHz: number, samples: number): Float32Array {
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / rateHz);
  return out;
}

/** Signal-to-error ratio in dB of `got` against `ideal`, away from the edges. */
function snrDb(ideal: Float32Array, got: Float32Array, skip: number): number {
  let signal = 0;
  let error = 0;
  for (let i = skip; i < ideal.length - skip; i++) {
    signal += ideal[i] ** 2;
    error += (ideal[i] - got[i]) ** 2;
  }
  return 10 * Math.log10(signal / error);
}

function powerDb(samples: Float32Array, skip: number): number {
  let sum = 0;
  for (let i = skip; i < samples.length - skip; i++) sum += samples[i] ** 2;
  return 10 * Math.log10(sum / (samples.length - 2 * skip) / 0.125);
}

const PAIRS: [number, number][] = [
  [1000, 16000],
  [8000, 16000],
  [16000, 8000],
  [22050, 8000],
  [22050, 16000],
  [44100, 8000],
  [44100, 16000],
  [48000, 8000],
  [48000, 16000],
  [11025, 16000],
  // No common factor with the output: phases are rounded to the nearest of 4096.
  [44099, 8000]
];

describe('resamplePolyphase', () => {
  for (const [from, to] of PAIRS) {
    it(`converts ${from} Hz to ${to} Hz: a tone in the band comes out at least 65 dB clean`, () => {
      for (const hz of [Math.min(440, from / 4), 0.375 * Math.min(from, to)]) {
        const out = resamplePolyphase(tone(hz, from, 2 * from), from, to);
        expect(out.length).toBe(2 * to);
        expect(snrDb(tone(hz, to, 2 * to), out, to / 10)).toBeGreaterThan(65);
      }
    });
  }

  it('stops what the output rate cannot hold instead of folding it into the band', () => {
    for (const [from, to] of PAIRS.filter(([f, t]) => f > t)) {
      // 0.6 of the output rate would alias to 0.4 of it: it must be 70 dB down.
      const out = resamplePolyphase(tone(0.6 * to, from, from), from, to);
      expect(powerDb(out, to / 10)).toBeLessThan(-70);
    }
  });

  it('stops what a half-band stage would fold into the band', () => {
    for (const [from, to] of PAIRS.filter(([f, t]) => f >= 2.5 * t)) {
      // Halved, from / 2 - 0.4 * to would land on 0.4 of the output rate, inside the band.
      const out = resamplePolyphase(tone(from / 2 - 0.4 * to, from, from), from, to);
      expect(powerDb(out, to / 10)).toBeLessThan(-65);
    }
  });

  it('keeps the level of DC and the exact length of odd inputs', () => {
    const ones = new Float32Array(44101).fill(0.25);
    const out = resamplePolyphase(ones, 44100, 8000);
    expect(out.length).toBe(Math.round((44101 * 8000) / 44100));
    expect(out[4000]).toBeCloseTo(0.25, 5);
  });
});
