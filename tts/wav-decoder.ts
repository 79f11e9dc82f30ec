/**
 * Decodes a WAV file's bytes to mono float samples with `wavefile`: PCM 8 (unsigned), 16, 24 and
 * 32-bit integer, 32-bit IEEE float, G.711 μ-law and A-law (ITU-T G.711, WAVE format tags 7 and
 * 6), any channel count (channels are averaged to mono). Anything else is a typed error.
 */
import wavefile from 'wavefile';
import { TtsError } from './errors.js';

export interface DecodedWav {
  /** Mono samples scaled to -1..1. */
  samples: Float32Array;
  sampleRateHz: number;
  /** What the file held, for diagnostics. */
  source: { audioFormat: number; bitDepth: string; channels: number };
}

/** WAVE format tags (RFC 2361 appendix A). */
const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

const INTEGER_DEPTHS = new Set(['8', '16', '24', '32']);

function isRiffWave(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const tag = (at: number): string =>
    String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
  return (tag(0) === 'RIFF' || tag(0) === 'RIFX') && tag(8) === 'WAVE';
}

export function decodeWav(bytes: Uint8Array, what = 'WAV data'): DecodedWav {
  if (!isRiffWave(bytes)) throw new TtsError('ERR_NOT_WAV', `${what} is not a RIFF/WAVE file`);
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (error) {
    throw new TtsError('ERR_NOT_WAV', `${what} has a corrupt WAV header: ${(error as Error).message}`, {
      cause: error
    });
  }
  // Copied out: wavefile's conversions below rewrite the header object in place.
  const fmt = { ...(wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number }) };
  const bitDepth = wav.bitDepth;
  const source = { audioFormat: fmt.audioFormat, bitDepth, channels: fmt.numChannels };
  const channels = fmt.numChannels;
  if (channels < 1 || !(fmt.sampleRate >= 1000 && fmt.sampleRate <= 192000)) {
    throw new TtsError('ERR_NOT_WAV', `${what} declares ${channels} channels at ${fmt.sampleRate} Hz`);
  }
  try {
    if (fmt.audioFormat === FORMAT_MULAW) wav.fromMuLaw('16');
    else if (fmt.audioFormat === FORMAT_ALAW) wav.fromALaw('16');
    else {
      const supported =
        ((fmt.audioFormat === FORMAT_PCM || fmt.audioFormat === FORMAT_EXTENSIBLE) &&
          INTEGER_DEPTHS.has(bitDepth)) ||
        ((fmt.audioFormat === FORMAT_FLOAT || fmt.audioFormat === FORMAT_EXTENSIBLE) && bitDepth === '32f');
      if (!supported) {
        throw new TtsError(
          'ERR_UNSUPPORTED_WAV',
          `${what} uses WAVE format ${fmt.audioFormat} at bit depth ${bitDepth}; expected PCM 8/16/24/32-bit, 32-bit float, μ-law or A-law`
        );
      }
    }
    if (wav.bitDepth !== '32f') wav.toBitDepth('32f');
  } catch (error) {
    if (error instanceof TtsError) throw error;
    throw new TtsError('ERR_UNSUPPORTED_WAV', `${what} cannot be converted: ${(error as Error).message}`, {
      cause: error
    });
  }
  const interleaved = wav.getSamples(true, Float32Array) as unknown as Float32Array;
  const frames = Math.floor(interleaved.length / channels);
  let samples: Float32Array;
  if (channels === 1) samples = interleaved;
  else {
    samples = new Float32Array(frames);
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += interleaved[f * channels + c];
      samples[f] = sum / channels;
    }
  }
  return { samples, sampleRateHz: fmt.sampleRate, source };
}
