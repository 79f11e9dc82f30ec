/**
 * Seeded synthetic test signals for the talker detector: speech-like harmonic vowels with a
 * syllable-rate envelope, white noise, mains hum and silence, as 16-bit PCM at 8 or 16 kHz.
 * Deterministic for a given seed so tests and benchmarks see the same samples on every run.
 */
import { mulberry32 as prng } from '../support/prng.js';
export { prng };

/** Peak amplitude (of 32767) that gives a sine this RMS level in dBFS (full-scale sine = -3.01). */
function rmsToLinear(levelDbfs: number): number {
  return 32768 * Math.pow(10, levelDbfs / 20);
}

function toInt16(x: Float64Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i])));
  return out;
}

/** Formant frequencies (F1, F2, F3 in Hz) of a few vowels. */
const VOWELS: ReadonlyArray<readonly [number, number, number]> = [
  [730, 1090, 2440], // a
  [270, 2290, 3010], // i
  [300, 870, 2240], // u
  [530, 1840, 2480], // e
  [570, 840, 2410] // o
];

export interface SpeechOptions {
  sampleRateHz: number;
  seed: number;
  /** Words as syllable counts, e.g. [2, 3, 1]. */
  words: number[];
  /** Silence between words in ms. */
  pauseMs: number;
  /** RMS level of the voiced parts in dBFS (approximate). */
  levelDbfs?: number;
  /** Silence before the first word and after the last, in ms. */
  leadMs?: number;
  trailMs?: number;
}

/**
 * Speech-like signal: each syllable is a harmonic vowel (F0 100-220 Hz with a slow glide,
 * harmonics shaped by three formant resonances) under a raised-cosine envelope 150-280 ms long,
 * so the envelope moves at a syllable rate of about 4-6 Hz, as in running speech.
 */
export function speechLike(o: SpeechOptions): Int16Array {
  const rand = prng(o.seed);
  const fs = o.sampleRateHz;
  const lead = Math.round(((o.leadMs ?? 0) * fs) / 1000);
  const trail = Math.round(((o.trailMs ?? 0) * fs) / 1000);
  const pause = Math.round((o.pauseMs * fs) / 1000);
  const parts: Float64Array[] = [new Float64Array(lead)];
  const target = rmsToLinear(o.levelDbfs ?? -20) / Math.SQRT2;
  for (let w = 0; w < o.words.length; w++) {
    if (w > 0) parts.push(new Float64Array(pause));
    for (let s = 0; s < o.words[w]; s++) {
      const n = Math.round(((150 + rand() * 130) * fs) / 1000);
      const f0Start = 100 + rand() * 120;
      const f0End = f0Start * (0.85 + rand() * 0.3);
      const [f1, f2, f3] = VOWELS[Math.floor(rand() * VOWELS.length)];
      const syl = new Float64Array(n);
      let phase = 0;
      for (let i = 0; i < n; i++) {
        const f0 = f0Start + ((f0End - f0Start) * i) / n;
        phase += (2 * Math.PI * f0) / fs;
        let v = 0;
        for (let h = 1; h * f0 < fs / 2 - 100; h++) {
          const f = h * f0;
          // Resonance gain of each formant (bandwidth ~ 80-120 Hz), summed.
          const g =
            1 / (1 + ((f - f1) / 90) ** 2) +
            0.6 / (1 + ((f - f2) / 110) ** 2) +
            0.3 / (1 + ((f - f3) / 150) ** 2);
          v += (g + 0.02) * Math.sin(h * phase);
        }
        // Raised-cosine syllable envelope.
        syl[i] = v * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
      }
      let sumSq = 0;
      for (let i = 0; i < n; i++) sumSq += syl[i] * syl[i];
      // Normalise so the envelope peak region sits near the requested RMS.
      const scale = target / Math.sqrt((sumSq / n) * 1.5 + 1e-12);
      for (let i = 0; i < n; i++) syl[i] *= scale * Math.SQRT2;
      parts.push(syl);
    }
  }
  parts.push(new Float64Array(trail));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float64Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return toInt16(out);
}

/** Gaussian white noise at an RMS level in dBFS. */
export function whiteNoise(
  sampleRateHz: number,
  durationMs: number,
  levelDbfs: number,
  seed: number
): Int16Array {
  const rand = prng(seed);
  const n = Math.round((durationMs * sampleRateHz) / 1000);
  const sigma = 32768 * Math.pow(10, levelDbfs / 20);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Box-Muller.
    const u = rand() || 1e-12;
    out[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  }
  return toInt16(out);
}

/**
 * Mains hum at `mainsHz` (50 or 60) with its 2nd and 3rd harmonics 10 and 16 dB down, at an
 * RMS level in dBFS.
 */
export function hum(
  sampleRateHz: number,
  durationMs: number,
  levelDbfs: number,
  mainsHz: number
): Int16Array {
  const n = Math.round((durationMs * sampleRateHz) / 1000);
  const a1 = 1;
  const a2 = Math.pow(10, -10 / 20);
  const a3 = Math.pow(10, -16 / 20);
  const rms = Math.sqrt((a1 * a1 + a2 * a2 + a3 * a3) / 2);
  const scale = (32768 * Math.pow(10, levelDbfs / 20)) / rms;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = (2 * Math.PI * mainsHz * i) / sampleRateHz;
    out[i] = scale * (a1 * Math.sin(w) + a2 * Math.sin(2 * w) + a3 * Math.sin(3 * w));
  }
  return toInt16(out);
}

/** A sine at a frequency and RMS level in dBFS. */
export function tone(
  sampleRateHz: number,
  durationMs: number,
  levelDbfs: number,
  freqHz: number
): Int16Array {
  const n = Math.round((durationMs * sampleRateHz) / 1000);
  const amp = 32768 * Math.pow(10, levelDbfs / 20) * Math.SQRT2;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = amp * Math.sin((2 * Math.PI * freqHz * i) / sampleRateHz);
  return toInt16(out);
}

/** Sample-wise saturating sum of signals (the result has the length of the longest). */
export function mix(...signals: Int16Array[]): Int16Array {
  const n = Math.max(...signals.map((s) => s.length));
  const out = new Float64Array(n);
  for (const s of signals) for (let i = 0; i < s.length; i++) out[i] += s[i];
  return toInt16(out);
}

/** Concatenation of signals. */
export function concat(...signals: Int16Array[]): Int16Array {
  const out = new Int16Array(signals.reduce((a, s) => a + s.length, 0));
  let at = 0;
  for (const s of signals) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}

/** 20 ms frames of a signal (views, no copy); a short tail is dropped. */
export function frames(signal: Int16Array, sampleRateHz: number): Int16Array[] {
  const n = sampleRateHz / 50;
  const out: Int16Array[] = [];
  for (let at = 0; at + n <= signal.length; at += n) out.push(signal.subarray(at, at + n));
  return out;
}
