/**
 * Reads a WAV `fmt ` chunk (WAVEFORMATEX, or WAVEFORMATEXTENSIBLE whose sub-format GUID names the
 * encoding) into the sample encoding, channel count and rate the decoder works with, or a typed
 * error for a header that is corrupt or an encoding not supported.
 */
import { TtsError } from './errors.js';
import { BYTES_PER_SAMPLE, type SampleEncoding } from './wav-samples.js';

export interface WavFormat {
  encoding: SampleEncoding;
  channels: number;
  sampleRateHz: number;
  /** The format tag of the `fmt ` chunk; for WAVE_FORMAT_EXTENSIBLE, the one its sub-format names. */
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

/** WAVEFORMATEXTENSIBLE: the above, cbSize, wValidBitsPerSample, dwChannelMask, SubFormat (a GUID). */
const FMT_EXTENSIBLE_BYTES = 40;
const SUBFORMAT_OFFSET = 24;

/**
 * The last 8 bytes of every KSDATAFORMAT_SUBTYPE_* GUID, {0000tttt-0000-0010-8000-00AA00389B71},
 * where tttt is the plain format tag (RFC 2361 section 4, mmreg.h). Data1..Data3 are read as numbers.
 */
const KSDATAFORMAT_DATA4 = [0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const KSDATAFORMAT_DATA3 = 0x0010;

/** nBlockAlign, the bytes of one frame, is a 16-bit field. */
const MAX_FRAME_BYTES = 0xffff;

const MIN_SAMPLE_RATE_HZ = 1000;
const MAX_SAMPLE_RATE_HZ = 192000;

function encodingOf(formatTag: number, bitsPerSample: number): SampleEncoding | undefined {
  switch (formatTag) {
    case FORMAT_PCM:
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

/** The format tag a KSDATAFORMAT sub-format GUID carries, or undefined for any other GUID. */
function subFormatTag(fmt: DataView, le: boolean): number | undefined {
  const data1 = fmt.getUint32(SUBFORMAT_OFFSET, le);
  const data2 = fmt.getUint16(SUBFORMAT_OFFSET + 4, le);
  const data3 = fmt.getUint16(SUBFORMAT_OFFSET + 6, le);
  const data4 = KSDATAFORMAT_DATA4.every((byte, i) => fmt.getUint8(SUBFORMAT_OFFSET + 8 + i) === byte);
  return data1 <= 0xffff && data2 === 0 && data3 === KSDATAFORMAT_DATA3 && data4 ? data1 : undefined;
}

function guidText(fmt: DataView, le: boolean): string {
  const at = SUBFORMAT_OFFSET;
  const hex = (value: number, digits: number): string => value.toString(16).padStart(digits, '0');
  const bytes = (from: number, to: number): string =>
    Array.from({ length: to - from }, (_, i) => hex(fmt.getUint8(at + from + i), 2)).join('');
  const data1 = hex(fmt.getUint32(at, le), 8);
  const data2 = hex(fmt.getUint16(at + 4, le), 4);
  const data3 = hex(fmt.getUint16(at + 6, le), 4);
  return `{${data1}-${data2}-${data3}-${bytes(8, 10)}-${bytes(10, 16)}}`;
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
  let formatTag = fmt.getUint16(0, le);
  const channels = fmt.getUint16(2, le);
  const sampleRateHz = fmt.getUint32(4, le);
  const bitsPerSample = fmt.getUint16(14, le);
  if (channels < 1 || !(sampleRateHz >= MIN_SAMPLE_RATE_HZ && sampleRateHz <= MAX_SAMPLE_RATE_HZ)) {
    throw new TtsError('ERR_NOT_WAV', `${what} declares ${channels} channels at ${sampleRateHz} Hz`);
  }
  if (formatTag === FORMAT_EXTENSIBLE) {
    if (fmt.byteLength < FMT_EXTENSIBLE_BYTES) {
      throw new TtsError(
        'ERR_NOT_WAV',
        `${what} has a corrupt WAV header: its WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is ${fmt.byteLength} bytes, expected ${FMT_EXTENSIBLE_BYTES}`
      );
    }
    const tag = subFormatTag(fmt, le);
    if (tag === undefined) {
      throw new TtsError(
        'ERR_UNSUPPORTED_WAV',
        `${what} uses WAVE_FORMAT_EXTENSIBLE with sub-format ${guidText(fmt, le)}; expected PCM, IEEE float, μ-law or A-law`
      );
    }
    // Samples of fewer valid bits than the container are left-justified in it (WAVEFORMATEXTENSIBLE,
    // wValidBitsPerSample), so decoding at the container's depth scales them right.
    formatTag = tag;
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
