/**
 * Reads a WAV `fmt ` chunk (WAVEFORMATEX) into the sample encoding, channel count and rate the
 * decoder works with, or a typed error for a header that is corrupt or an encoding not supported.
 */
import { TtsError } from './errors.js';
import { BYTES_PER_SAMPLE, type SampleEncoding } from './wav-samples.js';

export interface WavFormat {
  encoding: SampleEncoding;
  channels: number;
  sampleRateHz: number;
  /** The format tag of the `fmt ` chunk. */
  formatTag: number;
}

/** WAVE format tags (RFC 2361 appendix A). */
const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;

/** wFormatTag, nChannels, nSamplesPerSec, nAvgBytesPerSec, nBlockAlign, wBitsPerSample. */
const FMT_MIN_BYTES = 16;

/** nBlockAlign, the bytes of one frame, is a 16-bit field. */
const MAX_FRAME_BYTES = 0xffff;

const MIN_SAMPLE_RATE_HZ = 1000;
const MAX_SAMPLE_RATE_HZ = 192000;

function encodingOf(formatTag: number, bitsPerSample: number): SampleEncoding | undefined {
  switch (formatTag) {
    case FORMAT_PCM:
    case FORMAT_EXTENSIBLE:
      return ({ 8: 'uint8', 16: 'int16', 24: 'int24', 32: 'int32' } as const)[bitsPerSample];
    case FORMAT_FLOAT:
      return ({ 32: 'float32', 64: 'float64' } as const)[bitsPerSample];
    case FORMAT_MULAW:
      return bitsPerSample === 8 ? 'mulaw' : undefined;
    case FORMAT_ALAW:
      return bitsPerSample === 8 ? 'alaw' : undefined;
    default:
      return undefined;
  }
}

/** `fmt` is the chunk body; `what` names the data in error messages. */
export function readWavFormat(fmt: DataView, bigEndian: boolean, what: string): WavFormat {
  if (fmt.byteLength < FMT_MIN_BYTES) {
    throw new TtsError(
      'ERR_NOT_WAV',
      `${what} has a corrupt WAV header: its 'fmt ' chunk is ${fmt.byteLength} bytes, expected at least ${FMT_MIN_BYTES}`
    );
  }
  const le = !bigEndian;
  const formatTag = fmt.getUint16(0, le);
  const channels = fmt.getUint16(2, le);
  const sampleRateHz = fmt.getUint32(4, le);
  const bitsPerSample = fmt.getUint16(14, le);
  if (channels < 1 || !(sampleRateHz >= MIN_SAMPLE_RATE_HZ && sampleRateHz <= MAX_SAMPLE_RATE_HZ)) {
    throw new TtsError('ERR_NOT_WAV', `${what} declares ${channels} channels at ${sampleRateHz} Hz`);
  }
  const encoding = encodingOf(formatTag, bitsPerSample);
  if (!encoding) {
    throw new TtsError(
      'ERR_UNSUPPORTED_WAV',
      `${what} uses WAVE format ${formatTag} at ${bitsPerSample} bits per sample; expected PCM 8/16/24/32-bit, 32/64-bit float, μ-law or A-law`
    );
  }
  if (channels * BYTES_PER_SAMPLE[encoding] > MAX_FRAME_BYTES) {
    throw new TtsError(
      'ERR_UNSUPPORTED_WAV',
      `${what} declares ${channels} channels of ${bitsPerSample} bits; a WAV frame holds at most ${MAX_FRAME_BYTES} bytes`
    );
  }
  return { encoding, channels, sampleRateHz, formatTag };
}
