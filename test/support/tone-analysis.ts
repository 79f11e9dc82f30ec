/** Goertzel tone measurement for end-to-end tests: how strongly a frequency is present in PCM. */

/** Blocks quieter than this (about -60 dBFS RMS) carry nothing and are left out of `toneLevelDb`. */
const ACTIVE_BLOCK_MEAN_SQUARE = 33 * 33;

/**
 * Level of `freqHz` in `pcm`, in dB (a full-scale sine ≈ 0 dB; -200 when nothing is heard): the
 * median, over the 50 ms Hann-windowed blocks that carry sound, of a Goertzel filter's level.
 * Not one coherent sum over the whole signal: a stream that went through a jitter buffer shifts
 * its phase where the buffer skipped or stretched a frame, and one sum over a second cancels
 * itself and reads a tone that is there as absent. The median, so that the few blocks a loaded
 * host fills with concealed or stretched frames (splatter at every frequency) decide neither a
 * "present" nor an "absent" verdict: what most of the sound holds does. Silent blocks are left
 * out, so a short prompt in a longer window is measured where it plays. The window keeps a
 * neighbouring tone's leakage ~80 dB down at 150 Hz apart.
 */
export function toneLevelDb(pcm: Int16Array, freqHz: number, sampleRateHz: number): number {
  const block = Math.min(pcm.length, Math.round(sampleRateHz / 20));
  const blocks = block === 0 ? 0 : Math.floor(pcm.length / block);
  const k = 2 * Math.cos((2 * Math.PI * freqHz) / sampleRateHz);
  const powers: number[] = [];
  for (let b = 0; b < blocks; b++) {
    let s1 = 0;
    let s2 = 0;
    let energy = 0;
    for (let i = 0; i < block; i++) {
      const x = pcm[b * block + i];
      energy += x * x;
      const w = block > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (block - 1)) : 1;
      const s0 = (w * x) / 32768 + k * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    if (energy / block >= ACTIVE_BLOCK_MEAN_SQUARE) powers.push(Math.max(s1 * s1 + s2 * s2 - k * s1 * s2, 0));
  }
  if (powers.length === 0) return -200;
  powers.sort((a, b) => a - b);
  const n = powers.length;
  const median = n % 2 === 1 ? powers[(n - 1) / 2] : (powers[n / 2 - 1] + powers[n / 2]) / 2;
  // A Hann window's coherent gain is 1/2: a sine of amplitude A gives |X| = A·N/4.
  const amplitude = (4 * Math.sqrt(median)) / block;
  return 20 * Math.log10(amplitude + 1e-12);
}

/**
 * RMS level in dBFS of the loudest `windowMs` stretch of `pcm` (in steps of half a window): "was
 * something said", however much silence came before it while a prompt was being synthesized.
 */
export function loudestDbfs(pcm: Int16Array, sampleRateHz: number, windowMs = 250): number {
  const n = Math.round((windowMs * sampleRateHz) / 1000);
  if (pcm.length < n) return rmsDbfs(pcm);
  let loudest = -200;
  for (let at = 0; at + n <= pcm.length; at += n >> 1)
    loudest = Math.max(loudest, rmsDbfs(pcm.subarray(at, at + n)));
  return loudest;
}

/** Largest sample-to-sample step in pcm[from, to): a click shows up as a jump far above the signal's own slope. */
export function largestStep(pcm: Int16Array, from = 0, to = pcm.length): number {
  let m = 0;
  for (let i = from + 1; i < to; i++) m = Math.max(m, Math.abs(pcm[i] - pcm[i - 1]));
  return m;
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

/** Plain G.711 A-law (ITU-T G.711 §3), written here independently of the engine's kernels. */
export function alawEncode(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, sample)) >> 3;
  const mask = s >= 0 ? 0xd5 : 0x55;
  if (s < 0) s = -s - 1;
  let segment = 0;
  while (segment < 8 && s > (0x20 << segment) - 1) segment++;
  if (segment >= 8) return 0x7f ^ mask;
  return ((segment << 4) | ((s >> (segment < 2 ? 1 : segment)) & 0x0f)) ^ mask;
}

export function alawDecode(code: number): number {
  const a = code ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let t = ((a & 0x0f) << 4) + (segment === 0 ? 8 : 0x108);
  if (segment > 1) t <<= segment - 1;
  return a & 0x80 ? t : -t;
}

export function ulawDecode(code: number): number {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}
