/** A tone as G.711 μ-law bytes (G.191 encoder of the engine's reference): what the benchmarks' callers "say". */
import { ulawCompress } from '../../engine/dsp/reference/g711.js';

export function ulawTone(
  frequencyHz: number,
  amplitude: number,
  samples: number,
  sampleRateHz = 8000
): Uint8Array {
  const out = new Uint8Array(samples);
  for (let i = 0; i < samples; i++)
    out[i] = ulawCompress(Math.round(amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz)));
  return out;
}
