/**
 * Signal generators for the DTMF conformance battery: a seeded PRNG, DTMF digits with chosen
 * level, twist and frequency error, white noise at a given SNR, and talk-off material
 * (vowel-like harmonic signals, music-like note sequences). Levels are in dBm0 with 0 dBm0 a
 * sine of 22 776 peak in 16-bit linear (G.711's +3.14 dBm0 full scale, ITU-T G.711 Table 2a).
 */
import { mulberry32 as dtmfPrng } from './prng.js';
export { dtmfPrng };

export const DTMF_ROW_HZ = [697, 770, 852, 941] as const;
export const DTMF_COL_HZ = [1209, 1336, 1477, 1633] as const;
export const DTMF_DIGITS = '123A456B789C*0#D';

const DBM0_PEAK = 22776;

/** Peak amplitude of a sine at `dbm0`. */
export function amplitudeAt(dbm0: number): number {
  return DBM0_PEAK * 10 ** (dbm0 / 20);
}

/** Standard normal deviates from a uniform PRNG (Box-Muller). */
export function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

export interface ToneOptions {
  sampleRateHz?: number;
  durationMs: number;
  /** Level of the low-group tone, dBm0 (default -10). */
  lowDbm0?: number;
  /** Level of the high-group tone minus the low-group one, dB (> 0: high group louder). */
  twistDb?: number;
  /** Relative frequency error of the low and high tone (0.015 = +1.5 %). */
  lowDeviation?: number;
  highDeviation?: number;
  /** Starting phases in radians (random ones come from the caller's PRNG). */
  lowPhase?: number;
  highPhase?: number;
}

/** Float samples of one DTMF digit. */
export function dtmfTone(digit: string, o: ToneOptions): Float64Array {
  const index = DTMF_DIGITS.indexOf(digit);
  if (index < 0) throw new RangeError(`'${digit}' is not a DTMF digit`);
  const rate = o.sampleRateHz ?? 8000;
  const n = Math.round((o.durationMs * rate) / 1000);
  const fl = DTMF_ROW_HZ[index >> 2] * (1 + (o.lowDeviation ?? 0));
  const fh = DTMF_COL_HZ[index & 3] * (1 + (o.highDeviation ?? 0));
  const al = amplitudeAt(o.lowDbm0 ?? -10);
  const ah = al * 10 ** ((o.twistDb ?? 0) / 20);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      al * Math.sin((2 * Math.PI * fl * i) / rate + (o.lowPhase ?? 0)) +
      ah * Math.sin((2 * Math.PI * fh * i) / rate + (o.highPhase ?? 0));
  }
  return out;
}

/** One piece of a test signal: a digit or silence, with where it lands. */
export interface Segment {
  digit?: string;
  startSample: number;
  samples: number;
}

/** Builds a float signal from digits and pauses; returns it with the digit segments. */
export class SignalBuilder {
  private readonly parts: Float64Array[] = [];
  private length = 0;
  readonly segments: Segment[] = [];

  constructor(readonly sampleRateHz = 8000) {}

  silence(ms: number): this {
    const n = Math.round((ms * this.sampleRateHz) / 1000);
    this.parts.push(new Float64Array(n));
    this.length += n;
    return this;
  }

  digit(digit: string, o: Omit<ToneOptions, 'sampleRateHz'>): this {
    const tone = dtmfTone(digit, { ...o, sampleRateHz: this.sampleRateHz });
    this.segments.push({ digit, startSample: this.length, samples: tone.length });
    this.parts.push(tone);
    this.length += tone.length;
    return this;
  }

  samples(x: Float64Array): this {
    this.parts.push(x);
    this.length += x.length;
    return this;
  }

  build(): Float64Array {
    const out = new Float64Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Adds white Gaussian noise whose power is `snrDb` below `signalPower` (mean square). */
export function addNoise(
  x: Float64Array,
  signalPower: number,
  snrDb: number,
  rand: () => number
): Float64Array {
  const g = gaussian(rand);
  const sigma = Math.sqrt(signalPower / 10 ** (snrDb / 10));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + sigma * g();
  return out;
}

/** Mean square of a DTMF digit with low tone at `lowDbm0` and `twistDb`. */
export function dtmfPower(lowDbm0: number, twistDb = 0): number {
  const al = amplitudeAt(lowDbm0);
  const ah = al * 10 ** (twistDb / 20);
  return (al * al + ah * ah) / 2;
}

/** Rounds and saturates to 16-bit PCM. */
export function toPcm16(x: Float64Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i])));
  return out;
}

/**
 * A vowel-like signal: harmonics of a gliding f0 (with vibrato) shaped by two or three formant
 * resonances, the way voiced speech is built; `seconds` long, about `dbm0` loud.
 */
export function vowelLike(
  rand: () => number,
  seconds: number,
  sampleRateHz = 8000,
  dbm0 = -12
): Float64Array {
  const n = Math.round(seconds * sampleRateHz);
  const out = new Float64Array(n);
  const f0a = 85 + 180 * rand();
  const f0b = f0a * (0.8 + 0.4 * rand());
  const formants = [300 + 600 * rand(), 900 + 1400 * rand(), 2200 + 800 * rand()];
  const widths = [80, 120, 200];
  const vibratoHz = 4 + 3 * rand();
  const harmonics = Math.floor(3600 / Math.max(f0a, f0b));
  const amps = new Float64Array(harmonics + 1);
  let phase = 0;
  let peak = 0;
  const phases = Array.from({ length: harmonics + 1 }, () => 2 * Math.PI * rand());
  for (let i = 0; i < n; i++) {
    const t = i / n;
    const f0 = (f0a + (f0b - f0a) * t) * (1 + 0.02 * Math.sin(2 * Math.PI * vibratoHz * (i / sampleRateHz)));
    phase += (2 * Math.PI * f0) / sampleRateHz;
    let s = 0;
    for (let h = 1; h <= harmonics; h++) {
      const fh = h * f0;
      if (fh > sampleRateHz / 2 - 200) break;
      // Vocal-tract resonances (magnitude of a second-order peak of bandwidth B) on a glottal
      // source falling 6 dB per octave.
      let a = 0;
      for (let k = 0; k < 3; k++)
        a += 1 / Math.sqrt(1 + ((2 * (fh - formants[k])) / widths[k]) ** 2) / (k + 1);
      amps[h] = a / h;
      s += a * Math.sin(h * phase + phases[h]);
    }
    out[i] = s;
    peak = Math.max(peak, Math.abs(s));
  }
  const rms = Math.sqrt(out.reduce((acc, v) => acc + v * v, 0) / n);
  const gain = amplitudeAt(dbm0) / Math.SQRT2 / rms;
  for (let i = 0; i < n; i++) out[i] *= gain;
  return out;
}

/**
 * Music-like material: a sequence of notes (equal-tempered, random), each a few harmonics with
 * decaying envelope, sometimes two notes at once, which can land near DTMF pairs.
 */
export function musicLike(
  rand: () => number,
  seconds: number,
  sampleRateHz = 8000,
  dbm0 = -12
): Float64Array {
  const n = Math.round(seconds * sampleRateHz);
  const out = new Float64Array(n);
  let at = 0;
  while (at < n) {
    const len = Math.round((0.08 + 0.3 * rand()) * sampleRateHz);
    const voices = rand() < 0.5 ? 1 : 2;
    for (let v = 0; v < voices; v++) {
      const note = Math.floor(rand() * 36) - 12; // around A4 = 440 Hz
      const f0 = 440 * 2 ** (note / 12);
      const hs = 2 + Math.floor(rand() * 3);
      const ph = 2 * Math.PI * rand();
      for (let i = 0; i < len && at + i < n; i++) {
        const env = Math.exp((-3 * i) / len);
        let s = 0;
        for (let h = 1; h <= hs; h++) {
          if (h * f0 < sampleRateHz / 2)
            s += Math.sin((2 * Math.PI * h * f0 * i) / sampleRateHz + ph * h) / h;
        }
        out[at + i] += env * s;
      }
    }
    at += len;
  }
  const rms = Math.sqrt(out.reduce((acc, v) => acc + v * v, 0) / n) || 1;
  const gain = amplitudeAt(dbm0) / Math.SQRT2 / rms;
  for (let i = 0; i < n; i++) out[i] *= gain;
  return out;
}
