/**
 * Decodes a WAV file's bytes to mono float samples: PCM 8 (unsigned), 16, 24 and 32-bit integer,
 * 32 and 64-bit IEEE float, G.711 μ-law and A-law (ITU-T G.711, WAVE format tags 7 and 6), any
 * channel count (channels are averaged to mono). Anything else is a typed error.
 *
 * Prompt files are untrusted, so only the `fmt ` and `data` chunks are read, found by a bounded
 * scan: no other chunk's header fields (loop, cue or tag counts) are ever acted on. A `data`
 * chunk that claims more bytes than the file holds is read as far as the file goes. A file longer
 * than `WAV_MAX_DURATION_S` is refused before any sample is converted.
 */
import { TtsError } from './errors.js';
import { scanRiff } from './riff-chunks.js';
import { readWavFormat, type WavFormat } from './wav-format.js';
import { BYTES_PER_SAMPLE, decodeSamples, downmixToMono, type SampleEncoding } from './wav-samples.js';

/**
 * Longest WAV decoded, in seconds at the file's own rate: one hour. The byte limit on prompt files
 * (PROMPT_FILE_MAX_BYTES) alone let 100 MiB of 8-bit audio at 1 kHz through, 29 hours that
 * resampled to a 16 kHz room are 3.4 GB of 16-bit samples; an hour at 48 kHz is 345 MB.
 */
export const WAV_MAX_DURATION_S = 3600;

export interface DecodedWav {
  /** Mono samples scaled to -1..1. */
  samples: Float32Array;
  sampleRateHz: number;
  /** What the file held, for diagnostics. */
  source: { audioFormat: number; encoding: SampleEncoding; channels: number };
}

/** A WAV file's layout, read from its header alone: enough to know how long it plays. */
export interface WavLayout {
  bytes: Uint8Array;
  bigEndian: boolean;
  format: WavFormat;
  /** Offset of the `data` chunk's body. */
  dataOffset: number;
  /** Whole frames present (not as declared), at most `WAV_MAX_DURATION_S` long. */
  frames: number;
}

/** Checks a WAV file's header and measures its data, without converting any sample. */
export function inspectWav(bytes: Uint8Array, what = 'WAV data'): WavLayout {
  const riff = scanRiff(bytes, ['fmt ', 'data']);
  if (!riff || riff.formType !== 'WAVE') throw new TtsError('ERR_NOT_WAV', `${what} is not a RIFF/WAVE file`);
  const fmtChunk = riff.chunks.get('fmt ');
  const dataChunk = riff.chunks.get('data');
  if (!fmtChunk || fmtChunk.truncated || !dataChunk) {
    const missing = !fmtChunk || fmtChunk.truncated ? "a complete 'fmt ' chunk" : "a 'data' chunk";
    throw new TtsError('ERR_NOT_WAV', `${what} has a corrupt WAV header: it has no ${missing}`);
  }
  const format = readWavFormat(
    new DataView(bytes.buffer, bytes.byteOffset + fmtChunk.bodyOffset, fmtChunk.bodyBytes),
    riff.bigEndian,
    what
  );
  const { encoding, channels, sampleRateHz } = format;
  const frames = Math.floor(dataChunk.bodyBytes / (BYTES_PER_SAMPLE[encoding] * channels));
  if (frames > WAV_MAX_DURATION_S * sampleRateHz) {
    throw new TtsError(
      'ERR_FILE_UNREADABLE',
      `${what} holds ${frames} frames at ${sampleRateHz} Hz (${+(frames / sampleRateHz).toFixed(3)} s); the limit is ${WAV_MAX_DURATION_S} s`
    );
  }
  return { bytes, bigEndian: riff.bigEndian, format, dataOffset: dataChunk.bodyOffset, frames };
}

/** The samples of a WAV file `inspectWav` accepted. */
export function decodeWavLayout(layout: WavLayout): DecodedWav {
  const { bytes, bigEndian, format, dataOffset, frames } = layout;
  const { encoding, channels, sampleRateHz } = format;
  const data = bytes.subarray(dataOffset, dataOffset + frames * BYTES_PER_SAMPLE[encoding] * channels);
  const interleaved = decodeSamples(data, encoding, bigEndian, frames * channels);
  return {
    samples: downmixToMono(interleaved, channels),
    sampleRateHz,
    source: { audioFormat: format.formatTag, encoding, channels }
  };
}

export function decodeWav(bytes: Uint8Array, what = 'WAV data'): DecodedWav {
  return decodeWavLayout(inspectWav(bytes, what));
}
