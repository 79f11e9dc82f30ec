/**
 * The per-frame measurement behind talker detection, in TypeScript: the sum of squares of a
 * frame, the sum of squares after a 2nd-order Butterworth high-pass at 200 Hz (RBJ cookbook,
 * Q = 1/√2, direct form II with its feedback summed as (x − a2·w2) − a1·w1), and the zero crossings of the high-passed signal.
 * assembly/talker.ts does the same inside `processRoom`, bit for bit: the same f64 operations in
 * the same order, with the coefficients computed here and handed to it once.
 */

export const HIGH_PASS_HZ = 200;

/** Indexes of a measurement (a Float64Array of MEASUREMENT_SLOTS). */
export const SUM_RAW = 0;
export const SUM_HIGH_PASSED = 1;
export const ZERO_CROSSINGS = 2;
export const SAMPLES = 3;
export const MEASUREMENT_SLOTS = 4;

/** Filter state carried between frames: w[n-1], w[n-2] and the last filtered sample. */
export const FILTER_STATE_SLOTS = 3;

/**
 * A filter value this small at the end of a frame is set to exactly 0 (assembly/talker.ts does
 * the same). Fed silence, the filter would otherwise never come to rest: it decays into
 * subnormal numbers, which are slow to compute with, and stays there, cycling at ±1e-323.
 */
export const AT_REST = 1e-30;

/** [b0, b1, b2, a1, a2] of the high-pass at `sampleRateHz`, normalised by a0. */
export function highPassCoefficients(sampleRateHz: number): Float64Array {
  const w0 = (2 * Math.PI * HIGH_PASS_HZ) / sampleRateHz;
  const alpha = Math.sin(w0) / (2 * Math.SQRT1_2);
  const cos = Math.cos(w0);
  const a0 = 1 + alpha;
  return Float64Array.of(
    (1 + cos) / 2 / a0,
    -(1 + cos) / a0,
    (1 + cos) / 2 / a0,
    (-2 * cos) / a0,
    (1 - alpha) / a0
  );
}

/**
 * Measures `pcm[0, n)` into `out` (SUM_RAW, SUM_HIGH_PASSED, ZERO_CROSSINGS, SAMPLES), carrying
 * the filter `state` (FILTER_STATE_SLOTS) over from the previous frame. Allocates nothing.
 */
export function measureFrame(
  pcm: Int16Array,
  n: number,
  coefficients: Float64Array,
  state: Float64Array,
  out: Float64Array
): void {
  const b0 = coefficients[0];
  const b1 = coefficients[1];
  const b2 = coefficients[2];
  const a1 = coefficients[3];
  const a2 = coefficients[4];
  let z1 = state[0];
  let z2 = state[1];
  let prev = state[2];
  let sumRaw = 0;
  let sumFiltered = 0;
  let crossings = 0;
  for (let i = 0; i < n; i++) {
    const x = pcm[i];
    const w = x - a2 * z2 - a1 * z1;
    const y = b0 * w + b1 * z1 + b2 * z2;
    z2 = z1;
    z1 = w;
    sumRaw += x * x;
    sumFiltered += y * y;
    if (y < 0 !== prev < 0) crossings++;
    prev = y;
  }
  state[0] = Math.abs(z1) < AT_REST ? 0 : z1;
  state[1] = Math.abs(z2) < AT_REST ? 0 : z2;
  state[2] = Math.abs(prev) < AT_REST ? 0 : prev;
  out[SUM_RAW] = sumRaw;
  out[SUM_HIGH_PASSED] = sumFiltered;
  out[ZERO_CROSSINGS] = crossings;
  out[SAMPLES] = n;
}
