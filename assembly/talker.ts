/**
 * The per-frame measurement behind talker detection (the decisions are made in
 * engine/talker/talker-detector.ts): over one frame of a party's decoded input at the room rate,
 * the sum of squares, the sum of squares after a 2nd-order 200 Hz high-pass (removes DC and
 * mains hum) and the zero crossings of the high-passed signal. Done here, where the frame is
 * still in cache, rather than by JavaScript reading it back.
 *
 * Bit-exact with measureFrame in engine/talker/talker-features.ts: the same f64 operations in
 * the same order, and the filter coefficients are set from JavaScript (`setTalkerHighPass`) so
 * both sides use the very same values.
 *
 * The filter is in direct form II, its feedback summed as (x - a2·w2) - a1·w1: the only chain
 * from one sample to the next is one multiply and one subtract, where the transposed form this
 * replaced chained four operations, and the loop ran at the speed of that chain.
 *
 * Party slot fields (layout.ts): P_TALK_Z1, P_TALK_Z2 (the filter's w[n-1] and w[n-2]) and
 * P_TALK_PREV (last filtered sample) carry over between frames; P_TALK_SUM_RAW, P_TALK_SUM_HP
 * and P_TALK_CROSSINGS are this frame's results.
 */
import { P_TALK_Z1, P_TALK_Z2, P_TALK_PREV, P_TALK_SUM_RAW, P_TALK_SUM_HP, P_TALK_CROSSINGS, P_DECODED, P_PEAK } from './layout';

/** The same threshold as AT_REST in talker-features.ts. */
const AT_REST: f64 = 1e-30;

// Coefficients for 8 kHz rooms (index 0) and 16 kHz rooms (index 1).
let b0_8: f64 = 0, b1_8: f64 = 0, b2_8: f64 = 0, a1_8: f64 = 0, a2_8: f64 = 0;
let b0_16: f64 = 0, b1_16: f64 = 0, b2_16: f64 = 0, a1_16: f64 = 0, a2_16: f64 = 0;

/** The high-pass biquad (b0, b1, b2, a1, a2, normalised by a0) for rooms at `sampleRateHz`. */
export function setTalkerHighPass(sampleRateHz: i32, b0: f64, b1: f64, b2: f64, a1: f64, a2: f64): void {
  if (sampleRateHz == 16000) {
    b0_16 = b0;
    b1_16 = b1;
    b2_16 = b2;
    a1_16 = a1;
    a2_16 = a2;
  } else {
    b0_8 = b0;
    b1_8 = b1;
    b2_8 = b2;
    a1_8 = a1;
    a2_8 = a2;
  }
}

export function talkerReset(pp: usize): void {
  store<f64>(pp + P_TALK_Z1, 0);
  store<f64>(pp + P_TALK_Z2, 0);
  store<f64>(pp + P_TALK_PREV, 0);
}

/**
 * Measures the decoded frames (P_DECODED) of two parties at once: the filter is a chain of
 * dependent multiplies and adds, so one party alone keeps the CPU waiting on each step; two
 * parties in the lanes of one f64x2 cost about what one does. Each lane does exactly the scalar
 * operations of `talkerMeasure`, so the results are the same to the bit.
 */
export function talkerMeasurePair(pa: usize, pb: usize, n: i32, roomRate: i32): void {
  const wide = roomRate == 16000;
  const b0 = f64x2.splat(wide ? b0_16 : b0_8);
  const b1 = f64x2.splat(wide ? b1_16 : b1_8);
  const b2 = f64x2.splat(wide ? b2_16 : b2_8);
  const a1 = f64x2.splat(wide ? a1_16 : a1_8);
  const a2 = f64x2.splat(wide ? a2_16 : a2_8);
  const zero = f64x2.splat(0);
  let z1 = pair(load<f64>(pa + P_TALK_Z1), load<f64>(pb + P_TALK_Z1));
  let z2 = pair(load<f64>(pa + P_TALK_Z2), load<f64>(pb + P_TALK_Z2));
  let prev = pair(load<f64>(pa + P_TALK_PREV), load<f64>(pb + P_TALK_PREV));
  let prevNegative = f64x2.lt(prev, zero);
  let sumRaw = zero;
  let sumHp = zero;
  // Lanes of -1 per crossing, subtracted: a count per party.
  let crossings = i64x2.splat(0);
  const xa = pa + P_DECODED;
  const xb = pb + P_DECODED;
  for (let i = 0; i < n; i++) {
    const at = <usize>i << 1;
    const x = pair(<f64>load<i16>(xa + at), <f64>load<i16>(xb + at));
    const w = f64x2.sub(f64x2.sub(x, f64x2.mul(a2, z2)), f64x2.mul(a1, z1));
    const y = f64x2.add(f64x2.add(f64x2.mul(b0, w), f64x2.mul(b1, z1)), f64x2.mul(b2, z2));
    z2 = z1;
    z1 = w;
    sumRaw = f64x2.add(sumRaw, f64x2.mul(x, x));
    sumHp = f64x2.add(sumHp, f64x2.mul(y, y));
    const negative = f64x2.lt(y, zero);
    crossings = i64x2.sub(crossings, v128.xor(negative, prevNegative));
    prevNegative = negative;
    prev = y;
  }
  storePair(pa, pb, P_TALK_Z1, z1);
  storePair(pa, pb, P_TALK_Z2, z2);
  storePair(pa, pb, P_TALK_PREV, prev);
  settle(pa);
  settle(pb);
  storePair(pa, pb, P_TALK_SUM_RAW, sumRaw);
  storePair(pa, pb, P_TALK_SUM_HP, sumHp);
  store<i32>(pa + P_TALK_CROSSINGS, <i32>i64x2.extract_lane(crossings, 0));
  store<i32>(pb + P_TALK_CROSSINGS, <i32>i64x2.extract_lane(crossings, 1));
}

/**
 * Sets filter values under AT_REST to exactly 0, as talker-features.ts does: fed silence, the
 * filter would otherwise decay into slow subnormal numbers and never come to rest.
 */
function settle(pp: usize): void {
  if (abs<f64>(load<f64>(pp + P_TALK_Z1)) < AT_REST) store<f64>(pp + P_TALK_Z1, 0);
  if (abs<f64>(load<f64>(pp + P_TALK_Z2)) < AT_REST) store<f64>(pp + P_TALK_Z2, 0);
  if (abs<f64>(load<f64>(pp + P_TALK_PREV)) < AT_REST) store<f64>(pp + P_TALK_PREV, 0);
}

// @ts-ignore: decorator
@inline function pair(a: f64, b: f64): v128 {
  return f64x2.replace_lane(f64x2.splat(a), 1, b);
}

// @ts-ignore: decorator
@inline function storePair(pa: usize, pb: usize, field: i32, v: v128): void {
  store<f64>(pa + field, f64x2.extract_lane(v, 0));
  store<f64>(pb + field, f64x2.extract_lane(v, 1));
}

/**
 * Measures a silent party without filtering, when that gives the same figures: a frame of exact
 * zeros (digital silence, or no packet) into a filter already at rest sums to 0 with no zero
 * crossing and leaves it at rest. Most of a conference's parties are listening most of the time.
 * The frame is known silent from its peak (P_PEAK), which the room's input stage measured.
 * Returns false, measuring nothing, when the frame or the filter is not silent.
 */
export function talkerMeasureSilent(pp: usize): bool {
  if (load<i32>(pp + P_PEAK) != 0) return false;
  if (load<f64>(pp + P_TALK_Z1) != 0 || load<f64>(pp + P_TALK_Z2) != 0 || load<f64>(pp + P_TALK_PREV) != 0)
    return false;
  store<f64>(pp + P_TALK_SUM_RAW, 0);
  store<f64>(pp + P_TALK_SUM_HP, 0);
  store<i32>(pp + P_TALK_CROSSINGS, 0);
  return true;
}

/** Measures `n` int16 samples at `pcm` for the party whose slot is at `pp`. */
export function talkerMeasure(pp: usize, pcm: usize, n: i32, roomRate: i32): void {
  const wide = roomRate == 16000;
  const b0 = wide ? b0_16 : b0_8;
  const b1 = wide ? b1_16 : b1_8;
  const b2 = wide ? b2_16 : b2_8;
  const a1 = wide ? a1_16 : a1_8;
  const a2 = wide ? a2_16 : a2_8;
  let z1 = load<f64>(pp + P_TALK_Z1);
  let z2 = load<f64>(pp + P_TALK_Z2);
  let prev = load<f64>(pp + P_TALK_PREV);
  let sumRaw: f64 = 0;
  let sumHp: f64 = 0;
  let crossings: i32 = 0;
  for (let i = 0; i < n; i++) {
    const x = <f64>load<i16>(pcm + (<usize>i << 1));
    const w = x - a2 * z2 - a1 * z1;
    const y = b0 * w + b1 * z1 + b2 * z2;
    z2 = z1;
    z1 = w;
    sumRaw += x * x;
    sumHp += y * y;
    if (y < 0 != prev < 0) crossings++;
    prev = y;
  }
  store<f64>(pp + P_TALK_Z1, z1);
  store<f64>(pp + P_TALK_Z2, z2);
  store<f64>(pp + P_TALK_PREV, prev);
  settle(pp);
  store<f64>(pp + P_TALK_SUM_RAW, sumRaw);
  store<f64>(pp + P_TALK_SUM_HP, sumHp);
  store<i32>(pp + P_TALK_CROSSINGS, crossings);
}
