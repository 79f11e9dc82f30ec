/**
 * In-band DTMF detector (ITU-T Q.23 tones, Q.24 receiver limits), one state block per party,
 * streaming across calls of any size. The plain-TypeScript twin that makes the same decisions
 * bit for bit is engine/dsp/reference/dtmf-detector.ts.
 *
 * How it works. Input at 16 kHz is first decimated to 8 kHz by [1 3 3 1]/8 (gain cos³(πf/16000),
 * corrected in the level scale). Every 20 samples (a 2.5 ms sub-block) eight Goertzel filters,
 * two f32x4 vectors, give each DTMF frequency's complex DFT value Z over that sub-block; the
 * last 8 are kept. Every 2 sub-blocks (5 ms) a window per frequency is formed by rotating and
 * summing them, W = Σ Z_(newest-i)·e^(jω·20·i), its length chosen per frequency as about 14
 * cycles (697 Hz: 160 samples, 770/852: 140, 941: 120, 1209: 100, 1336/1477/1633: 80), so a
 * given relative frequency error costs every tone the same (≈0.6 dB at 1.5 %) and the
 * frequency-error test below has the same margins everywhere. Each sample is filtered once.
 *
 * A 5 ms decision is a digit when all of these hold (Q.24 §§ and Table A-1 limits in brackets):
 *  - level: each tone at least -35 dBm0 (≈405 peak; 0 dBm0 = 22 776 peak, G.711's +3.14 dBm0
 *    full scale). Q.24 asks to accept tones down to about -25..-30 dBm0 and to reject
 *    below about -40..-45 dBm0; -35 sits between with 5 dB to either side.
 *  - twist: high group up to 6 dB above the low group (normal twist, Q.24 operate limit 4 dB)
 *    and low group up to 10 dB above the high group (reverse twist, limit 8 dB). The 2 dB
 *    guard covers what the short rectangular windows do to the level estimate: the other
 *    tone's sidelobes move it by up to ±1 dB, a 1.5 % frequency error by up to 0.6 dB.
 *  - group dominance: every other tone of each group at least 6 dB below the group's best (the
 *    first rectangular-window sidelobe of a neighbouring tone sits at -13 dB, so 6 dB leaves room).
 *  - relative energy: the two tones hold at least 70 % of the window energy (a clean digit
 *    gives ~100 %, 15 dB SNR ~97 %, 1.5 % frequency error ~87 %; speech and music far less).
 *  - frequency (Q.24: operate within ±1.5 %, do not operate beyond ±3.5 %): for the two tones
 *    found, Goertzel filters at f(1-5 %) and f(1+5 %) over the same windows must each be
 *    weaker than the nominal one, i.e. the tone lies within 2.5 % of nominal, midway between
 *    the two limits, independent of level, twist and noise.
 *  - talk-off: probes at 3·f_low, 2·f_high and f_low + f_high (all on harmonics of f0 when a
 *    voice's harmonics land on both tones) at least 12 dB below the weaker tone. A clean digit
 *    has nothing there; 15 dB SNR noise in a probe bin is ~25 dB down.
 *  These last two gate recognition only: while a digit is on, decisions for the same digit
 *  skip them (hysteresis, and it keeps a received digit's frames as cheap as silence).
 * Timing (Q.24: operate on 40 ms, a 40 ms pause separates digits; Bellcore adds do not operate
 * below 23 ms and bridge interruptions up to 10 ms): 4 agreeing decisions in a row (5 ms apart
 * over windows of up to 20 ms) switch a digit on, 5 decisions without it switch it off. A 40 ms
 * digit gives at least 4 full-window decisions; a 20 ms one at most 3 that pass; a 40 ms pause
 * gives 6 or more misses; a 10 ms dropout at most about 4. The digit is reported once, when it
 * ends, with its start and duration estimated from the first and last passing windows (which
 * hold about 3/4 tone).
 * Concealed input (the caller's jitter buffer had no packet: PLC output) is unknown audio, not
 * silence and not tone: a decision whose windows hold any of it is neither a hit nor a miss, so
 * a late or bursty stream neither ends a digit early (and reports it twice) nor starts one on a
 * concealed copy of the tone. A loss longer than the jitter buffer conceals comes through as
 * silence and ends the digit as usual.
 *
 * Memory layout of one state block (DTMF_STATE_BYTES = 1040, 8-byte aligned, owned by the caller):
 *    0  i16[160]  ring: the last 8 sub-blocks of 8 kHz samples, slot s at s*40
 *  320  f32[8][8] Z real part per sub-block slot and lane
 *  576  f32[8][8] Z imaginary part
 *  832  f64[8]    energy Σx² per sub-block slot (exact integers)
 *  896  i64       sub-blocks completed since dtmfInit
 *  904  i64       end (8 kHz samples) of the first window of the current candidate run
 *  912  i64       end of the first window of the active digit
 *  920  i64       end of the last window that saw the active digit
 *  928  i32 slot (next sub-block slot), 932 pos (samples in it), 936 candidate digit (-1 none),
 *  940  candidate hits, 944 active digit (-1 none), 948 misses, 952 decimate (0/1),
 *  956  decimator history x[n-1], 960 x[n-2], 964 x[n-3], 968 decimator phase,
 *  972  queued results, 976 result (i64 start, i32 duration, i32 code), 992 two queued results,
 * 1024  i32 sub-blocks until the windows hold no concealed audio, 1028 i32 the current sub-block
 *       holds concealed samples (0/1), 1032 i32 silent (all-zero) sub-blocks in a row.
 * Scratch (powers and levels of the current decision) is static: the module is single-threaded.
 */
import {
  TAB_GOERTZEL_2COS,
  TAB_COS,
  TAB_SIN,
  TAB_ROT_RE,
  TAB_ROT_IM,
  TAB_LEVEL_SCALE_8K,
  TAB_LEVEL_SCALE_16K,
  TAB_SHARE_SCALE,
  TAB_OFFSET_2COS,
  TAB_HARMONIC_2COS,
  TAB_SUM_2COS
} from './dtmf-tables';

export const DTMF_STATE_BYTES: i32 = 1040;

const SUB: i32 = 20;
const HISTORY: i32 = 8;
const RING_SAMPLES: i32 = SUB * HISTORY;
const ON_HITS: i32 = 4;
const OFF_MISSES: i32 = 5;
const QUEUE_MAX: i32 = 2;

const LEVEL_MIN: f32 = <f32>(405 * 405);
// f32 of 10^(6/10), 10^(10/10), 10^(6/10), 10^(-12/10): the same roundings as the reference.
const TWIST_NORMAL_MAX: f32 = <f32>3.9810717055349722;
const TWIST_REVERSE_MAX: f32 = <f32>10.0;
const GROUP_DOMINANCE: f32 = <f32>3.9810717055349722;
const RELATIVE_ENERGY_MIN: f32 = <f32>0.7;
const HARMONIC_MAX: f32 = <f32>0.0630957344480193;

const KEYS: usize = memory.data<u8>([49, 50, 51, 65, 52, 53, 54, 66, 55, 56, 57, 67, 42, 48, 35, 68]);
const LANE_SUBS: usize = memory.data<i32>([8, 7, 7, 6, 5, 4, 4, 4]);

const O_RING: usize = 0;
const O_ZRE: usize = 320;
const O_ZIM: usize = 576;
const O_ENERGY: usize = 832;
const O_SUBBLOCKS: usize = 896;
const O_CAND_FIRST: usize = 904;
const O_ACTIVE_FIRST: usize = 912;
const O_ACTIVE_LAST: usize = 920;
const O_SLOT: usize = 928;
const O_POS: usize = 932;
const O_CAND: usize = 936;
const O_CAND_HITS: usize = 940;
const O_ACTIVE: usize = 944;
const O_MISSES: usize = 948;
const O_DECIMATE: usize = 952;
const O_H0: usize = 956;
const O_H1: usize = 960;
const O_H2: usize = 964;
const O_PHASE: usize = 968;
const O_QUEUED: usize = 972;
const O_RESULT: usize = 976;
const O_QUEUE: usize = 992;
const O_UNKNOWN: usize = 1024;
const O_SUB_CONCEALED: usize = 1028;
const O_SILENT_RUN: usize = 1032;

/** Powers |W|² and levels (amplitude²) of the decision being made, lanes 0-7. */
const POWER: usize = memory.data(32, 16);
const LEVEL: usize = memory.data(32, 16);

/** Clears `state` for a new party; `sampleRateHz` must be 8000 or 16000 (traps otherwise). */
export function dtmfInit(state: usize, sampleRateHz: i32): void {
  if (sampleRateHz != 8000 && sampleRateHz != 16000) unreachable();
  memory.fill(state, 0, <usize>DTMF_STATE_BYTES);
  store<i32>(state + O_CAND, -1);
  store<i32>(state + O_ACTIVE, -1);
  store<i32>(state + O_DECIMATE, sampleRateHz == 16000 ? 1 : 0);
}

/**
 * Feeds `nSamples` int16 samples at `pcm`; `concealed` (non-zero) marks them as concealment of
 * missing input. Returns 0, or the ASCII code of a digit whose tone has just ended; its start
 * and duration are then read with the two result functions.
 */
export function dtmfProcess(state: usize, pcm: usize, nSamples: i32, concealed: i32): i32 {
  if (load<i32>(state + O_DECIMATE) != 0) {
    // 16 kHz: decimated a chunk at a time, then detected as 8 kHz input.
    let done: i32 = 0;
    while (done < nSamples) {
      const n = min(nSamples - done, 2 * DECIMATED_MAX);
      feed8k(state, DECIMATED, decimate(state, pcm + <usize>(done << 1), n), concealed);
      done += n;
    }
  } else {
    feed8k(state, pcm, nSamples, concealed);
  }
  const queued = load<i32>(state + O_QUEUED);
  if (queued == 0) return 0;
  memory.copy(state + O_RESULT, state + O_QUEUE, 16);
  if (queued > 1) memory.copy(state + O_QUEUE, state + O_QUEUE + 16, <usize>((queued - 1) * 16));
  store<i32>(state + O_QUEUED, queued - 1);
  return load<i32>(state + O_RESULT + 12);
}

/** Start of the last reported digit, in input samples since dtmfInit. */
export function dtmfResultStartSample(state: usize): i64 {
  return load<i64>(state + O_RESULT);
}

/** Duration of the last reported digit, in input samples. */
export function dtmfResultDurationSamples(state: usize): i32 {
  return load<i32>(state + O_RESULT + 8);
}

/** A valid digit is being received now (keep it out of the conference mix). */
export function dtmfToneActive(state: usize): bool {
  return load<i32>(state + O_ACTIVE) >= 0;
}

/** 8 kHz samples into the sub-block ring: two whole sub-blocks at a time where they line up. */
function feed8k(state: usize, pcm: usize, nSamples: i32, concealed: i32): void {
  let done: i32 = 0;
  while (done < nSamples) {
    const pos = load<i32>(state + O_POS);
    if (pos == 0 && nSamples - done >= 2 * SUB) {
      twoSubBlocks(state, pcm + <usize>(done << 1), concealed);
      done += 2 * SUB;
      continue;
    }
    const n = min(nSamples - done, SUB - pos);
    const slot = load<i32>(state + O_SLOT);
    memory.copy(state + O_RING + <usize>((slot * SUB + pos) << 1), pcm + <usize>(done << 1), <usize>(n << 1));
    done += n;
    if (concealed != 0) store<i32>(state + O_SUB_CONCEALED, 1);
    if (pos + n == SUB) subBlockDone(state);
    else store<i32>(state + O_POS, pos + n);
  }
}

/** Most 8 kHz samples `decimate` writes at once, into DECIMATED. */
const DECIMATED_MAX: i32 = 512;
const DECIMATED: usize = memory.data(DECIMATED_MAX * 2, 16);

/**
 * 16 kHz to 8 kHz: [1 3 3 1]/8 low-pass, every second output kept, with the filter's history
 * and phase carried in `state`. Writes to DECIMATED and returns how many samples it wrote.
 */
function decimate(state: usize, pcm: usize, nSamples: i32): i32 {
  let h0 = load<i32>(state + O_H0);
  let h1 = load<i32>(state + O_H1);
  let h2 = load<i32>(state + O_H2);
  let phase = load<i32>(state + O_PHASE);
  let out: i32 = 0;
  for (let i = 0; i < nSamples; i++) {
    const x = <i32>load<i16>(pcm + <usize>(i << 1));
    const y = (x + 3 * h0 + 3 * h1 + h2) >> 3;
    h2 = h1;
    h1 = h0;
    h0 = x;
    phase ^= 1;
    if (phase != 0) continue;
    store<i16>(DECIMATED + <usize>(out << 1), <i16>y);
    out++;
  }
  store<i32>(state + O_H0, h0);
  store<i32>(state + O_H1, h1);
  store<i32>(state + O_H2, h2);
  store<i32>(state + O_PHASE, phase);
  return out;
}

/**
 * Two whole sub-blocks straight from the input: both Goertzel passes in one loop (each
 * sub-block's filters start from zero, so the two are independent chains and run side by side
 * instead of waiting on each other's latency), then each sub-block is stored and decided on in
 * turn exactly as `subBlockDone` does. The same f32 operations in the same order: bit for bit the
 * same results as two calls of `subBlockDone`.
 */
function twoSubBlocks(state: usize, pcm: usize, concealed: i32): void {
  // 40 samples of digital silence (or no packet at all): every filter stays at exactly +0.
  if (allZero(pcm, 2 * SUB)) {
    const zero = f32x4.splat(0);
    keepSubBlock(state, pcm, concealed, zero, zero, zero, zero, 0);
    keepSubBlock(state, pcm + <usize>(SUB << 1), concealed, zero, zero, zero, zero, 0);
    return;
  }
  const ca = v128.load(TAB_GOERTZEL_2COS);
  const cb = v128.load(TAB_GOERTZEL_2COS, 16);
  let s1a = f32x4.splat(0);
  let s2a = f32x4.splat(0);
  let s1b = f32x4.splat(0);
  let s2b = f32x4.splat(0);
  let t1a = f32x4.splat(0);
  let t2a = f32x4.splat(0);
  let t1b = f32x4.splat(0);
  let t2b = f32x4.splat(0);
  let e: i64 = 0;
  let f: i64 = 0;
  const second = pcm + <usize>(SUB << 1);
  for (let n = 0; n < SUB; n++) {
    const xi = <i32>load<i16>(pcm + <usize>(n << 1));
    const yi = <i32>load<i16>(second + <usize>(n << 1));
    e += <i64>(xi * xi);
    f += <i64>(yi * yi);
    const x = f32x4.splat(<f32>xi);
    const y = f32x4.splat(<f32>yi);
    const sa = f32x4.add(f32x4.sub(x, s2a), f32x4.mul(ca, s1a));
    const sb = f32x4.add(f32x4.sub(x, s2b), f32x4.mul(cb, s1b));
    const ta = f32x4.add(f32x4.sub(y, t2a), f32x4.mul(ca, t1a));
    const tb = f32x4.add(f32x4.sub(y, t2b), f32x4.mul(cb, t1b));
    s2a = s1a;
    s1a = sa;
    s2b = s1b;
    s1b = sb;
    t2a = t1a;
    t1a = ta;
    t2b = t1b;
    t1b = tb;
  }
  keepSubBlock(state, pcm, concealed, s1a, s2a, s1b, s2b, e);
  keepSubBlock(state, second, concealed, t1a, t2a, t1b, t2b, f);
}

/** A whole sub-block filtered straight from the input: its samples into the ring, then stored and decided on. */
function keepSubBlock(
  state: usize,
  samples: usize,
  concealed: i32,
  s1a: v128,
  s2a: v128,
  s1b: v128,
  s2b: v128,
  e: i64
): void {
  const slot = load<i32>(state + O_SLOT);
  memory.copy(state + O_RING + <usize>(slot * SUB * 2), samples, <usize>(SUB << 1));
  if (concealed != 0) store<i32>(state + O_SUB_CONCEALED, 1);
  storeSubBlock(state, slot, s1a, s2a, s1b, s2b, e);
}

/** Whether the `n` int16 samples at `pcm` (n a multiple of 4) are all zero. */
function allZero(pcm: usize, n: i32): bool {
  let bits: i64 = 0;
  for (let i = 0; i < n; i += 4) bits |= load<i64>(pcm + <usize>(i << 1));
  return bits == 0;
}

/** Goertzel over one 20-sample sub-block for the 8 frequencies (two f32x4), energy, decision. */
function subBlockDone(state: usize): void {
  const slot = load<i32>(state + O_SLOT);
  const base = state + O_RING + <usize>(slot * SUB * 2);
  const ca = v128.load(TAB_GOERTZEL_2COS);
  const cb = v128.load(TAB_GOERTZEL_2COS, 16);
  let s1a = f32x4.splat(0);
  let s2a = f32x4.splat(0);
  let s1b = f32x4.splat(0);
  let s2b = f32x4.splat(0);
  let e: i64 = 0;
  for (let n = 0; n < SUB; n++) {
    const xi = <i32>load<i16>(base + <usize>(n << 1));
    e += <i64>(xi * xi);
    const x = f32x4.splat(<f32>xi);
    const sa = f32x4.add(f32x4.sub(x, s2a), f32x4.mul(ca, s1a));
    const sb = f32x4.add(f32x4.sub(x, s2b), f32x4.mul(cb, s1b));
    s2a = s1a;
    s1a = sa;
    s2b = s1b;
    s1b = sb;
  }
  storeSubBlock(state, slot, s1a, s2a, s1b, s2b, e);
}

/** Stores a finished sub-block's DFT values and energy in `slot`, moves on, and decides every second one. */
function storeSubBlock(state: usize, slot: i32, s1a: v128, s2a: v128, s1b: v128, s2b: v128, e: i64): void {
  const z = <usize>(slot * 32);
  v128.store(state + O_ZRE + z, f32x4.sub(s1a, f32x4.mul(v128.load(TAB_COS), s2a)));
  v128.store(state + O_ZRE + z, f32x4.sub(s1b, f32x4.mul(v128.load(TAB_COS, 16), s2b)), 16);
  v128.store(state + O_ZIM + z, f32x4.mul(v128.load(TAB_SIN), s2a));
  v128.store(state + O_ZIM + z, f32x4.mul(v128.load(TAB_SIN, 16), s2b), 16);
  store<f64>(state + O_ENERGY + <usize>(slot << 3), <f64>e);
  store<i32>(state + O_SILENT_RUN, e == 0 ? load<i32>(state + O_SILENT_RUN) + 1 : 0);
  store<i32>(state + O_SLOT, (slot + 1) & (HISTORY - 1));
  store<i32>(state + O_POS, 0);
  const count = load<i64>(state + O_SUBBLOCKS) + 1;
  store<i64>(state + O_SUBBLOCKS, count);
  // Every window of the next HISTORY decisions holds this sub-block.
  let unknown = load<i32>(state + O_UNKNOWN);
  if (load<i32>(state + O_SUB_CONCEALED) != 0) unknown = HISTORY;
  else if (unknown > 0) unknown--;
  store<i32>(state + O_UNKNOWN, unknown);
  store<i32>(state + O_SUB_CONCEALED, 0);
  if ((count & 1) == 0 && unknown == 0) decide(state, classify(state), count * <i64>SUB);
}

/** Window powers per lane, then the Q.24 checks; the digit index 0-15 or -1. */
function classify(state: usize): i32 {
  // All eight sub-blocks silent: every window power is exactly 0, below any level.
  if (load<i32>(state + O_SILENT_RUN) >= HISTORY) return -1;
  const newest = (load<i32>(state + O_SLOT) + HISTORY - 1) & (HISTORY - 1);
  let reA = f32x4.splat(0);
  let imA = f32x4.splat(0);
  let reB = f32x4.splat(0);
  let imB = f32x4.splat(0);
  for (let i = 0; i < HISTORY; i++) {
    const z = <usize>(((newest - i + HISTORY) & (HISTORY - 1)) * 32);
    const t = <usize>(i * 32);
    const zrA = v128.load(state + O_ZRE + z);
    const ziA = v128.load(state + O_ZIM + z);
    const zrB = v128.load(state + O_ZRE + z, 16);
    const ziB = v128.load(state + O_ZIM + z, 16);
    const trA = v128.load(TAB_ROT_RE + t);
    const tiA = v128.load(TAB_ROT_IM + t);
    const trB = v128.load(TAB_ROT_RE + t, 16);
    const tiB = v128.load(TAB_ROT_IM + t, 16);
    reA = f32x4.add(reA, f32x4.sub(f32x4.mul(trA, zrA), f32x4.mul(tiA, ziA)));
    imA = f32x4.add(imA, f32x4.add(f32x4.mul(trA, ziA), f32x4.mul(tiA, zrA)));
    reB = f32x4.add(reB, f32x4.sub(f32x4.mul(trB, zrB), f32x4.mul(tiB, ziB)));
    imB = f32x4.add(imB, f32x4.add(f32x4.mul(trB, ziB), f32x4.mul(tiB, zrB)));
  }
  const pA = f32x4.add(f32x4.mul(reA, reA), f32x4.mul(imA, imA));
  const pB = f32x4.add(f32x4.mul(reB, reB), f32x4.mul(imB, imB));
  const scale = load<i32>(state + O_DECIMATE) != 0 ? TAB_LEVEL_SCALE_16K : TAB_LEVEL_SCALE_8K;
  v128.store(POWER, pA);
  v128.store(POWER, pB, 16);
  v128.store(LEVEL, f32x4.mul(pA, v128.load(scale)));
  v128.store(LEVEL, f32x4.mul(pB, v128.load(scale, 16)), 16);

  let row = 0;
  for (let k = 1; k < 4; k++) if (lane(LEVEL, k) > lane(LEVEL, row)) row = k;
  let col = 4;
  for (let k = 5; k < 8; k++) if (lane(LEVEL, k) > lane(LEVEL, col)) col = k;
  const lr = lane(LEVEL, row);
  const lc = lane(LEVEL, col);
  if (lr < LEVEL_MIN || lc < LEVEL_MIN) return -1;
  if (lc > lr * TWIST_NORMAL_MAX || lr > lc * TWIST_REVERSE_MAX) return -1;
  for (let k = 0; k < 8; k++) {
    if (k == row || k == col) continue;
    if (lane(LEVEL, k) * GROUP_DOMINANCE > (k < 4 ? lr : lc)) return -1;
  }
  const toneShare = share(state, row) + share(state, col);
  if (!(toneShare >= RELATIVE_ENERGY_MIN)) return -1;
  const digit = row * 4 + (col - 4);
  // Hysteresis: a digit already on keeps going on the checks above; the frequency and talk-off
  // filters (the costly part) only gate a digit's recognition.
  if (digit != load<i32>(state + O_ACTIVE) && !frequenciesExact(state, row, col)) return -1;
  return digit;
}

@inline function lane(table: usize, k: i32): f32 {
  return load<f32>(table + <usize>(k << 2));
}

/** Share of the lane's window energy in its tone: 2|X|²/(N·E). */
function share(state: usize, k: i32): f32 {
  const slot = load<i32>(state + O_SLOT);
  const subs = load<i32>(LANE_SUBS + <usize>(k << 2));
  let e: f64 = 0;
  for (let i = 0; i < subs; i++) {
    e += load<f64>(state + O_ENERGY + <usize>(((slot + HISTORY - 1 - i) & (HISTORY - 1)) << 3));
  }
  return (lane(POWER, k) * lane(TAB_SHARE_SCALE, k)) / <f32>e;
}

/**
 * Q.24 frequency tolerance and talk-off probes over the same windows: lanes A = f_row(1∓5 %),
 * f_col(1∓5 %) (the column lanes only over the shorter column window), lanes B = 3f_row,
 * 2f_col, f_row + f_col twice, over the row window.
 */
function frequenciesExact(state: usize, row: i32, col: i32): bool {
  const digit = row * 4 + (col - 4);
  let ca = f32x4.splat(0);
  ca = f32x4.replace_lane(ca, 0, lane(TAB_OFFSET_2COS, row * 2));
  ca = f32x4.replace_lane(ca, 1, lane(TAB_OFFSET_2COS, row * 2 + 1));
  ca = f32x4.replace_lane(ca, 2, lane(TAB_OFFSET_2COS, col * 2));
  ca = f32x4.replace_lane(ca, 3, lane(TAB_OFFSET_2COS, col * 2 + 1));
  let cb = f32x4.splat(lane(TAB_SUM_2COS, digit));
  cb = f32x4.replace_lane(cb, 0, lane(TAB_HARMONIC_2COS, row));
  cb = f32x4.replace_lane(cb, 1, lane(TAB_HARMONIC_2COS, col));
  const rowStart = RING_SAMPLES - load<i32>(LANE_SUBS + <usize>(row << 2)) * SUB;
  const colStart = RING_SAMPLES - load<i32>(LANE_SUBS + <usize>(col << 2)) * SUB;
  const ring = state + O_RING;
  const first = load<i32>(state + O_SLOT) * SUB;
  const rowOnly = i32x4(-1, -1, 0, 0);
  let s1a = f32x4.splat(0);
  let s2a = f32x4.splat(0);
  let s1b = f32x4.splat(0);
  let s2b = f32x4.splat(0);
  for (let n = rowStart; n < RING_SAMPLES; n++) {
    let at = first + n;
    if (at >= RING_SAMPLES) at -= RING_SAMPLES;
    const x = f32x4.splat(<f32>load<i16>(ring + <usize>(at << 1)));
    const xa = n < colStart ? v128.and(x, rowOnly) : x;
    const sa = f32x4.add(f32x4.sub(xa, s2a), f32x4.mul(ca, s1a));
    const sb = f32x4.add(f32x4.sub(x, s2b), f32x4.mul(cb, s1b));
    s2a = s1a;
    s1a = sa;
    s2b = s1b;
    s1b = sb;
  }
  const pa = f32x4.sub(f32x4.add(f32x4.mul(s1a, s1a), f32x4.mul(s2a, s2a)), f32x4.mul(f32x4.mul(ca, s1a), s2a));
  const pb = f32x4.sub(f32x4.add(f32x4.mul(s1b, s1b), f32x4.mul(s2b, s2b)), f32x4.mul(f32x4.mul(cb, s1b), s2b));
  const pr = lane(POWER, row);
  const pc = lane(POWER, col);
  if (f32x4.extract_lane(pa, 0) > pr || f32x4.extract_lane(pa, 1) > pr) return false;
  if (f32x4.extract_lane(pa, 2) > pc || f32x4.extract_lane(pa, 3) > pc) return false;
  const weaker = min<f32>(lane(LEVEL, row), lane(LEVEL, col)) * HARMONIC_MAX;
  const scale = lane(TAB_LEVEL_SCALE_8K, row);
  if (f32x4.extract_lane(pb, 0) * scale > weaker) return false;
  if (f32x4.extract_lane(pb, 1) * scale > weaker) return false;
  if (f32x4.extract_lane(pb, 2) * scale > weaker) return false;
  if (f32x4.extract_lane(pb, 3) * scale > weaker) return false;
  return true;
}

/** Q.24 timing: ON_HITS agreeing decisions switch a digit on, OFF_MISSES others switch it off. */
function decide(state: usize, digit: i32, end: i64): void {
  const candidate = load<i32>(state + O_CAND);
  if (digit >= 0 && digit == candidate) {
    store<i32>(state + O_CAND_HITS, load<i32>(state + O_CAND_HITS) + 1);
  } else {
    store<i32>(state + O_CAND, digit);
    store<i32>(state + O_CAND_HITS, digit >= 0 ? 1 : 0);
    store<i64>(state + O_CAND_FIRST, end);
  }
  let active = load<i32>(state + O_ACTIVE);
  if (active >= 0) {
    if (digit == active) {
      store<i32>(state + O_MISSES, 0);
      store<i64>(state + O_ACTIVE_LAST, end);
    } else {
      const misses = load<i32>(state + O_MISSES) + 1;
      store<i32>(state + O_MISSES, misses);
      if (misses >= OFF_MISSES) {
        finish(state, active);
        active = -1;
      }
    }
  }
  if (active < 0 && load<i32>(state + O_CAND_HITS) >= ON_HITS) {
    store<i32>(state + O_ACTIVE, load<i32>(state + O_CAND));
    store<i64>(state + O_ACTIVE_FIRST, load<i64>(state + O_CAND_FIRST));
    store<i64>(state + O_ACTIVE_LAST, end);
    store<i32>(state + O_MISSES, 0);
  }
}

/** Queues the ended digit: start 3/4 of the row window before the first passing window's end,
 * end 1/4 of it before the last passing window's end. */
function finish(state: usize, active: i32): void {
  const n = <i64>(load<i32>(LANE_SUBS + <usize>((active >> 2) << 2)) * SUB);
  let start = load<i64>(state + O_ACTIVE_FIRST) - ((n * 3) >> 2);
  const stop = load<i64>(state + O_ACTIVE_LAST) - (n >> 2);
  if (start < 0) start = 0;
  const scale: i64 = load<i32>(state + O_DECIMATE) != 0 ? 2 : 1;
  const queued = load<i32>(state + O_QUEUED);
  if (queued < QUEUE_MAX) {
    const q = state + O_QUEUE + <usize>(queued * 16);
    store<i64>(q, start * scale);
    store<i32>(q, <i32>((stop - start) * scale), 8);
    store<i32>(q, <i32>load<u8>(KEYS + <usize>active), 12);
    store<i32>(state + O_QUEUED, queued + 1);
  }
  store<i32>(state + O_ACTIVE, -1);
  store<i32>(state + O_MISSES, 0);
}

// Test entry points: two static party states and one PCM buffer (32 768 samples), so tests
// and benchmarks need no allocation in the module.
const TEST_STATES: usize = memory.data(2 * DTMF_STATE_BYTES, 16);
const TEST_PCM: usize = memory.data(65536, 16);

export function dtmfTestStatePtr(index: i32): usize {
  return TEST_STATES + <usize>((index & 1) * DTMF_STATE_BYTES);
}

export function dtmfTestPcmPtr(): usize {
  return TEST_PCM;
}

/** Address of coefficient table `which` (order of buildDtmfTables' fields), for the table test. */
export function dtmfTablePtr(which: i32): usize {
  switch (which) {
    case 0: return TAB_GOERTZEL_2COS;
    case 1: return TAB_COS;
    case 2: return TAB_SIN;
    case 3: return TAB_ROT_RE;
    case 4: return TAB_ROT_IM;
    case 5: return TAB_LEVEL_SCALE_8K;
    case 6: return TAB_LEVEL_SCALE_16K;
    case 7: return TAB_SHARE_SCALE;
    case 8: return TAB_OFFSET_2COS;
    case 9: return TAB_HARMONIC_2COS;
    case 10: return TAB_SUM_2COS;
    default: return 0;
  }
}
