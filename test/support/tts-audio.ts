/**
 * Audio measurements for the tts tests: frame-wise features with meyda (RMS with a rectangular
 * window so it is the true RMS, spectral centroid, zero-crossing rate, spectral flatness), a
 * seeded white-noise generator and a zero-crossing frequency estimate.
 */
import MeydaImport from 'meyda';
import { mulberry32 as seededRandom } from './prng.js';
export { seededRandom };

interface MeydaApi {
  bufferSize: number;
  sampleRate: number;
  windowingFunction: string;
  extract(features: string[], signal: Float32Array): Record<string, number>;
}
/** meyda's bundled types describe its ESM build; under NodeNext the CJS default import is the Meyda object. */
const Meyda = ((MeydaImport as unknown as { default?: MeydaApi }).default ??
  MeydaImport) as unknown as MeydaApi;

export interface SpeechFeatures {
  durationS: number;
  /** Share of frames louder than -40 dBFS. */
  voicedShare: number;
  /** Median spectral flatness of the loud frames (0 = tonal, 1 = white noise). */
  flatnessMedian: number;
  /** Standard deviation of per-frame RMS in dB over loud frames: speech varies, steady noise does not. */
  rmsDbSpread: number;
  /** Median spectral centroid of loud frames in Hz. */
  centroidHzMedian: number;
  /** Median zero-crossing rate (crossings per frame) of loud frames. */
  zcrMedian: number;
}

const FRAME = 256;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function speechFeatures(pcm: Int16Array, sampleRateHz: number): SpeechFeatures {
  Meyda.bufferSize = FRAME;
  Meyda.sampleRate = sampleRateHz;
  Meyda.windowingFunction = 'rect';
  const loudDb: number[] = [];
  const flatness: number[] = [];
  const centroids: number[] = [];
  const zcrs: number[] = [];
  let frames = 0;
  const buffer = new Float32Array(FRAME);
  for (let start = 0; start + FRAME <= pcm.length; start += FRAME) {
    for (let i = 0; i < FRAME; i++) buffer[i] = pcm[start + i] / 32768;
    const f = Meyda.extract(['rms', 'spectralFlatness', 'spectralCentroid', 'zcr'], buffer) as {
      rms: number;
      spectralFlatness: number;
      spectralCentroid: number;
      zcr: number;
    };
    frames++;
    const db = 20 * Math.log10(f.rms + 1e-12);
    if (db > -40) {
      loudDb.push(db);
      flatness.push(f.spectralFlatness);
      centroids.push((f.spectralCentroid * sampleRateHz) / FRAME);
      zcrs.push(f.zcr);
    }
  }
  const mean = loudDb.reduce((a, b) => a + b, 0) / Math.max(1, loudDb.length);
  const spread = Math.sqrt(loudDb.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, loudDb.length));
  return {
    durationS: pcm.length / sampleRateHz,
    voicedShare: frames === 0 ? 0 : loudDb.length / frames,
    flatnessMedian: median(flatness),
    rmsDbSpread: spread,
    centroidHzMedian: median(centroids),
    zcrMedian: median(zcrs)
  };
}

export function whiteNoise(samples: number, amplitude: number, seed = 1): Int16Array {
  const random = seededRandom(seed);
  const out = new Int16Array(samples);
  for (let i = 0; i < samples; i++) out[i] = Math.round((random() * 2 - 1) * amplitude);
  return out;
}

/** Frequency of a steady tone from its zero crossings. */
export function toneFrequencyHz(pcm: Int16Array, sampleRateHz: number): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if (pcm[i - 1] < 0 !== pcm[i] < 0) crossings++;
  return (crossings / 2) * (sampleRateHz / pcm.length);
}

export function rms(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return Math.sqrt(sum / Math.max(1, pcm.length));
}

/** Median fundamental frequency (autocorrelation, 60-400 Hz) over loud frames. */
export function medianF0Hz(pcm: Int16Array, sampleRateHz: number): number {
  const frame = Math.round(sampleRateHz * 0.04);
  const minLag = Math.floor(sampleRateHz / 400);
  const maxLag = Math.ceil(sampleRateHz / 60);
  const estimates: number[] = [];
  for (let start = 0; start + frame + maxLag <= pcm.length; start += frame) {
    let energy = 0;
    for (let i = 0; i < frame; i++) energy += pcm[start + i] * pcm[start + i];
    if (Math.sqrt(energy / frame) < 1000) continue;
    let bestLag = 0;
    let best = 0;
    for (let lag = minLag; lag <= maxLag; lag++) {
      let sum = 0;
      for (let i = 0; i < frame; i++) sum += pcm[start + i] * pcm[start + i + lag];
      if (sum > best) {
        best = sum;
        bestLag = lag;
      }
    }
    // Voiced frames only: a strong periodic peak.
    if (bestLag > 0 && best > 0.5 * energy) estimates.push(sampleRateHz / bestLag);
  }
  return median(estimates);
}
