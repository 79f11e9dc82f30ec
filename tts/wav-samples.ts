/**
 * Converts the bytes of a WAV `data` chunk to float samples, one tight loop per encoding over a
 * DataView, and averages interleaved channels to mono. Integers are scaled as `wavefile` scaled
 * them, so prompts sound exactly as before: a positive sample is divided by 2^(n−1)−1 and a
 * negative one by 2^(n−1), so both full-scale codes map to ±1. Non-finite float samples (NaN,
 * ±Infinity) become 0 rather than poisoning the resampler.
 */
import { ALAW_TO_LINEAR, MULAW_TO_LINEAR } from './g711-tables.js';

export type SampleEncoding = 'uint8' | 'int16' | 'int24' | 'int32' | 'float32' | 'float64' | 'mulaw' | 'alaw';

export const BYTES_PER_SAMPLE: Readonly<Record<SampleEncoding, number>> = {
  uint8: 1,
  int16: 2,
  int24: 3,
  int32: 4,
  float32: 4,
  float64: 8,
  mulaw: 1,
  alaw: 1
};

function scaleInt16(s: number): number {
  return s > 0 ? s / 32767 : s / 32768;
}

const MULAW_TO_FLOAT = Float32Array.from(MULAW_TO_LINEAR, scaleInt16);
const ALAW_TO_FLOAT = Float32Array.from(ALAW_TO_LINEAR, scaleInt16);

function finite(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

/** The first `count` samples of `data`, interleaved as stored, scaled to −1..1. */
export function decodeSamples(
  data: Uint8Array,
  encoding: SampleEncoding,
  bigEndian: boolean,
  count: number
): Float32Array {
  if (count * BYTES_PER_SAMPLE[encoding] > data.length)
    throw new RangeError(`${count} ${encoding} samples need more than the ${data.length} bytes given`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = !bigEndian;
  const out = new Float32Array(count);
  switch (encoding) {
    case 'uint8':
      for (let i = 0; i < count; i++) {
        const s = data[i] - 128;
        out[i] = s > 0 ? s / 127 : s / 128;
      }
      break;
    case 'int16':
      for (let i = 0; i < count; i++) out[i] = scaleInt16(view.getInt16(2 * i, le));
      break;
    case 'int24':
      for (let i = 0; i < count; i++) {
        const at = 3 * i;
        const u = le
          ? data[at] | (data[at + 1] << 8) | (data[at + 2] << 16)
          : (data[at] << 16) | (data[at + 1] << 8) | data[at + 2];
        const s = (u << 8) >> 8;
        out[i] = s > 0 ? s / 8388607 : s / 8388608;
      }
      break;
    case 'int32':
      for (let i = 0; i < count; i++) {
        const s = view.getInt32(4 * i, le);
        out[i] = s > 0 ? s / 2147483647 : s / 2147483648;
      }
      break;
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = finite(view.getFloat32(4 * i, le));
      break;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = finite(view.getFloat64(8 * i, le));
      break;
    case 'mulaw':
      for (let i = 0; i < count; i++) out[i] = MULAW_TO_FLOAT[data[i]];
      break;
    case 'alaw':
      for (let i = 0; i < count; i++) out[i] = ALAW_TO_FLOAT[data[i]];
      break;
  }
  return out;
}

/** The average of each frame's channels. */
export function downmixToMono(interleaved: Float32Array, channels: number): Float32Array {
  if (channels === 1) return interleaved;
  const frames = Math.floor(interleaved.length / channels);
  const mono = new Float32Array(frames);
  for (let f = 0, at = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += interleaved[at++];
    mono[f] = sum / channels;
  }
  return mono;
}
