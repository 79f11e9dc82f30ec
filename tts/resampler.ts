/**
 * Sample-rate conversion of prompt audio with libsamplerate (Erik de Castro Lopo's band-limited
 * sinc converter, compiled to WebAssembly by `@alexanderolsen/libsamplerate-js`).
 *
 * The library loads asynchronously, once per thread (`loadResampler()`); afterwards
 * `resamplePcm` is synchronous. One converter state is kept and re-initialised for each rate pair
 * (libsamplerate's `src_delete`/`src_new`), so any pair works without another WebAssembly
 * instance. Prompts are converted whole, once, off the frame clock's turn (in the synthesis
 * worker): this is not a per-frame path.
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { TtsError } from './errors.js';

type Converter = Awaited<ReturnType<typeof libsamplerate.create>>;

/** SINC_FASTEST still band-limits properly (about 97 dB SNR, 80 % bandwidth): ample for 8/16 kHz telephony. */
const CONVERTER_TYPE = libsamplerate.ConverterType.SRC_SINC_FASTEST;
const RATE_MIN_HZ = 1000;
const RATE_MAX_HZ = 192000;

let converter: Converter | undefined;
let loading: Promise<void> | undefined;

/** Loads libsamplerate into this thread. Idempotent; concurrent calls share one load. */
export function loadResampler(): Promise<void> {
  loading ??= libsamplerate.create(1, 16000, 8000, { converterType: CONVERTER_TYPE }).then((created) => {
    converter = created;
  });
  return loading;
}

function checkRate(name: string, hz: number): void {
  if (!Number.isInteger(hz) || hz < RATE_MIN_HZ || hz > RATE_MAX_HZ) {
    throw new TtsError(
      'ERR_INVALID_ARGUMENT',
      `${name} must be an integer between ${RATE_MIN_HZ} and ${RATE_MAX_HZ} Hz, got ${hz}`
    );
  }
}

/** Converts mono float audio (-1..1) from one rate to another; returns the input when the rates match. */
export function resampleFloat(samples: Float32Array, fromHz: number, toHz: number): Float32Array {
  checkRate('fromHz', fromHz);
  checkRate('toHz', toHz);
  if (fromHz === toHz || samples.length === 0) return samples;
  if (!converter)
    throw new TtsError('ERR_RESAMPLER_NOT_LOADED', 'call and await loadResampler() before resampling');
  if (converter.inputSampleRate !== fromHz) converter.inputSampleRate = fromHz;
  if (converter.outputSampleRate !== toHz) converter.outputSampleRate = toHz;
  // The setters re-initialise the C state but not the JS-side ratio used to size chunks.
  converter.ratio = toHz / fromHz;
  return converter.simple(samples);
}

/** Scales float samples to int16 with rounding and saturation. */
export function floatToInt16(samples: Float32Array): Int16Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i] * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

export function int16ToFloat(pcm: Int16Array): Float32Array {
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 32768;
  return out;
}

/**
 * Converts 16-bit mono PCM between rates with libsamplerate (e.g. a 22.05 kHz voice to an 8 kHz
 * room). Synchronous; throws `TtsError('ERR_RESAMPLER_NOT_LOADED')` until `loadResampler()` resolved.
 */
export function resamplePcm(pcm: Int16Array, fromHz: number, toHz: number): Int16Array {
  if (fromHz === toHz) {
    checkRate('fromHz', fromHz);
    return pcm;
  }
  return floatToInt16(resampleFloat(int16ToFloat(pcm), fromHz, toHz));
}
