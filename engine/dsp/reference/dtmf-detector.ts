/**
 * Plain-TypeScript reference of the in-band DTMF detector in `assembly/dtmf.ts`.
 *
 * It makes the same decisions as the WebAssembly detector on every input, bit for bit: all
 * filter arithmetic is binary32 (`Math.fround` after every operation, in the same order as the
 * f32x4 lanes in WASM), energies are exact integers, and the coefficient tables below are the
 * ones `assembly/dtmf-tables.ts` holds as literals (a test compares them). The thresholds and
 * why they were chosen (ITU-T Q.24) are documented at the top of `assembly/dtmf.ts`; this file
 * only mirrors them. It is the readable version and the baseline of `bench/suites/dtmf.ts`, not
 * a hot-path component.
 */

const f = Math.fround;

/** DTMF frequencies (ITU-T Q.23): lanes 0-3 the low (row) group, lanes 4-7 the high (column) group. */
export const DTMF_FREQUENCIES_HZ = [697, 770, 852, 941, 1209, 1336, 1477, 1633] as const;
/** Key of (row, column), row-major. */
export const DTMF_KEYS = '123A456B789C*0#D';

/** Detector rate; 16 kHz input is decimated by 2 first. */
export const DETECTOR_RATE_HZ = 8000;
/** Samples per sub-block (2.5 ms): the filters run once per sub-block, windows are built from them. */
export const SUB_BLOCK_SAMPLES = 20;
/** Sub-blocks remembered (the longest window). */
export const HISTORY_SUB_BLOCKS = 8;
/** A decision every HOP_SUB_BLOCKS sub-blocks (5 ms). */
export const HOP_SUB_BLOCKS = 2;
/** Window length per lane in sub-blocks: about 14 cycles of each tone, so a given relative
 * frequency error costs every lane the same (see assembly/dtmf.ts). */
export const LANE_SUB_BLOCKS = [8, 7, 7, 6, 5, 4, 4, 4] as const;
/** Relative offset of the frequency-check filters (reject beyond half of it: 2.5 %). */
export const OFFSET_RATIO = 0.05;

/** Minimum tone amplitude², each tone (about -35 dBm0 per tone; 0 dBm0 ≈ 22 776 peak). */
export const LEVEL_MIN_AMPLITUDE2 = f(405 * 405);
/** High group may exceed the low group by at most this power ratio (normal twist, 6 dB). */
export const TWIST_NORMAL_MAX = f(10 ** (6 / 10));
/** Low group may exceed the high group by at most this power ratio (reverse twist, 10 dB). */
export const TWIST_REVERSE_MAX = f(10 ** (10 / 10));
/** Every other tone of a group must be this much weaker than the group's best (6 dB). */
export const GROUP_DOMINANCE = f(10 ** (6 / 10));
/** Share of the window energy the two tones must hold together. */
export const RELATIVE_ENERGY_MIN = f(0.7);
/** Harmonic-structure probes (3f_row, 2f_col, f_col + f_row) must stay this far below the
 * weaker tone (12 dB): a voice whose harmonics hit both DTMF tones has energy there too. */
export const HARMONIC_MAX = f(10 ** (-12 / 10));
/** Decisions in a row that must agree before a digit is on (5 ms each, 20 ms of windows). */
export const ON_HITS = 4;
/** Decisions in a row without the digit before it is off (bridges dropouts of 10 ms). */
export const OFF_MISSES = 5;
/** Decisions are skipped while any sub-block of their windows holds concealed input: it is
 * unknown audio, neither tone nor silence (see assembly/dtmf.ts). */
export const UNKNOWN_AFTER_CONCEALED_SUB_BLOCKS = HISTORY_SUB_BLOCKS;
/** Results kept when one call sees several digits end (a longer call drops the later ones). */
export const RESULT_QUEUE = 2;

export interface DtmfTables {
  /** 2 cos ω per lane (Goertzel feedback). */
  goertzel2Cos: Float32Array;
  cos: Float32Array;
  sin: Float32Array;
  /** rotation e^{jωLi} for sub-block age i (row i*8+lane), zero beyond the lane's window. */
  rotRe: Float32Array;
  rotIm: Float32Array;
  /** 4 / N² per lane, times the 16 kHz decimator's power loss correction when used. */
  levelScale8k: Float32Array;
  levelScale16k: Float32Array;
  /** 2 / N per lane (tone share of window energy). */
  shareScale: Float32Array;
  /** 2 cos ω at f(1-δ), f(1+δ) per lane: (lane*2 + 0|1). */
  offset2Cos: Float32Array;
  /** 2 cos ω at 3f_row / 2f_col per lane, and at f_col + f_row per digit (row*4 + col). */
  harmonic2Cos: Float32Array;
  sum2Cos: Float32Array;
}

/** Coefficient tables; `assembly/dtmf-tables.ts` holds these values as literals. */
export function buildDtmfTables(): DtmfTables {
  const w = (hz: number): number => (2 * Math.PI * hz) / DETECTOR_RATE_HZ;
  const t: DtmfTables = {
    goertzel2Cos: new Float32Array(8),
    cos: new Float32Array(8),
    sin: new Float32Array(8),
    rotRe: new Float32Array(8 * HISTORY_SUB_BLOCKS),
    rotIm: new Float32Array(8 * HISTORY_SUB_BLOCKS),
    levelScale8k: new Float32Array(8),
    levelScale16k: new Float32Array(8),
    shareScale: new Float32Array(8),
    offset2Cos: new Float32Array(16),
    harmonic2Cos: new Float32Array(8),
    sum2Cos: new Float32Array(16)
  };
  for (let k = 0; k < 8; k++) {
    const hz = DTMF_FREQUENCIES_HZ[k];
    const n = LANE_SUB_BLOCKS[k] * SUB_BLOCK_SAMPLES;
    t.goertzel2Cos[k] = 2 * Math.cos(w(hz));
    t.cos[k] = Math.cos(w(hz));
    t.sin[k] = Math.sin(w(hz));
    for (let i = 0; i < HISTORY_SUB_BLOCKS; i++) {
      const on = i < LANE_SUB_BLOCKS[k];
      t.rotRe[i * 8 + k] = on ? Math.cos(w(hz) * SUB_BLOCK_SAMPLES * i) : 0;
      t.rotIm[i * 8 + k] = on ? Math.sin(w(hz) * SUB_BLOCK_SAMPLES * i) : 0;
    }
    t.levelScale8k[k] = 4 / (n * n);
    // The 16 kHz decimator [1 3 3 1]/8 has gain cos³(πf/16000): undo its power loss.
    t.levelScale16k[k] = 4 / (n * n) / Math.cos((Math.PI * hz) / 16000) ** 6;
    t.shareScale[k] = 2 / n;
    t.offset2Cos[k * 2] = 2 * Math.cos(w(hz * (1 - OFFSET_RATIO)));
    t.offset2Cos[k * 2 + 1] = 2 * Math.cos(w(hz * (1 + OFFSET_RATIO)));
    t.harmonic2Cos[k] = 2 * Math.cos(w((k < 4 ? 3 : 2) * hz));
  }
  for (let d = 0; d < 16; d++) {
    const low = DTMF_FREQUENCIES_HZ[d >> 2];
    const high = DTMF_FREQUENCIES_HZ[4 + (d & 3)];
    t.sum2Cos[d] = 2 * Math.cos(w(high + low));
  }
  return t;
}

const T = buildDtmfTables();

/** A detected digit. */
export interface DtmfResult {
  code: number;
  startSample: number;
  durationSamples: number;
}

export class DtmfDetectorReference {
  readonly sampleRateHz: number;
  private readonly decimate: boolean;
  private readonly levelScale: Float32Array;
  private readonly ring = new Int16Array(HISTORY_SUB_BLOCKS * SUB_BLOCK_SAMPLES);
  private readonly zRe = new Float32Array(HISTORY_SUB_BLOCKS * 8);
  private readonly zIm = new Float32Array(HISTORY_SUB_BLOCKS * 8);
  private readonly energy = new Float64Array(HISTORY_SUB_BLOCKS);
  private readonly power = new Float32Array(8);
  private readonly level = new Float32Array(8);
  private readonly queue: DtmfResult[] = [];
  private slot = 0;
  private pos = 0;
  private subBlocks = 0;
  private history = [0, 0, 0];
  private phase = 0;
  private candidate = -1;
  private candidateHits = 0;
  private candidateFirstEnd = 0;
  private active = -1;
  private activeFirstEnd = 0;
  private activeLastEnd = 0;
  private misses = 0;
  /** Sub-blocks until no window holds concealed input. */
  private unknownSubBlocks = 0;
  private subBlockConcealed = false;
  private result: DtmfResult = { code: 0, startSample: 0, durationSamples: 0 };

  constructor(sampleRateHz: number) {
    if (sampleRateHz !== 8000 && sampleRateHz !== 16000) {
      throw new RangeError(`DTMF detector sample rate ${sampleRateHz} Hz must be 8000 or 16000`);
    }
    this.sampleRateHz = sampleRateHz;
    this.decimate = sampleRateHz === 16000;
    this.levelScale = this.decimate ? T.levelScale16k : T.levelScale8k;
  }

  /** Start of the last reported digit, in input samples since construction or `reset()`. */
  get resultStartSample(): number {
    return this.result.startSample;
  }

  /** Duration of the last reported digit, in input samples. */
  get resultDurationSamples(): number {
    return this.result.durationSamples;
  }

  /** A valid digit is being received right now. */
  get toneActive(): boolean {
    return this.active >= 0;
  }

  reset(): void {
    this.ring.fill(0);
    this.zRe.fill(0);
    this.zIm.fill(0);
    this.energy.fill(0);
    this.queue.length = 0;
    this.slot = this.pos = this.subBlocks = this.phase = 0;
    this.history = [0, 0, 0];
    this.candidate = this.active = -1;
    this.candidateHits = this.candidateFirstEnd = this.activeFirstEnd = this.activeLastEnd = this.misses = 0;
    this.unknownSubBlocks = 0;
    this.subBlockConcealed = false;
    this.result = { code: 0, startSample: 0, durationSamples: 0 };
  }

  /**
   * Feeds samples; `concealed` marks them as concealment of missing input (unknown audio).
   * Returns the ASCII code of a digit whose tone just ended, or 0.
   */
  process(pcm: Int16Array, concealed = false): number {
    for (let i = 0; i < pcm.length; i++) {
      let x = pcm[i];
      if (this.decimate) {
        const h = this.history;
        const y = (x + 3 * h[0] + 3 * h[1] + h[2]) >> 3;
        h[2] = h[1];
        h[1] = h[0];
        h[0] = x;
        this.phase ^= 1;
        if (this.phase !== 0) continue;
        x = y;
      }
      this.ring[this.slot * SUB_BLOCK_SAMPLES + this.pos] = x;
      if (concealed) this.subBlockConcealed = true;
      if (++this.pos === SUB_BLOCK_SAMPLES) this.subBlockDone();
    }
    const r = this.queue.shift();
    if (r === undefined) return 0;
    this.result = r;
    return r.code;
  }

  private subBlockDone(): void {
    const base = this.slot * SUB_BLOCK_SAMPLES;
    let e = 0;
    for (let k = 0; k < 8; k++) {
      const c = T.goertzel2Cos[k];
      let s1 = 0;
      let s2 = 0;
      for (let n = 0; n < SUB_BLOCK_SAMPLES; n++) {
        const s0 = f(f(this.ring[base + n] - s2) + f(c * s1));
        s2 = s1;
        s1 = s0;
      }
      this.zRe[this.slot * 8 + k] = f(s1 - f(T.cos[k] * s2));
      this.zIm[this.slot * 8 + k] = f(T.sin[k] * s2);
    }
    for (let n = 0; n < SUB_BLOCK_SAMPLES; n++) e += this.ring[base + n] * this.ring[base + n];
    this.energy[this.slot] = e;
    this.slot = (this.slot + 1) % HISTORY_SUB_BLOCKS;
    this.pos = 0;
    this.subBlocks++;
    if (this.subBlockConcealed) this.unknownSubBlocks = UNKNOWN_AFTER_CONCEALED_SUB_BLOCKS;
    else if (this.unknownSubBlocks > 0) this.unknownSubBlocks--;
    this.subBlockConcealed = false;
    if (this.subBlocks % HOP_SUB_BLOCKS === 0 && this.unknownSubBlocks === 0) this.decide(this.classify());
  }

  /** Window power per lane, then the Q.24 checks; the digit index 0-15 or -1. */
  private classify(): number {
    const newest = (this.slot + HISTORY_SUB_BLOCKS - 1) % HISTORY_SUB_BLOCKS;
    for (let k = 0; k < 8; k++) {
      let re = 0;
      let im = 0;
      for (let i = 0; i < HISTORY_SUB_BLOCKS; i++) {
        const s = ((newest - i + HISTORY_SUB_BLOCKS) % HISTORY_SUB_BLOCKS) * 8 + k;
        const tr = T.rotRe[i * 8 + k];
        const ti = T.rotIm[i * 8 + k];
        re = f(re + f(f(tr * this.zRe[s]) - f(ti * this.zIm[s])));
        im = f(im + f(f(tr * this.zIm[s]) + f(ti * this.zRe[s])));
      }
      this.power[k] = f(f(re * re) + f(im * im));
      this.level[k] = f(this.power[k] * this.levelScale[k]);
    }
    let row = 0;
    for (let k = 1; k < 4; k++) if (this.level[k] > this.level[row]) row = k;
    let col = 4;
    for (let k = 5; k < 8; k++) if (this.level[k] > this.level[col]) col = k;
    const lr = this.level[row];
    const lc = this.level[col];
    if (lr < LEVEL_MIN_AMPLITUDE2 || lc < LEVEL_MIN_AMPLITUDE2) return -1;
    if (lc > f(lr * TWIST_NORMAL_MAX) || lr > f(lc * TWIST_REVERSE_MAX)) return -1;
    for (let k = 0; k < 8; k++) {
      if (k === row || k === col) continue;
      if (f(this.level[k] * GROUP_DOMINANCE) > (k < 4 ? lr : lc)) return -1;
    }
    const share = f(this.share(row) + this.share(col));
    if (!(share >= RELATIVE_ENERGY_MIN)) return -1;
    const digit = row * 4 + (col - 4);
    // Hysteresis: a digit already on skips the frequency and talk-off filters.
    if (digit !== this.active && !this.frequenciesExact(row, col)) return -1;
    return digit;
  }

  /** Share of the lane's window energy in its tone: 2|X|²/(N·E). */
  private share(k: number): number {
    let e = 0;
    for (let i = 0; i < LANE_SUB_BLOCKS[k]; i++) {
      e += this.energy[(this.slot + HISTORY_SUB_BLOCKS - 1 - i) % HISTORY_SUB_BLOCKS];
    }
    return f(f(this.power[k] * T.shareScale[k]) / f(e));
  }

  /**
   * Q.24 frequency tolerance: each tone must be nearer its nominal frequency than f(1±5 %),
   * i.e. within 2.5 %; the off-nominal filters run over the same windows as the lanes. Talk-off:
   * the harmonic probes (over the row window) must be quiet.
   */
  private frequenciesExact(row: number, col: number): boolean {
    const digit = row * 4 + (col - 4);
    const c = [
      T.offset2Cos[row * 2],
      T.offset2Cos[row * 2 + 1],
      T.offset2Cos[col * 2],
      T.offset2Cos[col * 2 + 1],
      T.harmonic2Cos[row],
      T.harmonic2Cos[col],
      T.sum2Cos[digit],
      T.sum2Cos[digit]
    ];
    const s1 = [0, 0, 0, 0, 0, 0, 0, 0];
    const s2 = [0, 0, 0, 0, 0, 0, 0, 0];
    const total = HISTORY_SUB_BLOCKS * SUB_BLOCK_SAMPLES;
    const rowStart = total - LANE_SUB_BLOCKS[row] * SUB_BLOCK_SAMPLES;
    const colStart = total - LANE_SUB_BLOCKS[col] * SUB_BLOCK_SAMPLES;
    for (let n = rowStart; n < total; n++) {
      const x = this.ring[(this.slot * SUB_BLOCK_SAMPLES + n) % total];
      for (let j = 0; j < 8; j++) {
        const xin = (j !== 2 && j !== 3) || n >= colStart ? x : 0;
        const s0 = f(f(xin - s2[j]) + f(c[j] * s1[j]));
        s2[j] = s1[j];
        s1[j] = s0;
      }
    }
    const p = new Float32Array(8);
    for (let j = 0; j < 8; j++) {
      p[j] = f(f(f(s1[j] * s1[j]) + f(s2[j] * s2[j])) - f(f(c[j] * s1[j]) * s2[j]));
    }
    if (p[0] > this.power[row] || p[1] > this.power[row]) return false;
    if (p[2] > this.power[col] || p[3] > this.power[col]) return false;
    // Probes use the row window: compare levels (4/N² scaling) against the weaker tone.
    const weaker = f(Math.min(this.level[row], this.level[col]) * HARMONIC_MAX);
    const scale = T.levelScale8k[row];
    for (let j = 4; j < 8; j++) if (f(p[j] * scale) > weaker) return false;
    return true;
  }

  /** Q.24 timing: ON_HITS agreeing decisions start a digit, OFF_MISSES others end it. */
  private decide(digit: number): void {
    const end = this.subBlocks * SUB_BLOCK_SAMPLES;
    if (digit >= 0 && digit === this.candidate) {
      this.candidateHits++;
    } else {
      this.candidate = digit;
      this.candidateHits = digit >= 0 ? 1 : 0;
      this.candidateFirstEnd = end;
    }
    if (this.active >= 0) {
      if (digit === this.active) {
        this.misses = 0;
        this.activeLastEnd = end;
      } else if (++this.misses >= OFF_MISSES) {
        this.finish();
      }
    }
    if (this.active < 0 && this.candidateHits >= ON_HITS) {
      this.active = this.candidate;
      this.activeFirstEnd = this.candidateFirstEnd;
      this.activeLastEnd = end;
      this.misses = 0;
    }
  }

  /**
   * The first hit window held about 3/4 tone, the last one too: the tone started 3/4 of the
   * row window before the first hit's end and ended 1/4 before the last hit's end.
   */
  private finish(): void {
    const n = LANE_SUB_BLOCKS[this.active >> 2] * SUB_BLOCK_SAMPLES;
    const start = this.activeFirstEnd - ((n * 3) >> 2);
    const stop = this.activeLastEnd - (n >> 2);
    const scale = this.decimate ? 2 : 1;
    if (this.queue.length < RESULT_QUEUE) {
      this.queue.push({
        code: DTMF_KEYS.charCodeAt(this.active),
        startSample: Math.max(0, start) * scale,
        durationSamples: (stop - Math.max(0, start)) * scale
      });
    }
    this.active = -1;
    this.misses = 0;
  }
}
