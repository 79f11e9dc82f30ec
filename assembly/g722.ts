/**
 * G.722 at 64 kbit/s (ITU-T G.722, mode 1), the per-frame codec of a wideband phone: 16 kHz PCM
 * in, one byte per two samples out. The same algorithm, word for word, as
 * engine/dsp/reference/g722.ts (whose comments name the blocks); the state of one direction is
 * G722_STATE_WORDS i32 words at `st`: the lower band, the higher band, then the QMF history.
 * The QMF and the zero predictor's six taps run four lanes at a time (SIMD): they were two
 * fifths of the time (`npm run bench -- g722`: 14.6 to 10.2 µs a frame encoded, 11.0 to 5.5
 * decoded).
 */
import { G722_DIRECTION_BYTES } from './layout';

const B_S: i32 = 0;
const B_SP: i32 = 1;
const B_SZ: i32 = 2;
const B_NB: i32 = 3;
const B_DET: i32 = 4;
const B_R: i32 = 5;
const B_A: i32 = 8;
const B_P: i32 = 14;
const B_D: i32 = 17;
const B_B: i32 = 24;
const B_BP: i32 = 31;
const BAND_WORDS: i32 = 40;
const LOW: i32 = 0;
const HIGH: i32 = BAND_WORDS;
const QMF: i32 = 2 * BAND_WORDS;
export const G722_STATE_WORDS: i32 = 2 * BAND_WORDS + 24;
// @ts-ignore: a compile-time check that layout.ts leaves room for it
if (G722_STATE_WORDS * 4 != G722_DIRECTION_BYTES) ERROR('G722_DIRECTION_BYTES is not one direction');

/** The QMF's coefficients h[i] interleaved with their mirror, h[0], h[11], h[1], h[10], ..., as the history's even and odd samples take them. */
const QMF_PAIRS: StaticArray<i32> = [
  3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876, 3876, 951, -805, -210, 362, 32, -156, 12,
  53, -11, -11, 3
];
const Q6: StaticArray<i32> = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023,
  1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0
];
const ILN: StaticArray<i32> = [
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10,
  9, 8, 7, 6, 5, 4, 0
];
const ILP: StaticArray<i32> = [
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38,
  37, 36, 35, 34, 33, 32, 0
];
const WL: StaticArray<i32> = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42: StaticArray<i32> = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const ILB: StaticArray<i32> = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008
];
const QM4: StaticArray<i32> = [
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0
];
const QM6: StaticArray<i32> = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
  -9360, -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400,
  -2032, -1688, -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232,
  9360, 8576, 7856, 7192, 6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688,
  1360, 1040, 728, 432, 136, -432, -136
];
const IHN: StaticArray<i32> = [0, 1, 0];
const IHP: StaticArray<i32> = [0, 3, 2];
const WH: StaticArray<i32> = [0, -214, 798];
const RH2: StaticArray<i32> = [2, 1, 2, 1];
const QM2: StaticArray<i32> = [-7408, -1616, 7408, 1616];

// @ts-ignore: decorator
@inline function ld(st: usize, word: i32): i32 {
  return load<i32>(st + (<usize>word << 2));
}

// @ts-ignore: decorator
@inline function sto(st: usize, word: i32, v: i32): void {
  store<i32>(st + (<usize>word << 2), v);
}

// @ts-ignore: decorator
@inline function saturate(x: i32): i32 {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** A fresh direction: every word zero but the two scale factors. */
export function g722Init(st: usize): void {
  memory.fill(st, 0, <usize>(G722_STATE_WORDS << 2));
  sto(st, LOW + B_DET, 32);
  sto(st, HIGH + B_DET, 8);
}

function scaleFactor(b: usize, wl: i32, limit: i32, shift: i32): void {
  let nb = ((ld(b, B_NB) * 127) >> 7) + wl;
  if (nb < 0) nb = 0;
  else if (nb > limit) nb = limit;
  sto(b, B_NB, nb);
  const i = (nb >> 6) & 31;
  const sh = shift - (nb >> 11);
  const ilb = unchecked(ILB[i]);
  sto(b, B_DET, (sh < 0 ? ilb << -sh : ilb >> sh) << 2);
}

// @ts-ignore: decorator
@inline function saturate4(x: v128): v128 {
  return i32x4.min_s(i32x4.max_s(x, i32x4.splat(-32768)), i32x4.splat(32767));
}

/** UPZERO for four taps: the new zero-predictor coefficients from their last d and b. */
// @ts-ignore: decorator
@inline function upzero(d: v128, coefficients: v128, sgd: v128, step: v128): v128 {
  const same = i32x4.eq(i32x4.shr_s(d, 15), sgd);
  const signed = v128.bitselect(step, i32x4.neg(step), same);
  return saturate4(i32x4.add(signed, i32x4.shr_s(i32x4.mul(coefficients, i32x4.splat(32640)), 15)));
}

function block4(b: usize, dx: i32): void {
  const r0 = saturate(ld(b, B_S) + dx);
  const p0 = saturate(ld(b, B_SZ) + dx);
  const sg0 = p0 >> 15;
  const sg1 = ld(b, B_P + 1) >> 15;
  const sg2 = ld(b, B_P + 2) >> 15;
  const a1 = ld(b, B_A + 1);
  const a2 = ld(b, B_A + 2);
  let wd1 = saturate(a1 << 2);
  let wd2 = sg0 == sg1 ? -wd1 : wd1;
  if (wd2 > 32767) wd2 = 32767;
  let wd3 = (wd2 >> 7) + (sg0 == sg2 ? 128 : -128) + ((a2 * 32512) >> 15);
  if (wd3 > 12288) wd3 = 12288;
  else if (wd3 < -12288) wd3 = -12288;
  const ap2 = wd3;
  wd1 = sg0 == sg1 ? 192 : -192;
  wd2 = (a1 * 32640) >> 15;
  let ap1 = saturate(wd1 + wd2);
  wd3 = saturate(15360 - ap2);
  if (ap1 > wd3) ap1 = wd3;
  else if (ap1 < -wd3) ap1 = -wd3;
  // UPZERO, DELAYA and FILTEZ over the six taps i = 1..6, as two vectors of four, 1..4 and
  // 3..6 (taps 3 and 4 in both, the same values either way).
  const step = i32x4.splat(dx == 0 ? 0 : 128);
  const dAt = b + (<usize>B_D << 2);
  const bAt = b + (<usize>B_B << 2);
  const bpAt = b + (<usize>B_BP << 2);
  const sgd = i32x4.splat(dx >> 15);
  const low = upzero(v128.load(dAt, 4), v128.load(bAt, 4), sgd, step);
  const high = upzero(v128.load(dAt, 12), v128.load(bAt, 12), sgd, step);
  v128.store(bpAt, low, 4);
  v128.store(bpAt, high, 12);
  v128.store(bAt, low, 4);
  v128.store(bAt, high, 12);
  sto(b, B_D, dx);
  const dLow = v128.load(dAt);
  const dHigh = v128.load(dAt, 8);
  v128.store(dAt, dLow, 4);
  v128.store(dAt, dHigh, 12);
  sto(b, B_R + 2, ld(b, B_R + 1));
  sto(b, B_R + 1, r0);
  sto(b, B_P + 2, ld(b, B_P + 1));
  sto(b, B_P + 1, p0);
  sto(b, B_A + 1, ap1);
  sto(b, B_A + 2, ap2);
  const rr1 = saturate(ld(b, B_R + 1) * 2);
  const rr2 = saturate(ld(b, B_R + 2) * 2);
  const sp = saturate(((ap1 * rr1) >> 15) + ((ap2 * rr2) >> 15));
  sto(b, B_SP, sp);
  const zLow = i32x4.shr_s(i32x4.mul(low, saturate4(i32x4.shl(dLow, 1))), 15);
  const zHigh = i32x4.shr_s(i32x4.mul(high, saturate4(i32x4.shl(dHigh, 1))), 15);
  const sz = saturate(
    i32x4.extract_lane(zLow, 0) +
      i32x4.extract_lane(zLow, 1) +
      i32x4.extract_lane(zLow, 2) +
      i32x4.extract_lane(zLow, 3) +
      i32x4.extract_lane(zHigh, 2) +
      i32x4.extract_lane(zHigh, 3)
  );
  sto(b, B_SZ, sz);
  sto(b, B_S, saturate(sp + sz));
}

// The two sums of the last QMF step: history[2i]·h[i] and history[2i + 1]·h[11 − i].
let qmfDirect: i32 = 0;
let qmfMirrored: i32 = 0;

/** One QMF step: the history moves two samples on and takes `x0`, `x1`; sets the two sums. */
// @ts-ignore: decorator
@inline function qmfStep(st: usize, x0: i32, x1: i32): void {
  const q = st + (<usize>QMF << 2);
  // Forward, four words at a time: each load is ahead of every store before it.
  v128.store(q, v128.load(q, 8));
  v128.store(q, v128.load(q, 24), 16);
  v128.store(q, v128.load(q, 40), 32);
  v128.store(q, v128.load(q, 56), 48);
  v128.store(q, v128.load(q, 72), 64);
  store<i64>(q, load<i64>(q, 88), 80);
  store<i32>(q, x0, 88);
  store<i32>(q, x1, 92);
  const h = changetype<usize>(QMF_PAIRS);
  let acc = i32x4.mul(v128.load(q), v128.load(h));
  acc = i32x4.add(acc, i32x4.mul(v128.load(q, 16), v128.load(h, 16)));
  acc = i32x4.add(acc, i32x4.mul(v128.load(q, 32), v128.load(h, 32)));
  acc = i32x4.add(acc, i32x4.mul(v128.load(q, 48), v128.load(h, 48)));
  acc = i32x4.add(acc, i32x4.mul(v128.load(q, 64), v128.load(h, 64)));
  acc = i32x4.add(acc, i32x4.mul(v128.load(q, 80), v128.load(h, 80)));
  qmfDirect = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 2);
  qmfMirrored = i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 3);
}

/** Encodes `samples` (even) 16 kHz samples at `pcm` into `samples / 2` bytes at `out`. */
export function g722EncodeFrame(st: usize, pcm: usize, out: usize, samples: i32): void {
  const low = st + (<usize>LOW << 2);
  const high = st + (<usize>HIGH << 2);
  for (let j = 0, k = 0; j + 1 < samples; j += 2, k++) {
    const x0 = <i32>load<i16>(pcm + (<usize>j << 1));
    const x1 = <i32>load<i16>(pcm + (<usize>j << 1) + 2);
    qmfStep(st, x0, x1);
    const xlow = (qmfMirrored + qmfDirect) >> 14;
    const xhigh = (qmfMirrored - qmfDirect) >> 14;

    const el = saturate(xlow - ld(low, B_S));
    const wdl = el >= 0 ? el : -(el + 1);
    const detl = ld(low, B_DET);
    let i = 1;
    while (i < 30 && wdl >= (unchecked(Q6[i]) * detl) >> 12) i++;
    const ilow = el < 0 ? unchecked(ILN[i]) : unchecked(ILP[i]);
    const ril = ilow >> 2;
    const dlow = (detl * unchecked(QM4[ril])) >> 15;
    scaleFactor(low, unchecked(WL[unchecked(RL42[ril])]), 18432, 8);
    block4(low, dlow);

    const eh = saturate(xhigh - ld(high, B_S));
    const wdh = eh >= 0 ? eh : -(eh + 1);
    const deth = ld(high, B_DET);
    const mih = wdh >= (564 * deth) >> 12 ? 2 : 1;
    const ihigh = eh < 0 ? unchecked(IHN[mih]) : unchecked(IHP[mih]);
    const dhigh = (deth * unchecked(QM2[ihigh])) >> 15;
    scaleFactor(high, unchecked(WH[unchecked(RH2[ihigh])]), 22528, 10);
    block4(high, dhigh);

    store<u8>(out + <usize>k, <u8>((ihigh << 6) | ilow));
  }
}

/** Decodes `bytes` bytes at `code` into `2 * bytes` 16 kHz samples at `pcm`. */
export function g722DecodeFrame(st: usize, code: usize, pcm: usize, bytes: i32): void {
  const low = st + (<usize>LOW << 2);
  const high = st + (<usize>HIGH << 2);
  for (let k = 0; k < bytes; k++) {
    const c = <i32>load<u8>(code + <usize>k);
    const ilow = c & 0x3f;
    const ihigh = (c >> 6) & 0x03;

    const detl = ld(low, B_DET);
    let rlow = ld(low, B_S) + ((detl * unchecked(QM6[ilow])) >> 15);
    if (rlow > 16383) rlow = 16383;
    else if (rlow < -16384) rlow = -16384;
    const ril = ilow >> 2;
    const dlow = (detl * unchecked(QM4[ril])) >> 15;
    scaleFactor(low, unchecked(WL[unchecked(RL42[ril])]), 18432, 8);
    block4(low, dlow);

    const deth = ld(high, B_DET);
    const dhigh = (deth * unchecked(QM2[ihigh])) >> 15;
    let rhigh = dhigh + ld(high, B_S);
    if (rhigh > 16383) rhigh = 16383;
    else if (rhigh < -16384) rhigh = -16384;
    scaleFactor(high, unchecked(WH[unchecked(RH2[ihigh])]), 22528, 10);
    block4(high, dhigh);

    qmfStep(st, rlow + rhigh, rlow - rhigh);
    store<i16>(pcm + (<usize>k << 2), <i16>saturate(qmfMirrored >> 11));
    store<i16>(pcm + (<usize>k << 2) + 2, <i16>saturate(qmfDirect >> 11));
  }
}
