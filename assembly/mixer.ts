/**
 * The mix-minus kernels (v128 SIMD), bit-exact with engine/dsp/reference/mixer.ts.
 *
 * The room sum is i32 (S_SUM in the scratch area, layout.ts): each contributing party adds
 * (x·gain + 2^13) >> 14 (gain Q14), the announcement adds its samples once. A party's output
 * is sum − own contribution + its private prompt, passed through the soft limiter (if on) and
 * saturated to int16. Frames are multiples of 8 samples (160 or 320).
 *
 * Soft limiter: a static 4:1 knee above ±24576 (−2.5 dBFS) before the int16 saturation, so
 * many simultaneous talkers are compressed instead of hard-clipped from 32767 on:
 *   y = x − over + (over >> 2) − under + (under >> 2),
 *   over = max(x − 24576, 0), under = min(x + 24576, 0).
 */

export const LIMITER_KNEE: i32 = 24576;
export const UNITY_GAIN_Q14: i32 = 16384;

export function zeroSum(sum: usize, n: i32): void {
  memory.fill(sum, 0, <usize>n << 2);
}

/** sum += contribution of x (int16) with gain (Q14). */
export function accumulate(sum: usize, x: usize, gain: i32, n: i32): void {
  if (gain == UNITY_GAIN_Q14) {
    for (let i = 0; i < n; i += 8) {
      const s = sum + (<usize>i << 2);
      const v = v128.load(x + (<usize>i << 1));
      v128.store(s, i32x4.add(v128.load(s), i32x4.extend_low_i16x8_s(v)));
      v128.store(s, i32x4.add(v128.load(s, 16), i32x4.extend_high_i16x8_s(v)), 16);
    }
    return;
  }
  const g = i32x4.splat(gain);
  const half = i32x4.splat(8192);
  for (let i = 0; i < n; i += 8) {
    const s = sum + (<usize>i << 2);
    const v = v128.load(x + (<usize>i << 1));
    const lo = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_s(v), g), half), 14);
    const hi = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_s(v), g), half), 14);
    v128.store(s, i32x4.add(v128.load(s), lo));
    v128.store(s, i32x4.add(v128.load(s, 16), hi), 16);
  }
}

/** sum += x (int16), used for the room announcement. */
export function addSamples(sum: usize, x: usize, n: i32): void {
  accumulate(sum, x, UNITY_GAIN_Q14, n);
}

/**
 * The limiter in 5 operations instead of 10: with c = clamp(x, −knee, knee), at most one of
 * over / under is non-zero and equals x − c, so over + under = x − c and
 * (over >> 2) + (under >> 2) = (x − c) >> 2; y = c + ((x − c) >> 2), the same integers.
 */
// @ts-ignore: decorator
@inline function limit(x: v128, knee: v128, negKnee: v128): v128 {
  const c = i32x4.min_s(i32x4.max_s(x, negKnee), knee);
  return i32x4.add(c, i32x4.shr_s(i32x4.sub(x, c), 2));
}

/**
 * out = sat16(limit(sum − contribution(own, gain) + prompt)). gain 0 = the party adds nothing to
 * the sum (listener, muted, DTMF tone); prompt 0 = no private prompt.
 */
export function mixMinus(sum: usize, own: usize, gain: i32, prompt: usize, out: usize, n: i32, limiter: bool): void {
  const g = i32x4.splat(gain);
  const half = i32x4.splat(gain == 0 ? 0 : 8192);
  const knee = i32x4.splat(LIMITER_KNEE);
  const negKnee = i32x4.splat(-LIMITER_KNEE);
  for (let i = 0; i < n; i += 8) {
    const s = sum + (<usize>i << 2);
    let lo = v128.load(s);
    let hi = v128.load(s, 16);
    if (gain != 0) {
      const v = v128.load(own + (<usize>i << 1));
      if (gain == UNITY_GAIN_Q14) {
        lo = i32x4.sub(lo, i32x4.extend_low_i16x8_s(v));
        hi = i32x4.sub(hi, i32x4.extend_high_i16x8_s(v));
      } else {
        lo = i32x4.sub(lo, i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_s(v), g), half), 14));
        hi = i32x4.sub(hi, i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_s(v), g), half), 14));
      }
    }
    if (prompt != 0) {
      const q = v128.load(prompt + (<usize>i << 1));
      lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(q));
      hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(q));
    }
    if (limiter) {
      lo = limit(lo, knee, negKnee);
      hi = limit(hi, knee, negKnee);
    }
    v128.store(out + (<usize>i << 1), i16x8.narrow_i32x4_s(lo, hi));
  }
}

/** Peak |x| of n int16 samples (|−32768| counts as 32767). */
export function peakAbs(x: usize, n: i32): i32 {
  let m = i16x8.splat(0);
  const zero = i16x8.splat(0);
  for (let i = 0; i < n; i += 8) {
    const v = v128.load(x + (<usize>i << 1));
    m = i16x8.max_s(m, i16x8.max_s(v, i16x8.sub_sat_s(zero, v)));
  }
  m = i16x8.max_s(m, i8x16.shuffle(m, m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  m = i16x8.max_s(m, i8x16.shuffle(m, m, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
  m = i16x8.max_s(m, i8x16.shuffle(m, m, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1));
  return i16x8.extract_lane_s(m, 0);
}
