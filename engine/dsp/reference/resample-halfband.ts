/**
 * Plain-TypeScript reference of the 8 kHz ↔ 16 kHz half-band resampler in
 * assembly/halfband.ts: same Q14 coefficients, same integer arithmetic, same state, so the
 * outputs are identical sample for sample. See that file for the filter design.
 */

/** 2·h(2k+1) in Q14 for k = 0..11; they sum to 8192. */
export const HALFBAND_Q14: readonly number[] = [
  10374, -3305, 1810, -1125, 723, -463, 288, -171, 94, -47, 20, -6
];
export const HALFBAND_TAPS = HALFBAND_Q14.length;
export const UP_STATE_SAMPLES = 2 * HALFBAND_TAPS - 1;
export const DOWN_STATE_SAMPLES = 4 * HALFBAND_TAPS - 2;
const MAX_FRAME = 320;

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** 8 kHz → 16 kHz, stateful across frames. */
export class HalfbandUpsampler {
  readonly state = new Int16Array(UP_STATE_SAMPLES);
  private readonly work = new Int16Array(UP_STATE_SAMPLES + MAX_FRAME);

  /** n input samples → 2n output samples. */
  process(src: Int16Array, dst: Int16Array, n: number): void {
    const s = this.work;
    const K = HALFBAND_TAPS;
    s.set(this.state);
    for (let i = 0; i < n; i++) s[UP_STATE_SAMPLES + i] = src[i];
    for (let i = 0; i < n; i++) {
      const c = i + K - 1;
      let acc = 8192;
      for (let k = 0; k < K; k++) acc += HALFBAND_Q14[k] * (s[c - k] + s[c + k + 1]);
      dst[2 * i] = s[c];
      dst[2 * i + 1] = sat16(acc >> 14);
    }
    for (let i = 0; i < UP_STATE_SAMPLES; i++) this.state[i] = s[n + i];
  }

  reset(): void {
    this.state.fill(0);
  }
}

/** 16 kHz → 8 kHz, stateful across frames. */
export class HalfbandDownsampler {
  readonly state = new Int16Array(DOWN_STATE_SAMPLES);
  private readonly work = new Int16Array(DOWN_STATE_SAMPLES + MAX_FRAME);

  /** n input samples (even) → n/2 output samples. */
  process(src: Int16Array, dst: Int16Array, n: number): void {
    const s = this.work;
    const K = HALFBAND_TAPS;
    s.set(this.state);
    for (let i = 0; i < n; i++) s[DOWN_STATE_SAMPLES + i] = src[i];
    const m = n >> 1;
    for (let j = 0; j < m; j++) {
      const c = 2 * j + 2 * K - 1;
      let acc = 16384 + (s[c] << 14);
      for (let k = 0; k < K; k++) {
        const off = 2 * k + 1;
        acc += HALFBAND_Q14[k] * (s[c - off] + s[c + off]);
      }
      dst[j] = sat16(acc >> 15);
    }
    for (let i = 0; i < DOWN_STATE_SAMPLES; i++) this.state[i] = s[n + i];
  }

  reset(): void {
    this.state.fill(0);
  }
}
