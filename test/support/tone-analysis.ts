/** Goertzel tone measurement for end-to-end tests: how strongly a frequency is present in PCM. */

/**
 * Level of `freqHz` in `pcm`, in dB (a full-scale sine ≈ 0 dB): the mean power of a Goertzel
 * filter over 100 ms Hann-windowed blocks. Power is averaged across blocks, not amplitude summed
 * over the whole signal, because a stream that went through a jitter buffer legitimately shifts
 * its phase where the buffer skipped or stretched a frame: one coherent sum over a second would
 * cancel itself and read a tone that is there as absent. The Hann window keeps a neighbouring
 * tone's leakage ~80 dB down at 100 Hz apart, so "absent" checks stay strict.
 */
export function toneLevelDb(pcm: Int16Array, freqHz: number, sampleRateHz: number): number {
  if (pcm.length === 0) return -200;
  const block = Math.min(pcm.length, Math.round(sampleRateHz / 10));
  const blocks = Math.floor(pcm.length / block);
  const k = 2 * Math.cos((2 * Math.PI * freqHz) / sampleRateHz);
  let powerSum = 0;
  for (let b = 0; b < blocks; b++) {
    let s1 = 0;
    let s2 = 0;
    for (let i = 0; i < block; i++) {
      const w = block > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (block - 1)) : 1;
      const s0 = (w * pcm[b * block + i]) / 32768 + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    powerSum += Math.max(s1 * s1 + s2 * s2 - k * s1 * s2, 0);
  }
  // A Hann window's coherent gain is 1/2: a sine of amplitude A gives |X| = A·N/4.
  const amplitude = (4 * Math.sqrt(powerSum / blocks)) / block;
  return 20 * Math.log10(amplitude + 1e-12);
}

/** RMS level of `pcm` in dBFS. */
export function rmsDbfs(pcm: Int16Array): number {
  if (pcm.length === 0) return -200;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += (pcm[i] / 32768) ** 2;
  return 10 * Math.log10(sum / pcm.length + 1e-20);
}

/** Plain G.711 μ-law (ITU-T G.711 §2, written here independently of the engine's kernels). */
export function ulawEncode(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

export function ulawDecode(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
