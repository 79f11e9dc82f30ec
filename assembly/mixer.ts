/**
 * The mix-minus kernels (v128 SIMD) and each party's peak limiter, bit-exact with
 * engine/dsp/reference/mixer.ts.
 *
 * The room sum is i32 (S_SUM in the scratch area, layout.ts): each contributing party adds
 * (x·gain + 2^13) >> 14 (gain Q14), the announcement adds its samples once. A party whose gain
 * changed since the last frame (muted, unmuted, held, re-volumed, joined) is added with a gain
 * ramping linearly from the old one to the new over the frame's first 128 (8 kHz) or 256 (16 kHz)
 * samples, as the limiter's gain ramps, and its own mix-minus takes out exactly that: a gain that
 * stepped from one frame to the next cut a talker mid-waveform, a click in every other ear. A
 * party's listen gain ramps the same way from the last frame's (P_LISTEN_FROM). A party's output
 * is y = sum − own contribution, scaled by its listen gain (Q14, as (y·listen + 2^13) >> 14 in
 * i64 lanes) when that is not unity, + its private prompt, saturated to int16, and, with the
 * room's limiter on, scaled first so that it never reaches the int16 ceiling:
 *
 * Peak limiter, per party (its state, the attenuation, is P_LIMIT_ATTEN in its slot): the pass
 * that makes y also finds its peak |y|. While the peak stays at or under the ceiling
 * LIMITER_CEILING (−1 dBFS) and the gain is unity, that pass is all: the output is y, bit for
 * bit. Otherwise the frame's gain (Q15) is the lower of
 *   - the gain that brings this frame's peak under the ceiling (attack: this very frame), and
 *   - the last frame's gain raised towards unity by LIMITER_RELEASE_Q15 of its attenuation, at
 *     least LIMITER_MIN_STEP (release: back at exactly unity at most 8 frames, 160 ms, after the
 *     peaks fall under the ceiling),
 * and y is scaled by a gain ramping linearly from the last frame's gain to that one over the
 * frame's first 128 (8 kHz) or 256 (16 kHz) samples, so the gain has no step between frames.
 * A falling ramp is still above the new gain early in the frame: should that take a sample over
 * the ceiling (a sudden peak early in the frame), the ramp is made 4 and then 16 times shorter
 * (4 ms, 1 ms), and should even that not do, the frame is scaled by the new gain throughout: a
 * step in gain, never a clipped sample.
 *
 * Scaling in i32 lanes: y is first shifted right by k bits so that |y >> k| ≤ 2^15 (k = 0 for
 * any y that fits in int16), then z = ((y >> k)·gain + 2^(14−k)) >> (15 − k). Room sums stay
 * under 2^29 (4096 parties at +12 dB) and a listen gain is at most +6 dB (2×), so y stays under
 * 2^30, k ≤ 15 and the product under 2^30.
 */

export const UNITY_GAIN_Q14: i32 = 16384;
/** The most a party's listen gain may be: +6 dB (2×), so a mix stays under 2^30 (see above). */
export const LISTEN_GAIN_MAX_Q14: i32 = 32768;
/** −1 dBFS: no output sample of a limited frame is above it. */
export const LIMITER_CEILING: i32 = 29204;
/** The limiter's gain is Q15. */
export const LIMITER_UNITY: i32 = 32768;
/** Release: the share (Q15) of its attenuation the gain recovers per frame, 0.3 ... */
export const LIMITER_RELEASE_Q15: i32 = 9830;
/** ... and at least this much (1/16 of unity). */
export const LIMITER_MIN_STEP: i32 = 2048;

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

/** The gains (Q14) of the four samples `at` (1-based) of a ramp from `from` by `step` over 2^lg samples. */
// @ts-ignore: decorator
@inline function rampLanes(from: v128, step: v128, at: v128, rampEnd: v128, lg: i32): v128 {
  return i32x4.add(from, i32x4.shr_s(i32x4.mul(step, i32x4.min_s(at, rampEnd)), lg));
}

/** (x·g + 2^13) >> 14 per lane. */
// @ts-ignore: decorator
@inline function scaleLanes(x: v128, g: v128, half: v128): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.mul(x, g), half), 14);
}

/** sum += contribution of x with a gain ramping from `from` to `to` (Q14; see the file comment). */
export function accumulateRamp(sum: usize, x: usize, from: i32, to: i32, n: i32): void {
  if (from == to) {
    if (to != 0) accumulate(sum, x, to, n);
    return;
  }
  const lg = 31 - clz<i32>(n);
  const rampEnd = i32x4.splat(1 << lg);
  const start = i32x4.splat(from);
  const step = i32x4.splat(to - from);
  const half = i32x4.splat(8192);
  const four = i32x4.splat(4);
  const eight = i32x4.splat(8);
  let at = i32x4(1, 2, 3, 4);
  for (let i = 0; i < n; i += 8) {
    const s = sum + (<usize>i << 2);
    const v = v128.load(x + (<usize>i << 1));
    const lo = scaleLanes(i32x4.extend_low_i16x8_s(v), rampLanes(start, step, at, rampEnd, lg), half);
    const hi = scaleLanes(i32x4.extend_high_i16x8_s(v), rampLanes(start, step, i32x4.add(at, four), rampEnd, lg), half);
    v128.store(s, i32x4.add(v128.load(s), lo));
    v128.store(s, i32x4.add(v128.load(s, 16), hi), 16);
    at = i32x4.add(at, eight);
  }
}

/**
 * tail += x played backwards from its last sample, at a gain ramping from `gain` down to 0 (as
 * accumulateRamp's), saturated to int16: the fade-out of a party that left the room after this
 * frame, added to the room's next frame (room.ts keepTail). Backwards, the tail starts where the
 * party's voice stopped, so the room hears it fade rather than cut. Not per frame: scalar.
 */
export function fadeTail(tail: usize, x: usize, gain: i32, n: i32): void {
  const lg = 31 - clz<i32>(n);
  const end = 1 << lg;
  for (let i = 0; i < end; i++) {
    const g = gain + ((-gain * (i + 1)) >> lg);
    const at = tail + (<usize>i << 1);
    const y = <i32>load<i16>(at) + ((<i32>load<i16>(x + (<usize>(n - 1 - i) << 1)) * g + 8192) >> 14);
    store<i16>(at, <i16>(y > 32767 ? 32767 : y < -32768 ? -32768 : y));
  }
}

/** sum += x (int16), used for the room announcement. */
export function addSamples(sum: usize, x: usize, n: i32): void {
  accumulate(sum, x, UNITY_GAIN_Q14, n);
}

// @ts-ignore: decorator
@inline function minusOwn(y: v128, own: v128, gain: i32, g: v128, half: v128): v128 {
  if (gain == UNITY_GAIN_Q14) return i32x4.sub(y, own);
  return i32x4.sub(y, i32x4.shr_s(i32x4.add(i32x4.mul(own, g), half), 14));
}

/** (y·l + 2^13) >> 14 per lane, the product in i64: y up to 2^29 times a gain up to 2^15. */
// @ts-ignore: decorator
@inline function listenScale(y: v128, l: v128, half64: v128): v128 {
  const a = i64x2.shr_s(i64x2.add(i64x2.extmul_low_i32x4_s(y, l), half64), 14);
  const b = i64x2.shr_s(i64x2.add(i64x2.extmul_high_i32x4_s(y, l), half64), 14);
  return i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
}

// @ts-ignore: decorator
@inline function maxLane(m: v128): i32 {
  m = i32x4.max_s(m, i8x16.shuffle(m, m, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  m = i32x4.max_s(m, i8x16.shuffle(m, m, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3));
  return i32x4.extract_lane(m, 0);
}

/**
 * out = sat16(listened(sum − contribution(own, gain)) + prompt); returns the peak |value| before
 * the saturation. gain 0 = the party adds nothing to the sum (listener, muted, DTMF tone), `from`
 * the gain its contribution ramped from (accumulateRamp; = gain when it did not change); listen
 * the party's listen gain (Q14), ramping from `listenFrom` as the contribution's does; prompt 0 =
 * no private prompt.
 */
export function mixMinus(
  sum: usize, own: usize, gain: i32, listen: i32, prompt: usize, out: usize, n: i32, from: i32, listenFrom: i32
): i32 {
  const g = i32x4.splat(gain);
  const half = i32x4.splat(8192);
  const l = i32x4.splat(listen);
  const half64 = i64x2.splat(8192);
  const lg = 31 - clz<i32>(n);
  const rampEnd = i32x4.splat(1 << lg);
  const start = i32x4.splat(from);
  const step = i32x4.splat(gain - from);
  const listenStart = i32x4.splat(listenFrom);
  const listenStep = i32x4.splat(listen - listenFrom);
  const four = i32x4.splat(4);
  const eight = i32x4.splat(8);
  let at = i32x4(1, 2, 3, 4);
  let peak = i32x4.splat(0);
  for (let i = 0; i < n; i += 8) {
    const s = sum + (<usize>i << 2);
    let lo = v128.load(s);
    let hi = v128.load(s, 16);
    if (from != gain) {
      const v = v128.load(own + (<usize>i << 1));
      lo = i32x4.sub(lo, scaleLanes(i32x4.extend_low_i16x8_s(v), rampLanes(start, step, at, rampEnd, lg), half));
      hi = i32x4.sub(hi, scaleLanes(i32x4.extend_high_i16x8_s(v), rampLanes(start, step, i32x4.add(at, four), rampEnd, lg), half));
    } else if (gain != 0) {
      const v = v128.load(own + (<usize>i << 1));
      lo = minusOwn(lo, i32x4.extend_low_i16x8_s(v), gain, g, half);
      hi = minusOwn(hi, i32x4.extend_high_i16x8_s(v), gain, g, half);
    }
    if (listenFrom != listen) {
      lo = listenScale(lo, rampLanes(listenStart, listenStep, at, rampEnd, lg), half64);
      hi = listenScale(hi, rampLanes(listenStart, listenStep, i32x4.add(at, four), rampEnd, lg), half64);
    } else if (listen != UNITY_GAIN_Q14) {
      lo = listenScale(lo, l, half64);
      hi = listenScale(hi, l, half64);
    }
    if (prompt != 0) {
      const q = v128.load(prompt + (<usize>i << 1));
      lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(q));
      hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(q));
    }
    peak = i32x4.max_s(peak, i32x4.max_s(i32x4.abs(lo), i32x4.abs(hi)));
    v128.store(out + (<usize>i << 1), i16x8.narrow_i32x4_s(lo, hi));
    at = i32x4.add(at, eight);
  }
  return maxLane(peak);
}

/**
 * out = z, z the mix of mixMinus scaled by a gain (Q15) going from `from` to `to` over the first
 * 2^lg samples and staying at `to` after them, y shifted right by `k` first (see the file
 * comment). False, and `out` left half written, as soon as a sample goes over the ceiling.
 */
function scaleMix(
  sum: usize, own: usize, gain: i32, listen: i32, prompt: usize, out: usize, n: i32, k: i32, from: i32, to: i32, lg: i32,
  ownFrom: i32, listenFrom: i32
): bool {
  const g = i32x4.splat(gain);
  const ownLg = 31 - clz<i32>(n);
  const ownRampEnd = i32x4.splat(1 << ownLg);
  const ownStart = i32x4.splat(ownFrom);
  const ownStep = i32x4.splat(gain - ownFrom);
  const listenStart = i32x4.splat(listenFrom);
  const listenStep = i32x4.splat(listen - listenFrom);
  const half = i32x4.splat(8192);
  const l = i32x4.splat(listen);
  const half64 = i64x2.splat(8192);
  const rampEnd = i32x4.splat(1 << lg);
  const step = i32x4.splat(to - from);
  const start = i32x4.splat(from);
  const shift = 15 - k;
  const round = i32x4.splat((1 << shift) >> 1);
  const four = i32x4.splat(4);
  const eight = i32x4.splat(8);
  const ceiling = i32x4.splat(LIMITER_CEILING);
  let at = i32x4(1, 2, 3, 4);
  for (let i = 0; i < n; i += 8) {
    const s = sum + (<usize>i << 2);
    let lo = v128.load(s);
    let hi = v128.load(s, 16);
    if (ownFrom != gain) {
      const v = v128.load(own + (<usize>i << 1));
      lo = i32x4.sub(lo, scaleLanes(i32x4.extend_low_i16x8_s(v), rampLanes(ownStart, ownStep, at, ownRampEnd, ownLg), half));
      hi = i32x4.sub(
        hi, scaleLanes(i32x4.extend_high_i16x8_s(v), rampLanes(ownStart, ownStep, i32x4.add(at, four), ownRampEnd, ownLg), half)
      );
    } else if (gain != 0) {
      const v = v128.load(own + (<usize>i << 1));
      lo = minusOwn(lo, i32x4.extend_low_i16x8_s(v), gain, g, half);
      hi = minusOwn(hi, i32x4.extend_high_i16x8_s(v), gain, g, half);
    }
    if (listenFrom != listen) {
      lo = listenScale(lo, rampLanes(listenStart, listenStep, at, ownRampEnd, ownLg), half64);
      hi = listenScale(hi, rampLanes(listenStart, listenStep, i32x4.add(at, four), ownRampEnd, ownLg), half64);
    } else if (listen != UNITY_GAIN_Q14) {
      lo = listenScale(lo, l, half64);
      hi = listenScale(hi, l, half64);
    }
    if (prompt != 0) {
      const q = v128.load(prompt + (<usize>i << 1));
      lo = i32x4.add(lo, i32x4.extend_low_i16x8_s(q));
      hi = i32x4.add(hi, i32x4.extend_high_i16x8_s(q));
    }
    const gLo = i32x4.add(start, i32x4.shr_s(i32x4.mul(step, i32x4.min_s(at, rampEnd)), lg));
    const gHi = i32x4.add(start, i32x4.shr_s(i32x4.mul(step, i32x4.min_s(i32x4.add(at, four), rampEnd)), lg));
    lo = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.shr_s(lo, k), gLo), round), shift);
    hi = i32x4.shr_s(i32x4.add(i32x4.mul(i32x4.shr_s(hi, k), gHi), round), shift);
    if (v128.any_true(i32x4.gt_s(i32x4.max_s(i32x4.abs(lo), i32x4.abs(hi)), ceiling))) return false;
    v128.store(out + (<usize>i << 1), i16x8.narrow_i32x4_s(lo, hi));
    at = i32x4.add(at, eight);
  }
  return true;
}

/**
 * The limiter's work on a frame mixMinus has written to `out` with peak `peak`, for a party
 * whose attenuation (Q15, 0 = unity) was `attenuation`: rewrites `out` when the gain is not
 * unity and returns the new attenuation (see the file comment).
 */
export function limitFrame(
  sum: usize, own: usize, gain: i32, listen: i32, prompt: usize, out: usize, n: i32, peak: i32, attenuation: i32,
  ownFrom: i32, listenFrom: i32
): i32 {
  const released = attenuation - max((attenuation * LIMITER_RELEASE_Q15) >> 15, LIMITER_MIN_STEP);
  let to = LIMITER_UNITY - (released > 0 ? released : 0);
  let k = 0;
  if (peak > LIMITER_CEILING) {
    k = peak < 32768 ? 0 : 17 - clz<i32>(peak);
    const shift = 15 - k;
    // The largest gain g with (⌈peak / 2^k⌉·g + 2^(shift−1)) >> shift ≤ LIMITER_CEILING.
    const fit = ((LIMITER_CEILING << shift) + ((1 << shift) >> 1) - 1) / ((peak + (1 << k) - 1) >> k);
    if (fit < to) to = fit;
  }
  const from = LIMITER_UNITY - attenuation;
  if (to == LIMITER_UNITY && from == LIMITER_UNITY) return 0;
  const lg = 31 - clz<i32>(n);
  for (let ramp = lg; ramp >= lg - 4 && ramp >= 0; ramp -= 2)
    if (scaleMix(sum, own, gain, listen, prompt, out, n, k, from, to, ramp, ownFrom, listenFrom)) return LIMITER_UNITY - to;
  scaleMix(sum, own, gain, listen, prompt, out, n, k, to, to, 0, ownFrom, listenFrom);
  return LIMITER_UNITY - to;
}

/**
 * One party's output into `out` (mixMinus, then limitFrame with the limiter on), its limiter
 * attenuation at `attenuation` (an i32 it keeps from frame to frame). The common case, unity gain
 * and the peak under the ceiling, costs the peak scan only.
 */
export function partyOutput(
  sum: usize, own: usize, gain: i32, listen: i32, prompt: usize, out: usize, n: i32, limiter: bool, attenuation: usize,
  ownFrom: i32, listenFrom: i32
): void {
  const peak = mixMinus(sum, own, gain, listen, prompt, out, n, ownFrom, listenFrom);
  const a = load<i32>(attenuation);
  if (!limiter) {
    if (a != 0) store<i32>(attenuation, 0);
    return;
  }
  if (a == 0 && peak <= LIMITER_CEILING) return;
  store<i32>(attenuation, limitFrame(sum, own, gain, listen, prompt, out, n, peak, a, ownFrom, listenFrom));
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
