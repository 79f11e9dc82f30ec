/** A tone as G.711 μ-law bytes (G.191 encoder of the engine's reference): what the benchmarks' callers "say". */
import { ulawCompress } from '../../engine/dsp/reference/g711.js';
import { sine } from '../../test/support/dsp-prng.js';

export function ulawTone(
  frequencyHz: number,
  amplitude: number,
  samples: number,
  sampleRateHz = 8000
): Uint8Array {
  return Uint8Array.from(sine(samples, frequencyHz, sampleRateHz, amplitude), ulawCompress);
}
