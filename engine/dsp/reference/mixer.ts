/**
 * Plain-TypeScript reference of the mix-minus kernels in assembly/mixer.ts: the same integer
 * operations, so outputs are identical sample for sample (see that file for the soft limiter).
 */

export const LIMITER_KNEE = 24576;
export const UNITY_GAIN_Q14 = 16384;

/** Q14 gain for a gain in dB, clamped to 0..65536 (+12 dB); both kernels use this. */
export function gainQ14FromDb(db: number): number {
  if (!Number.isFinite(db)) return db > 0 ? 65536 : 0;
  return Math.max(0, Math.min(65536, Math.round(UNITY_GAIN_Q14 * 10 ** (db / 20))));
}

/** One party's contribution to the sum for one sample. */
export function contribution(x: number, gain: number): number {
  return gain === UNITY_GAIN_Q14 ? x : (x * gain + 8192) >> 14;
}

/** sum += contribution(x, gain). */
export function accumulate(sum: Int32Array, x: Int16Array, gain: number, n: number): void {
  for (let i = 0; i < n; i++) sum[i] += contribution(x[i], gain);
}

export function limit(x: number): number {
  const over = Math.max(x - LIMITER_KNEE, 0);
  const under = Math.min(x + LIMITER_KNEE, 0);
  return x - over - under + (over >> 2) + (under >> 2);
}

/** out = sat16(limit(sum − contribution(own) + prompt)); gain 0: own not in the sum. */
export function mixMinus(
  sum: Int32Array,
  own: Int16Array,
  gain: number,
  prompt: Int16Array | null,
  out: Int16Array,
  n: number,
  limiter: boolean
): void {
  for (let i = 0; i < n; i++) {
    let y = sum[i];
    if (gain !== 0) y -= contribution(own[i], gain);
    if (prompt !== null) y += prompt[i];
    if (limiter) y = limit(y);
    out[i] = y > 32767 ? 32767 : y < -32768 ? -32768 : y;
  }
}

export function peakAbs(x: Int16Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] < 0 ? Math.min(-x[i], 32767) : x[i];
    if (a > m) m = a;
  }
  return m;
}
