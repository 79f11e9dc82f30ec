/**
 * Sample-rate conversion of prompt audio with libsamplerate (Erik de Castro Lopo's band-limited
 * sinc converter, compiled to WebAssembly by `@alexanderolsen/libsamplerate-js`).
 *
 * The library loads asynchronously, once per thread (`loadResampler()`); afterwards
 * `resampleFloat` is synchronous. Prompts are converted whole, once, off the frame clock's turn
 * (in the synthesis worker): this is not a per-frame path.
 *
 * The package's own `simple()` cannot be used: its WebAssembly side exchanges samples through two
 * fixed buffers of `GLUE_BUFFER_FLOATS` floats, and for anything longer its JavaScript side falls
 * back to libsamplerate's streaming API in 100 ms pieces, with the converter still in the state a
 * previous `simple()` call left (`end_of_input` set): after the first piece it makes no more
 * audio, so 50 s of eSpeak speech at 22.05 kHz came out as 0.1 s. Here every conversion is driven
 * through the streaming API directly: a fresh converter state, pieces sized so the output always
 * fits the glue's buffer, and the filter's tail flushed with silence, so the output has the
 * input's duration whatever its length.
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { TtsError } from './errors.js';
import { resamplePolyphase } from './polyphase-resampler.js';

type Converter = Awaited<ReturnType<typeof libsamplerate.create>>;

/** SINC_FASTEST still band-limits properly (about 97 dB SNR, 80 % bandwidth): ample for 8/16 kHz telephony. */
const CONVERTER_TYPE = libsamplerate.ConverterType.SRC_SINC_FASTEST;
const RATE_MIN_HZ = 1000;
const RATE_MAX_HZ = 192000;
/** Floats in each of the glue's two exchange buffers (libsamplerate-wrapper.cpp, BUFFER_LEN). */
const GLUE_BUFFER_FLOATS = 1008000;
/**
 * Input samples SINC_FASTEST keeps back, at most, per unit of max(1, fromHz / toHz): half its
 * filter (2464 coefficients at 128 per zero crossing: about 20 input samples), rounded up well.
 */
const FILTER_HALF_SPAN = 64;
/**
 * Conversions that make more samples than this (over 2 minutes at 8 kHz) go to the tabled
 * polyphase filter: libsamplerate's 200 ns or so per output sample made an hour of hold music
 * take 20 s and more. Prompts (and anything shorter) keep libsamplerate's SINC_FASTEST.
 */
const LONG_OUTPUT_SAMPLES = 1_000_000;

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
  if (samples.length * (toHz / fromHz) > LONG_OUTPUT_SAMPLES) return resamplePolyphase(samples, fromHz, toHz);
  if (!converter)
    throw new TtsError('ERR_RESAMPLER_NOT_LOADED', 'call and await loadResampler() before resampling');
  const glue = converter.module;
  const ratio = toHz / fromHz;
  // A fresh state: no history from the previous conversion, and the rate pair set in C.
  glue.destroy();
  glue.init(1, CONVERTER_TYPE, fromHz, toHz);
  // Fetched after init: a memory growth there would have detached earlier views.
  const source = glue.sourceArray(GLUE_BUFFER_FLOATS);
  const target = glue.targetArray(GLUE_BUFFER_FLOATS);
  const wanted = Math.round(samples.length * ratio);
  const out = new Float32Array(wanted);
  // Each piece's output (plus the few samples the filter was holding) fits the target buffer.
  const pieceFrames = Math.min(GLUE_BUFFER_FLOATS, Math.floor((GLUE_BUFFER_FLOATS - 1024) / ratio));
  const tail = Math.ceil(FILTER_HALF_SPAN * Math.max(1, 1 / ratio));
  let written = 0;
  const feed = (frames: number): void => {
    // The glue returns frames made, or libsamplerate's error number, which the fresh state and
    // checked rates rule out.
    const made = glue.full(frames, 1, CONVERTER_TYPE, fromHz, toHz);
    const kept = Math.min(made, wanted - written);
    out.set(target.subarray(0, kept), written);
    written += kept;
  };
  for (let at = 0; at < samples.length && written < wanted; at += pieceFrames) {
    const piece = samples.subarray(at, Math.min(samples.length, at + pieceFrames));
    source.set(piece);
    feed(piece.length);
  }
  // Silence after the end lets the filter emit the samples it was holding back.
  source.fill(0, 0, tail);
  for (let flushes = 0; written < wanted && flushes < 4; flushes++) feed(tail);
  return written === wanted ? out : out.subarray(0, written);
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
