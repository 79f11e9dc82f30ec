/** Random PCM helpers for reproducible DSP tests, on the shared seeded PRNG. */
import { mulberry32 } from './prng.js';
export { mulberry32 };

/** Uniform integer in [lo, hi]. */
export function randomInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** n random int16 samples with peak `amplitude` (32767 for full-scale noise). */
export function randomPcm(rand: () => number, n: number, amplitude: number): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = randomInt(rand, -amplitude, amplitude);
  return out;
}

/** A sine at freqHz sampled at rateHz from sample index start. */
export function sine(n: number, freqHz: number, rateHz: number, amplitude: number, start = 0): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * (start + i)) / rateHz));
  return out;
}
