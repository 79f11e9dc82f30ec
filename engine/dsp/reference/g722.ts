/**
 * Plain-TypeScript G.722 at 64 kbit/s (ITU-T G.722, mode 1: 6 bits for the lower sub-band, 2 for
 * the higher), the reference for assembly/g722.ts and the party codec of the plain-JS kernels.
 * 16 kHz 16-bit PCM in, one byte per two samples out (RTP clock 8000, RFC 3551 §4.5.2).
 *
 * The state of one direction is an Int32Array laid out as `G722_STATE` says, the same words the
 * WebAssembly core keeps in a party slot, so the two are compared word for word in the tests.
 */

/** Words of one sub-band's ADPCM state (block 4's predictor and the scale factor). */
export const BAND = {
  s: 0,
  sp: 1,
  sz: 2,
  nb: 3,
  det: 4,
  r: 5, // r[0..2]
  a: 8, // a[0..2]
  ap: 11, // ap[0..2]
  p: 14, // p[0..2]
  d: 17, // d[0..6]
  b: 24, // b[0..6]
  bp: 31, // bp[0..6]
  words: 40
} as const;

/** One direction: the lower band, the higher band, then the QMF's 24 samples of history. */
export const G722_STATE = {
  low: 0,
  high: BAND.words,
  qmf: 2 * BAND.words,
  words: 2 * BAND.words + 24
} as const;

const QMF_COEFFS = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
const Q6 = [
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714, 786, 858, 940, 1023, 1121, 1219,
  1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919, 0, 0
];
const ILN = [
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7,
  6, 5, 4, 0
];
const ILP = [
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36,
  35, 34, 33, 32, 0
];
const WL = [-60, -30, 58, 172, 334, 538, 1198, 3042];
const RL42 = [0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0];
const ILB = [
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834, 2896, 2960,
  3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008
];
const QM4 = [
  0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0
];
const QM6 = [
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360,
  -8576, -7856, -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688,
  -1360, -1040, -728, 24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192,
  6576, 6000, 5456, 4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432,
  -136
];
const IHN = [0, 1, 0];
const IHP = [0, 3, 2];
const WH = [0, -214, 798];
const RH2 = [2, 1, 2, 1];
const QM2 = [-7408, -1616, 7408, 1616];

function saturate(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** A fresh direction: every word zero but the two scale factors (det 32 and 8). */
export function g722InitState(state: Int32Array): void {
  state.fill(0);
  state[G722_STATE.low + BAND.det] = 32;
  state[G722_STATE.high + BAND.det] = 8;
}

/** Block 3L/3H: the log scale factor's update and the linear one it gives. */
function scaleFactor(st: Int32Array, band: number, wl: number, limit: number, shift: number): void {
  let nb = ((st[band + BAND.nb] * 127) >> 7) + wl;
  if (nb < 0) nb = 0;
  else if (nb > limit) nb = limit;
  st[band + BAND.nb] = nb;
  const i = (nb >> 6) & 31;
  const sh = shift - (nb >> 11);
  st[band + BAND.det] = (sh < 0 ? ILB[i] << -sh : ILB[i] >> sh) << 2;
}

/** Block 4: reconstruction and the adaptive predictor of one sub-band, given the quantised difference. */
function block4(st: Int32Array, band: number, dx: number): void {
  const s = band;
  const r0 = saturate(st[s + BAND.s] + dx);
  const p0 = saturate(st[s + BAND.sz] + dx);
  const sg0 = p0 >> 15;
  const sg1 = st[s + BAND.p + 1] >> 15;
  const sg2 = st[s + BAND.p + 2] >> 15;
  // UPPOL2
  const a1 = st[s + BAND.a + 1];
  const a2 = st[s + BAND.a + 2];
  let wd1 = saturate(a1 << 2);
  let wd2 = sg0 === sg1 ? -wd1 : wd1;
  if (wd2 > 32767) wd2 = 32767;
  let wd3 = (wd2 >> 7) + (sg0 === sg2 ? 128 : -128) + ((a2 * 32512) >> 15);
  if (wd3 > 12288) wd3 = 12288;
  else if (wd3 < -12288) wd3 = -12288;
  const ap2 = wd3;
  // UPPOL1
  wd1 = sg0 === sg1 ? 192 : -192;
  wd2 = (a1 * 32640) >> 15;
  let ap1 = saturate(wd1 + wd2);
  wd3 = saturate(15360 - ap2);
  if (ap1 > wd3) ap1 = wd3;
  else if (ap1 < -wd3) ap1 = -wd3;
  // UPZERO
  wd1 = dx === 0 ? 0 : 128;
  const sgd = dx >> 15;
  for (let i = 1; i < 7; i++) {
    const same = st[s + BAND.d + i] >> 15 === sgd;
    st[s + BAND.bp + i] = saturate((same ? wd1 : -wd1) + ((st[s + BAND.b + i] * 32640) >> 15));
  }
  // DELAYA
  st[s + BAND.d] = dx;
  for (let i = 6; i > 0; i--) {
    st[s + BAND.d + i] = st[s + BAND.d + i - 1];
    st[s + BAND.b + i] = st[s + BAND.bp + i];
  }
  st[s + BAND.r + 2] = st[s + BAND.r + 1];
  st[s + BAND.r + 1] = r0;
  st[s + BAND.p + 2] = st[s + BAND.p + 1];
  st[s + BAND.p + 1] = p0;
  st[s + BAND.a + 1] = ap1;
  st[s + BAND.a + 2] = ap2;
  // FILTEP
  const rr1 = saturate(st[s + BAND.r + 1] * 2);
  const rr2 = saturate(st[s + BAND.r + 2] * 2);
  const sp = saturate(((ap1 * rr1) >> 15) + ((ap2 * rr2) >> 15));
  st[s + BAND.sp] = sp;
  // FILTEZ
  let sz = 0;
  for (let i = 6; i > 0; i--) {
    sz += (st[s + BAND.b + i] * saturate(st[s + BAND.d + i] * 2)) >> 15;
  }
  st[s + BAND.sz] = saturate(sz);
  // PREDIC
  st[s + BAND.s] = saturate(sp + st[s + BAND.sz]);
}

/** Encodes `samples` 16 kHz samples (even) of `pcm` into `samples / 2` bytes of `out`. */
export function g722Encode(st: Int32Array, pcm: Int16Array, out: Uint8Array, samples: number): void {
  const q = G722_STATE.qmf;
  const low = G722_STATE.low;
  const high = G722_STATE.high;
  for (let j = 0, k = 0; j + 1 < samples; j += 2, k++) {
    // Transmit QMF: two samples in, one of each sub-band out.
    for (let i = 0; i < 22; i++) st[q + i] = st[q + i + 2];
    st[q + 22] = pcm[j];
    st[q + 23] = pcm[j + 1];
    let direct = 0;
    let mirrored = 0;
    for (let i = 0; i < 12; i++) {
      direct += st[q + 2 * i] * QMF_COEFFS[i];
      mirrored += st[q + 2 * i + 1] * QMF_COEFFS[11 - i];
    }
    const xlow = (mirrored + direct) >> 14;
    const xhigh = (mirrored - direct) >> 14;

    // Lower band: 6-bit adaptive quantiser (block 1L), then blocks 2L-4L.
    const el = saturate(xlow - st[low + BAND.s]);
    const wdl = el >= 0 ? el : -(el + 1);
    const detl = st[low + BAND.det];
    let i = 1;
    while (i < 30 && wdl >= (Q6[i] * detl) >> 12) i++;
    const ilow = el < 0 ? ILN[i] : ILP[i];
    const ril = ilow >> 2;
    const dlow = (detl * QM4[ril]) >> 15;
    scaleFactor(st, low, WL[RL42[ril]], 18432, 8);
    block4(st, low, dlow);

    // Higher band: 2-bit quantiser (block 1H), then blocks 2H-4H.
    const eh = saturate(xhigh - st[high + BAND.s]);
    const wdh = eh >= 0 ? eh : -(eh + 1);
    const deth = st[high + BAND.det];
    const mih = wdh >= (564 * deth) >> 12 ? 2 : 1;
    const ihigh = eh < 0 ? IHN[mih] : IHP[mih];
    const dhigh = (deth * QM2[ihigh]) >> 15;
    scaleFactor(st, high, WH[RH2[ihigh]], 22528, 10);
    block4(st, high, dhigh);

    out[k] = (ihigh << 6) | ilow;
  }
}

/** Decodes `bytes` bytes of `code`, from byte `from` on, into `2 * bytes` 16 kHz samples of `pcm`. */
export function g722Decode(st: Int32Array, code: Uint8Array, pcm: Int16Array, bytes: number, from = 0): void {
  const q = G722_STATE.qmf;
  const low = G722_STATE.low;
  const high = G722_STATE.high;
  for (let k = 0; k < bytes; k++) {
    const c = code[from + k];
    const ilow = c & 0x3f;
    const ihigh = (c >> 6) & 0x03;

    // Lower band: the 6-bit inverse quantiser reconstructs; the predictor adapts on 4 bits.
    const detl = st[low + BAND.det];
    let rlow = st[low + BAND.s] + ((detl * QM6[ilow]) >> 15);
    if (rlow > 16383) rlow = 16383;
    else if (rlow < -16384) rlow = -16384;
    const ril = ilow >> 2;
    const dlow = (detl * QM4[ril]) >> 15;
    scaleFactor(st, low, WL[RL42[ril]], 18432, 8);
    block4(st, low, dlow);

    const deth = st[high + BAND.det];
    const dhigh = (deth * QM2[ihigh]) >> 15;
    let rhigh = dhigh + st[high + BAND.s];
    if (rhigh > 16383) rhigh = 16383;
    else if (rhigh < -16384) rhigh = -16384;
    scaleFactor(st, high, WH[RH2[ihigh]], 22528, 10);
    block4(st, high, dhigh);

    // Receive QMF: one sample of each sub-band in, two samples out.
    for (let i = 0; i < 22; i++) st[q + i] = st[q + i + 2];
    st[q + 22] = rlow + rhigh;
    st[q + 23] = rlow - rhigh;
    let direct = 0;
    let mirrored = 0;
    for (let i = 0; i < 12; i++) {
      direct += st[q + 2 * i] * QMF_COEFFS[i];
      mirrored += st[q + 2 * i + 1] * QMF_COEFFS[11 - i];
    }
    pcm[2 * k] = saturate(mirrored >> 11);
    pcm[2 * k + 1] = saturate(direct >> 11);
  }
}
