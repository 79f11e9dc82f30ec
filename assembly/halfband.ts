/**
 * Half-band FIR resampler between 8 and 16 kHz, stateful across 20 ms frames.
 *
 * A 47-tap Kaiser-windowed (β = 7) half-band low-pass: every even tap off the centre is zero,
 * the centre is ½, so interpolation copies input samples to the even outputs and computes only
 * the odd ones, and decimation needs 12 multiplies per output. Passband flat to 3.4 kHz
 * (−0.1 dB), ≥ 70 dB rejection from 4.8 kHz. Coefficients HB[k] are 2·h(2k+1) in Q14 and sum
 * to exactly 8192, so DC gain is exactly 1. Integer arithmetic only (bit-exact with
 * engine/dsp/reference/resample-halfband.ts); accumulators stay below 2^31.
 *
 * The filters run as i16x8 dot products (v128) over the mirrored taps; integer sums are exact,
 * so the result does not depend on the summation order.
 *
 * Memory: each call copies the state (UP_STATE / DOWN_STATE history samples, kept per party in
 * its slot) and the frame into a scratch work buffer, filters, and saves the new history back.
 * Delay: 12 input samples for 8k→16k, 23 input samples for 16k→8k.
 */
import { HB_TAPS, UP_STATE, DOWN_STATE, SCRATCH, S_WORK } from './layout';

const HB: usize = memory.data<i16>([10374, -3305, 1810, -1125, 723, -463, 288, -171, 94, -47, 20, -6]);
/** The odd-phase interpolation filter over s[i .. i+23] (HB mirrored), for i16x8 dot products. */
const UP_TAPS: usize = memory.data<i16>([-6, 20, -47, 94, -171, 288, -463, 723, -1125, 1810, -3305, 10374, 10374, -3305, 1810, -1125, 723, -463, 288, -171, 94, -47, 20, -6], 16);
/** The whole decimation filter over s[2j .. 2j+47] in Q15 (centre 16384, zero-padded to 48). */
const DOWN_TAPS: usize = memory.data<i16>([-6, 0, 20, 0, -47, 0, 94, 0, -171, 0, 288, 0, -463, 0, 723, 0, -1125, 0, 1810, 0, -3305, 0, 10374, 16384, 10374, 0, -3305, 0, 1810, 0, -1125, 0, 723, 0, -463, 0, 288, 0, -171, 0, 94, 0, -47, 0, 20, 0, -6, 0], 16);

// @ts-ignore: decorator
@inline function hsum(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

export function halfbandCoefficient(k: i32): i32 {
  return load<i16>(HB + (<usize>k << 1));
}

// @ts-ignore: decorator
@inline function sat16(x: i32): i32 {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** n input samples at 8 kHz → 2n output samples at 16 kHz. */
export function upsample2(state: usize, src: usize, dst: usize, n: i32): void {
  const s = SCRATCH + S_WORK;
  memory.copy(s, state, <usize>UP_STATE << 1);
  memory.copy(s + (<usize>UP_STATE << 1), src, <usize>n << 1);
  for (let i = 0; i < n; i++) {
    const w = s + (<usize>i << 1);
    // Σ HB[k]·(s[c−k] + s[c+k+1]), c = i + 11, as three 8-lane dot products (exact: no overflow).
    let v = i32x4.dot_i16x8_s(v128.load(w), v128.load(UP_TAPS));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 16), v128.load(UP_TAPS, 16)));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 32), v128.load(UP_TAPS, 32)));
    const acc = 8192 + hsum(v);
    store<i16>(dst + (<usize>i << 2), load<i16>(w + (<usize>(HB_TAPS - 1) << 1)));
    store<i16>(dst + (<usize>i << 2) + 2, <i16>sat16(acc >> 14));
  }
  memory.copy(state, s + (<usize>n << 1), <usize>UP_STATE << 1);
}

/** n input samples at 16 kHz (n even) → n/2 output samples at 8 kHz. */
export function downsample2(state: usize, src: usize, dst: usize, n: i32): void {
  const s = SCRATCH + S_WORK;
  memory.copy(s, state, <usize>DOWN_STATE << 1);
  memory.copy(s + (<usize>DOWN_STATE << 1), src, <usize>n << 1);
  const m = n >> 1;
  for (let j = 0; j < m; j++) {
    const w = s + (<usize>j << 2);
    // 16384·s[c] + Σ HB[k]·(s[c−2k−1] + s[c+2k+1]), c = 2j + 23, as six 8-lane dot products.
    let v = i32x4.dot_i16x8_s(v128.load(w), v128.load(DOWN_TAPS));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 16), v128.load(DOWN_TAPS, 16)));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 32), v128.load(DOWN_TAPS, 32)));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 48), v128.load(DOWN_TAPS, 48)));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 64), v128.load(DOWN_TAPS, 64)));
    v = i32x4.add(v, i32x4.dot_i16x8_s(v128.load(w, 80), v128.load(DOWN_TAPS, 80)));
    const acc = 16384 + hsum(v);
    store<i16>(dst + (<usize>j << 1), <i16>sat16(acc >> 15));
  }
  memory.copy(state, s + (<usize>n << 1), <usize>DOWN_STATE << 1);
}
