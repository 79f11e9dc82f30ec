/**
 * Spectral flatness (Wiener entropy: geometric over arithmetic mean of the magnitude spectrum)
 * of one analysis window, computed by `meyda`. Near 0 for harmonic sounds such as voiced speech,
 * near 0.85 for white noise; the talker detector uses it to refuse broadband noise as a talker.
 *
 * meyda keeps its settings on one shared module object (`bufferSize`, `sampleRate`,
 * `windowingFunction`), so every call sets them first: another user of meyda in the process
 * cannot leave it in a state that changes our result. meyda always sees 256 samples at 8 kHz,
 * so it never rebuilds its Bark/Mel tables when 8 and 16 kHz detectors alternate. Its windowing
 * is `rect` (no copy, no taper) because the Hann taper is applied here, into a buffer that is
 * allocated once.
 *
 * Cost: meyda's FFT (fftjs) allocates objects per butterfly, about 18 us and some tens of KB of
 * garbage per call on a 256-sample window (measured in bench/suites/talker.ts), which is why the
 * detector calls this only while deciding whether a talker has started, never per frame.
 */
import meyda from 'meyda';

/** The part of meyda's settings object used here. */
interface MeydaSettings {
  bufferSize: number;
  sampleRate: number;
  windowingFunction: string;
  extract(feature: 'spectralFlatness', signal: Float32Array): unknown;
}

// meyda ships ESM declarations for a CommonJS module (`module.exports = Meyda`): under NodeNext
// the default import is the Meyda object at run time but is typed as the module namespace.
const Meyda = meyda as unknown as MeydaSettings;

/** Samples meyda analyses (it requires a power of two): 32 ms at 8 kHz. */
export const FLATNESS_WINDOW_SAMPLES = 256;

/**
 * Hann taper, applied here into a preallocated buffer rather than by meyda (whose 'hanning'
 * option builds a new JS array per call). Without a taper, the rectangular window's -13 dB
 * sidelobes smear a harmonic spectrum and lift voiced speech to the flatness of noise.
 */
const HANN = new Float32Array(FLATNESS_WINDOW_SAMPLES);
for (let i = 0; i < FLATNESS_WINDOW_SAMPLES; i++)
  HANN[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FLATNESS_WINDOW_SAMPLES);
const tapered = new Float32Array(FLATNESS_WINDOW_SAMPLES);

/** Input samples the analysis needs at a rate: 32 ms, 256 at 8 kHz and 512 at 16 kHz. */
export function flatnessInputSamples(sampleRateHz: 8000 | 16000): number {
  return sampleRateHz === 8000 ? FLATNESS_WINDOW_SAMPLES : 2 * FLATNESS_WINDOW_SAMPLES;
}

/**
 * Spectral flatness of the 0-4 kHz band of `input` (the last 32 ms of signal, length
 * {@link flatnessInputSamples}; any scale, the measure is scale-invariant). At 16 kHz the input
 * is decimated by 2 (pair averages) first: a 256-sample window at 16 kHz lasts only 16 ms, too
 * short to resolve the harmonics of a voice, which then reads as flat as noise; it also keeps
 * both rates on meyda's one 256-sample setting. Returns NaN for an all-zero window.
 */
export function spectralFlatness(input: Float32Array, sampleRateHz: 8000 | 16000): number {
  if (sampleRateHz === 8000) {
    for (let i = 0; i < FLATNESS_WINDOW_SAMPLES; i++) tapered[i] = input[i] * HANN[i];
  } else {
    for (let i = 0; i < FLATNESS_WINDOW_SAMPLES; i++)
      tapered[i] = (input[2 * i] + input[2 * i + 1]) * HANN[i];
  }
  Meyda.bufferSize = FLATNESS_WINDOW_SAMPLES;
  Meyda.sampleRate = 8000;
  Meyda.windowingFunction = 'rect';
  const value = Meyda.extract('spectralFlatness', tapered);
  return typeof value === 'number' ? value : Number.NaN;
}
