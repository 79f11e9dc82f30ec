/**
 * Packet-loss concealment in the spirit of ITU-T G.711 Appendix I.
 *
 * - At the start of a loss the pitch period is estimated from the last 40 ms (two frames) by
 *   normalised cross-correlation over 5-15 ms (Appendix I §I.2.2: 40..120 samples at 8 kHz),
 *   first on every 2nd sample and lag, then refined at full resolution; that period is
 *   repeated (§I.2.3).
 * - The synthetic signal keeps full level for the first 10 ms, then is attenuated linearly by
 *   20 % per 10 ms so that it is silent 60 ms after the loss began (§I.2.4).
 * - When real audio resumes, the continuation of the synthetic signal is cross-faded into it
 *   over 4 ms, plus 4 ms for each further 20 ms lost, at most 10 ms (§I.2.6), so there is no
 *   click.
 * - A frame the jitter buffer skipped (to shrink its delay) is a splice of the same kind: the frame
 *   played after it is cross-faded over 4 ms from the pitch-repeated continuation of the audio
 *   before it, as after one lost frame (`plcSkip`), instead of stepping onto it.
 * Integer/f64 arithmetic in a fixed order: bit-exact with engine/dsp/reference/plc.ts.
 *
 * State per party (layout.ts): P_LOST, P_PITCH, P_PLC_POS, P_PLC_T and the pitch period itself
 * in P_PLC_BUF (up to 240 samples at 16 kHz).
 */
import { P_LOST, P_PITCH, P_PLC_POS, P_PLC_T, P_PLC_BUF } from './layout';

/** Gain (Q15) of the synthetic signal t samples after the loss began; r = rate / 8000. */
// @ts-ignore: decorator
@inline function plcGain(t: i32, r: i32): i32 {
  const t10 = 80 * r;
  const t60 = 480 * r;
  if (t < t10) return 32768;
  if (t >= t60) return 0;
  return 32768 - ((t - t10) * 32768) / (t60 - t10);
}

/** Best pitch period (samples) of the h samples at hist, which hold 40 ms at rate 8000·r. */
export function findPitch(hist: usize, h: i32, r: i32): i32 {
  const w = 160 * r;
  const minP = 40 * r;
  const maxP = 120 * r;
  const step = 2 * r;
  const ws = h - w;
  let best = -1.0;
  let bestP = minP;
  for (let p = minP; p <= maxP; p += step) {
    const score = correlation(hist, ws, h, p, step);
    if (score > best) {
      best = score;
      bestP = p;
    }
  }
  const lo = bestP - step + 1 > minP ? bestP - step + 1 : minP;
  const hi = bestP + step - 1 < maxP ? bestP + step - 1 : maxP;
  best = -1.0;
  let fineP = bestP;
  for (let p = lo; p <= hi; p++) {
    const score = correlation(hist, ws, h, p, 1);
    if (score > best) {
      best = score;
      fineP = p;
    }
  }
  return fineP;
}

/**
 * c / sqrt(e), where c = sum of hist[i]·hist[i - lag] and e = sum of hist[i - lag]² over i = from,
 * from + stride, ... < to. Eight samples at a time in SIMD, every product an exact i32 summed in
 * i64 lanes: the sums are the exact integers the scalar f64 loop of engine/dsp/reference/plc.ts
 * reaches (each of its partial sums is an integer under 2^53), so the score is bit-exact with it.
 * `to - from` is a multiple of 8 and `from` of `stride` (1, 2 or 4).
 */
function correlation(hist: usize, from: i32, to: i32, lag: i32, stride: i32): f64 {
  let c = i64x2(0, 0);
  let e = i64x2(0, 0);
  if (stride == 1) {
    for (let i = from; i < to; i += 8) {
      const a = v128.load(hist + (<usize>i << 1));
      const b = v128.load(hist + (<usize>(i - lag) << 1));
      c = addWidened(c, i32x4.extmul_low_i16x8_s(a, b));
      c = addWidened(c, i32x4.extmul_high_i16x8_s(a, b));
      e = addWidened(e, i32x4.extmul_low_i16x8_s(b, b));
      e = addWidened(e, i32x4.extmul_high_i16x8_s(b, b));
    }
  } else {
    // Only the samples at multiples of stride: the others' lanes zeroed, so that each i32 lane of
    // the dot product holds one product (two could overflow it).
    const keep = stride == 2 ? i32x4.splat(0xffff) : i64x2.splat(0xffff);
    for (let i = from; i < to; i += 8) {
      const b = v128.load(hist + (<usize>(i - lag) << 1));
      const bKept = v128.and(b, keep);
      c = addWidened(c, i32x4.dot_i16x8_s(v128.and(v128.load(hist + (<usize>i << 1)), keep), b));
      e = addWidened(e, i32x4.dot_i16x8_s(bKept, b));
    }
  }
  const cf = <f64>(i64x2.extract_lane(c, 0) + i64x2.extract_lane(c, 1));
  const ef = <f64>(i64x2.extract_lane(e, 0) + i64x2.extract_lane(e, 1));
  return ef > 0 ? cf / Math.sqrt(ef) : 0.0;
}

// @ts-ignore: decorator
@inline function addWidened(sum: v128, products: v128): v128 {
  return i64x2.add(i64x2.add(sum, i64x2.extend_low_i32x4_s(products)), i64x2.extend_high_i32x4_s(products));
}

/**
 * Writes n concealment samples to out. hist holds the last 2n samples (oldest first); it is
 * read only when this is the first lost frame.
 */
export function plcConceal(party: usize, hist: usize, out: usize, n: i32, r: i32): void {
  const buf = party + P_PLC_BUF;
  const lost = load<i32>(party + P_LOST);
  if (lost == 0) plcStart(party, hist, n, r);
  const pitch = load<i32>(party + P_PITCH);
  let pos = load<i32>(party + P_PLC_POS);
  let t = load<i32>(party + P_PLC_T);
  for (let i = 0; i < n; i++) {
    const x = <i32>load<i16>(buf + (<usize>pos << 1));
    store<i16>(out + (<usize>i << 1), <i16>((x * plcGain(t, r)) >> 15));
    if (++pos == pitch) pos = 0;
    t++;
  }
  store<i32>(party + P_LOST, lost + 1);
  store<i32>(party + P_PLC_POS, pos);
  store<i32>(party + P_PLC_T, t);
}

/**
 * The frame before the next one was skipped: the next real frame is joined to the audio played
 * so far as after one lost frame (`plcResume`). hist as for `plcConceal`; nothing to do while
 * concealing, as the concealment already continues what was played.
 */
export function plcSkip(party: usize, hist: usize, n: i32, r: i32): void {
  if (load<i32>(party + P_LOST) != 0) return;
  plcStart(party, hist, n, r);
  store<i32>(party + P_LOST, 1);
}

/** The pitch period at the end of hist becomes the signal to repeat, from its start. */
function plcStart(party: usize, hist: usize, n: i32, r: i32): void {
  const h = 2 * n;
  const pitch = findPitch(hist, h, r);
  memory.copy(party + P_PLC_BUF, hist + (<usize>(h - pitch) << 1), <usize>pitch << 1);
  store<i32>(party + P_PITCH, pitch);
  store<i32>(party + P_PLC_POS, 0);
  store<i32>(party + P_PLC_T, 0);
}

/** Real audio after a loss: cross-fade the synthetic continuation into frame (in place). */
export function plcResume(party: usize, frame: usize, n: i32, r: i32): void {
  const lost = load<i32>(party + P_LOST);
  if (lost == 0) return;
  const buf = party + P_PLC_BUF;
  const pitch = load<i32>(party + P_PITCH);
  let pos = load<i32>(party + P_PLC_POS);
  let t = load<i32>(party + P_PLC_T);
  let len = 32 * r * lost;
  if (len > 80 * r) len = 80 * r;
  if (len > n) len = n;
  for (let i = 0; i < len; i++) {
    const syn = (<i32>load<i16>(buf + (<usize>pos << 1)) * plcGain(t, r)) >> 15;
    if (++pos == pitch) pos = 0;
    t++;
    const real = <i32>load<i16>(frame + (<usize>i << 1));
    store<i16>(frame + (<usize>i << 1), <i16>((syn * (len - i) + real * i) / len));
  }
  store<i32>(party + P_LOST, 0);
}

/** Input marked silent: no concealment state carries over. */
export function plcReset(party: usize): void {
  store<i32>(party + P_LOST, 0);
}
