/**
 * A fast band-limited resampler for long audio (an hour of hold music), in plain TypeScript.
 * libsamplerate, as compiled by libsamplerate-js, spends some 200 ns on every output sample
 * whatever its filter, so an hour at 16 kHz took over 10 s; this one precomputes its filter.
 *
 * Two steps. While the input rate is at least 2.5 times the output rate, a half-band low-pass
 * halves it (31 taps, 8 multiplies per output: it only has to keep what the final step passes
 * free of aliases). Then one polyphase windowed-sinc filter (Kaiser, β = 7, about 70 dB) converts
 * the rest: its cut-off is the lower rate's Nyquist frequency, its transition band 15 % of that
 * rate wide around it (for an 8 kHz output: flat to 3.4 kHz, stopped from 4.6 kHz, so aliases
 * land only above the telephone band), and it spans 30 periods of the lower rate. Its coefficients
 * are tabled per phase: exactly when the rate ratio reduces to at most `MAX_PHASES` phases (every
 * common pair), else at the nearest of `MAX_PHASES` phases (a timing error below 1/8192 of an
 * input sample). Samples before the start and after the end count as silence; the output has
 * exactly round(n · to / from) samples, aligned with the input (no delay).
 */

/** Half-band taps h[1], h[3], ..., h[15] (h[0] = 1/2, every other even tap 0): Kaiser β = 8. */
const HALFBAND = designHalfband(8, 8);
const HALFBAND_REACH = 2 * HALFBAND.length - 1;
/**
 * The half-band is 70 dB down from 0.3275 of its input rate, so what it lets fold lands above
 * 0.1725 of it: past the final filter's pass band (0.428 of the output rate) once the input is
 * 2.48 times the output rate or more.
 */
const HALVE_FROM_RATIO = 2.5;
const MAX_PHASES = 4096;
/** Filter span either side, in periods of the lower of the two rates. */
const HALF_SPAN_PERIODS = 15;
const KAISER_BETA = 7;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 40; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

/** Kaiser window at t in [-1, 1]. */
function kaiser(t: number, beta: number): number {
  return Math.abs(t) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - t * t)) / besselI0(beta);
}

function sinc(x: number): number {
  return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
}

function designHalfband(pairs: number, beta: number): Float64Array {
  const reach = 2 * pairs - 1;
  const taps = new Float64Array(pairs);
  let sum = 0.5;
  for (let i = 0; i < pairs; i++) {
    const n = 2 * i + 1;
    taps[i] = 0.5 * sinc(n / 2) * kaiser(n / (reach + 1), beta);
    sum += 2 * taps[i];
  }
  // Unity gain at DC.
  for (let i = 0; i < pairs; i++) taps[i] *= 1 / sum;
  return taps;
}

/** Low-pass and keep every other sample: out[j] is centred on in[2j]. */
function halve(input: Float32Array): Float32Array {
  const n = input.length;
  const out = new Float32Array(Math.ceil(n / 2));
  const padded = new Float32Array(n + 2 * HALFBAND_REACH);
  padded.set(input, HALFBAND_REACH);
  const taps = HALFBAND;
  const pairs = taps.length;
  const centreGain = 1 - 2 * taps.reduce((a, b) => a + b, 0);
  for (let j = 0, centre = HALFBAND_REACH; j < out.length; j++, centre += 2) {
    let acc = centreGain * padded[centre];
    for (let i = 0; i < pairs; i++)
      acc += taps[i] * (padded[centre - 2 * i - 1] + padded[centre + 2 * i + 1]);
    out[j] = acc;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Converts `input`, sampled at `fromHz`, to `toHz`: the two rates are positive integers, and the
 * output has round(input.length · toHz / fromHz) samples.
 */
export function resamplePolyphase(input: Float32Array, fromHz: number, toHz: number): Float32Array {
  const wanted = Math.round((input.length * toHz) / fromHz);
  let samples = input;
  // The stage rate is fromHz / 2^halvings; ratios stay exact integers: (toHz · 2^h) / fromHz.
  let up = toHz;
  const down = fromHz;
  while (down >= HALVE_FROM_RATIO * up) {
    samples = halve(samples);
    up *= 2;
  }
  const g = gcd(up, down);
  const ratioUp = up / g;
  const ratioDown = down / g;
  const phases = Math.min(ratioUp, MAX_PHASES);
  // In input-sample units of this stage: the cut-off and the filter's reach either side.
  const stretch = Math.max(1, ratioDown / ratioUp);
  // Even, so the taps come in fours for the unrolled loop below.
  const reach = 2 * Math.ceil((HALF_SPAN_PERIODS * stretch) / 2);
  const taps = 2 * reach;
  const cutoff = 1 / stretch;
  const table = new Float32Array(phases * taps);
  for (let p = 0; p < phases; p++) {
    // Tap k weighs the input sample at floor(position) - reach + 1 + k.
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const offset = reach - 1 - k + p / phases;
      const h = sinc(cutoff * offset) * kaiser(offset / reach, KAISER_BETA);
      table[p * taps + k] = h;
      sum += h;
    }
    for (let k = 0; k < taps; k++) table[p * taps + k] /= sum;
  }
  const padded = new Float32Array(samples.length + 2 * reach + 1);
  padded.set(samples, reach);
  const out = new Float32Array(wanted);
  for (let n = 0; n < wanted; n++) {
    const position = n * ratioDown;
    let whole = Math.floor(position / ratioUp);
    let phase = position - whole * ratioUp;
    if (phases !== ratioUp) {
      phase = Math.round((phase * phases) / ratioUp);
      if (phase === phases) {
        phase = 0;
        whole++;
      }
    }
    // padded[whole + 1 + k] is the input sample at whole - reach + 1 + k.
    const base = whole + 1;
    const row = phase * taps;
    // Four partial sums: twice as fast in V8 as one.
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    for (let k = 0; k < taps; k += 4) {
      a0 += padded[base + k] * table[row + k];
      a1 += padded[base + k + 1] * table[row + k + 1];
      a2 += padded[base + k + 2] * table[row + k + 2];
      a3 += padded[base + k + 3] * table[row + k + 3];
    }
    out[n] = a0 + a1 + a2 + a3;
  }
  return out;
}
