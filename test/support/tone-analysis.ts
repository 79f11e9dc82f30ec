/** Goertzel tone measurement for end-to-end tests: how strongly a frequency is present in PCM. */

/** Power of `freqHz` in `pcm` (Goertzel, normalised so a full-scale sine ≈ 0 dB). */
export function toneLevelDb(pcm: Int16Array, freqHz: number, sampleRateHz: number): number {
  const n = pcm.length;
  if (n === 0) return -200;
  const k = (2 * Math.cos((2 * Math.PI * freqHz) / sampleRateHz));
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = pcm[i] / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  const amplitude = (2 * Math.sqrt(Math.max(power, 0))) / n;
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
