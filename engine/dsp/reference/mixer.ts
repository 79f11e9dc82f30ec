/**
 * Plain-TypeScript reference of the mix-minus kernels and the peak limiter in assembly/mixer.ts:
 * the same integer operations, so outputs are identical sample for sample (that file explains
 * the limiter).
 */

export const UNITY_GAIN_Q14 = 16384;
/** The most a party's listen gain may be: +6 dB (2×; assembly/mixer.ts says why). */
export const LISTEN_GAIN_MAX_Q14 = 32768;
export const LIMITER_CEILING = 29204;
export const LIMITER_UNITY = 32768;
export const LIMITER_RELEASE_Q15 = 9830;
export const LIMITER_MIN_STEP = 2048;

/** Q14 gain for a gain in dB, clamped to 0..65536 (+12 dB); both kernels use this. */
export function gainQ14FromDb(db: number): number {
  if (!Number.isFinite(db)) return db > 0 ? 65536 : 0;
  return Math.max(0, Math.min(65536, Math.round(UNITY_GAIN_Q14 * 10 ** (db / 20))));
}

/** Q14 listen gain for a gain in dB: gainQ14FromDb's, at most LISTEN_GAIN_MAX_Q14 (+6 dB); both kernels use this. */
export function listenGainQ14FromDb(db: number): number {
  return Math.min(LISTEN_GAIN_MAX_Q14, gainQ14FromDb(db));
}

/** One party's contribution to the sum for one sample. */
export function contribution(x: number, gain: number): number {
  return gain === UNITY_GAIN_Q14 ? x : (x * gain + 8192) >> 14;
}

/** sum += contribution(x, gain). */
export function accumulate(sum: Int32Array, x: Int16Array, gain: number, n: number): void {
  for (let i = 0; i < n; i++) sum[i] += contribution(x[i], gain);
}

/**
 * The gain (Q14) at sample i of a frame of n samples whose gain ramps from `from` to `to` over
 * its first 2^⌊log2 n⌋ samples (assembly/mixer.ts).
 */
export function rampGain(from: number, to: number, i: number, n: number): number {
  if (from === to) return to;
  const lg = 31 - Math.clz32(n);
  return from + (((to - from) * Math.min(i + 1, 1 << lg)) >> lg);
}

/** sum += contribution of x at a gain ramping from `from` to `to`. */
export function accumulateRamp(sum: Int32Array, x: Int16Array, from: number, to: number, n: number): void {
  if (from === to) {
    if (to !== 0) accumulate(sum, x, to, n);
    return;
  }
  for (let i = 0; i < n; i++) sum[i] += contribution(x[i], rampGain(from, to, i, n));
}

/**
 * tail += x backwards from its last sample at a gain ramping from `gain` to 0, saturated to
 * int16: a leaving party's fade-out, added to its room's next frame (assembly/mixer.ts fadeTail).
 */
export function fadeTail(tail: Int16Array, x: Int16Array, gain: number, n: number): void {
  const end = 1 << (31 - Math.clz32(n));
  for (let i = 0; i < end; i++)
    tail[i] = sat16(tail[i] + contribution(x[n - 1 - i], rampGain(gain, 0, i, n)));
}

/** sum − contribution(own), scaled by the listen gain (Q14; the product is exact in a double), + prompt at sample i. */
function mixAt(
  sum: Int32Array,
  own: Int16Array,
  gain: number,
  listen: number,
  prompt: Int16Array | null,
  i: number,
  n: number,
  from: number,
  listenFrom: number
): number {
  let y = sum[i];
  if (from !== gain) y -= contribution(own[i], rampGain(from, gain, i, n));
  else if (gain !== 0) y -= contribution(own[i], gain);
  const l = rampGain(listenFrom, listen, i, n);
  if (l !== UNITY_GAIN_Q14) y = Math.floor((y * l + 8192) / 16384);
  if (prompt !== null) y += prompt[i];
  return y;
}

/** `y` saturated to int16. */
export function sat16(y: number): number {
  return y > 32767 ? 32767 : y < -32768 ? -32768 : y;
}

/**
 * out = sat16(sum − contribution(own) + prompt); gain 0: own not in the sum. Returns the peak
 * |value| before the saturation.
 */
export function mixMinus(
  sum: Int32Array,
  own: Int16Array,
  gain: number,
  listen: number,
  prompt: Int16Array | null,
  out: Int16Array,
  n: number,
  from = gain,
  listenFrom = listen
): number {
  let peak = 0;
  for (let i = 0; i < n; i++) {
    const y = mixAt(sum, own, gain, listen, prompt, i, n, from, listenFrom);
    const a = y < 0 ? -y : y;
    if (a > peak) peak = a;
    out[i] = sat16(y);
  }
  return peak;
}

/**
 * out = the mix scaled by a gain (Q15) going from `from` to `to` over the first 2^lg samples,
 * `to` after them, the mix shifted right by `k` first. False, and `out` left half written, as
 * soon as a sample goes over the ceiling.
 */
function scaleMix(
  sum: Int32Array,
  own: Int16Array,
  gain: number,
  listen: number,
  prompt: Int16Array | null,
  out: Int16Array,
  n: number,
  k: number,
  from: number,
  to: number,
  lg: number,
  ownFrom: number,
  listenFrom: number
): boolean {
  const rampEnd = 1 << lg;
  const step = to - from;
  const shift = 15 - k;
  const round = (1 << shift) >> 1;
  for (let i = 0; i < n; i++) {
    const g = from + ((step * Math.min(i + 1, rampEnd)) >> lg);
    const z =
      (Math.imul(mixAt(sum, own, gain, listen, prompt, i, n, ownFrom, listenFrom) >> k, g) + round) >> shift;
    if (z > LIMITER_CEILING || z < -LIMITER_CEILING) return false;
    out[i] = z;
  }
  return true;
}

/**
 * The limiter's work on a frame mixMinus wrote to `out` with peak `peak`, for a party whose
 * attenuation (Q15, 0 = unity) was `attenuation`: rewrites `out` unless the gain stays unity,
 * and returns the new attenuation.
 */
export function limitFrame(
  sum: Int32Array,
  own: Int16Array,
  gain: number,
  listen: number,
  prompt: Int16Array | null,
  out: Int16Array,
  n: number,
  peak: number,
  attenuation: number,
  ownFrom = gain,
  listenFrom = listen
): number {
  const released = attenuation - Math.max((attenuation * LIMITER_RELEASE_Q15) >> 15, LIMITER_MIN_STEP);
  let to = LIMITER_UNITY - (released > 0 ? released : 0);
  let k = 0;
  if (peak > LIMITER_CEILING) {
    k = peak < 32768 ? 0 : 17 - Math.clz32(peak);
    const shift = 15 - k;
    // The largest gain g with (⌈peak / 2^k⌉·g + 2^(shift−1)) >> shift ≤ LIMITER_CEILING.
    const fit = Math.trunc(
      ((LIMITER_CEILING << shift) + ((1 << shift) >> 1) - 1) / ((peak + (1 << k) - 1) >> k)
    );
    if (fit < to) to = fit;
  }
  const from = LIMITER_UNITY - attenuation;
  if (to === LIMITER_UNITY && from === LIMITER_UNITY) return 0;
  // The whole frame, then 4 and 16 times shorter, then a step (assembly/mixer.ts).
  const lg = 31 - Math.clz32(n);
  for (let ramp = lg; ramp >= lg - 4 && ramp >= 0; ramp -= 2)
    if (scaleMix(sum, own, gain, listen, prompt, out, n, k, from, to, ramp, ownFrom, listenFrom))
      return LIMITER_UNITY - to;
  scaleMix(sum, own, gain, listen, prompt, out, n, k, to, to, 0, ownFrom, listenFrom);
  return LIMITER_UNITY - to;
}

/**
 * One party's output into `out` as processRoom makes it: mixMinus, then with the limiter on
 * limitFrame unless the gain is unity and the peak under the ceiling. Returns the party's new
 * attenuation (0 with the limiter off). `ownFrom`: the gain its own contribution ramped from
 * this frame (accumulateRamp); `listenFrom`: the listen gain of its last frame, which this
 * frame's ramps from.
 */
export function partyOutput(
  sum: Int32Array,
  own: Int16Array,
  gain: number,
  listen: number,
  prompt: Int16Array | null,
  out: Int16Array,
  n: number,
  limiter: boolean,
  attenuation: number,
  ownFrom = gain,
  listenFrom = listen
): number {
  const peak = mixMinus(sum, own, gain, listen, prompt, out, n, ownFrom, listenFrom);
  if (!limiter || (attenuation === 0 && peak <= LIMITER_CEILING)) return 0;
  return limitFrame(sum, own, gain, listen, prompt, out, n, peak, attenuation, ownFrom, listenFrom);
}

export function peakAbs(x: Int16Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] < 0 ? Math.min(-x[i], 32767) : x[i];
    if (a > m) m = a;
  }
  return m;
}
