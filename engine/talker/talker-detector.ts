/**
 * Talker detection for one party: a core without I/O that is fed one decoded frame at a time
 * and says when the party starts and stops talking, with hysteresis, and how loud it is.
 *
 * Per frame (no allocation, one pass over the samples):
 * - `levelDbfs`: RMS of the frame relative to full scale (32768), so a full-scale sine reads
 *   -3.01 dBFS; silence reads {@link MIN_DBFS}.
 * - Decision energy: RMS of the frame after a 2nd-order Butterworth high-pass at 200 Hz, which
 *   removes DC and 50/60 Hz mains hum (the telephone band starts at 300 Hz, ITU-T G.712), and
 *   the zero-crossing rate of that filtered signal (a hum that survives the filter still
 *   crosses zero only ~100-400 times a second; voiced speech crosses at about twice its first
 *   formant, 500+ per second).
 * - Adaptive noise floor: follows the decision energy down quickly (80 ms time constant) and up
 *   slowly (`noiseFloorRiseMs`), so a steady fan or hum becomes the floor within a few seconds
 *   while the dips between syllables keep the floor under running speech.
 *
 * Start: `startFrames` consecutive frames whose energy is at least
 * max(`startThresholdDbfs`, floor + `startMarginDb`), whose zero-crossing rate is at least
 * `minZeroCrossingsPerSecond`, and whose spectrum is not noise-like (meyda spectral flatness
 * below `maxSpectralFlatness`, over the last 32 ms, 0-4 kHz). Stop: the energy stays below
 * max(`stopThresholdDbfs`, floor + `stopMarginDb`) for `hangoverMs`, so short pauses between
 * words do not flap.
 *
 * Two ways in: `pushFrame(pcm)` measures the frame itself (talker-features.ts), for any frame
 * length; in the engine the DSP core has measured the frame already, inside its one call per room
 * (assembly/talker.ts, bit-exact with the TypeScript), and `pushMeasurement(previous, current)`
 * takes the figures from `measurement` and touches the samples only when meyda must look at them.
 *
 * Cost trade-off (numbers from `npx tsx bench/index.ts talker`): the measurement is
 * allocation-free (about 0.6 us per 20 ms frame at 8 kHz in plain JS, 0.4 us in the DSP core, two
 * parties at a time; the decision on it about 0.26 us); meyda's extract allocates ~14 KB per call
 * (its FFT builds objects per butterfly) and costs ~14-18 us, so it runs only on frames that are
 * already start candidates while the party is not talking (at most `startFrames` calls per
 * onset). Two candidates in a row that meyda judges noise-like back the spectral check off for
 * {@link NOISE_BACKOFF_FRAMES} frames, bounding the cost in broadband noise that the floor has
 * not absorbed yet to two calls per six frames.
 */
import { flatnessInputSamples, spectralFlatness } from './spectral-flatness.js';
import {
  FILTER_STATE_SLOTS,
  MEASUREMENT_SLOTS,
  SAMPLES,
  SUM_HIGH_PASSED,
  SUM_RAW,
  ZERO_CROSSINGS,
  highPassCoefficients,
  measureFrame
} from './talker-features.js';

/** What a frame changed: the party started talking, stopped, or neither. */
export type TalkerTransition = 'none' | 'started' | 'stopped';

export interface TalkerDetectorOptions {
  sampleRateHz: 8000 | 16000;
  /** Absolute energy a frame needs to count towards a start. Default -45 dBFS. */
  startThresholdDbfs?: number;
  /** Absolute energy under which a talking frame counts as quiet. Default -50 dBFS. */
  stopThresholdDbfs?: number;
  /** Consecutive start-candidate frames needed to start. Default 3 (60 ms at 20 ms frames). */
  startFrames?: number;
  /** How long energy must stay under the stop level before `stopped`. Default 400 ms. */
  hangoverMs?: number;
  /** Start level above the adaptive noise floor. Default 9 dB. */
  startMarginDb?: number;
  /** Stop level above the adaptive noise floor. Default 4 dB. */
  stopMarginDb?: number;
  /** Time constant of the noise floor rising towards louder steady input. Default 1500 ms. */
  noiseFloorRiseMs?: number;
  /** Spectral flatness at or above which a candidate is noise. Default 0.6 (white noise ~0.85, voiced speech 0.2-0.45). */
  maxSpectralFlatness?: number;
  /** Zero crossings per second (after the high-pass) below which a candidate is hum. Default 500. */
  minZeroCrossingsPerSecond?: number;
}

/** Lowest level reported: silence, and anything quieter, reads this. */
export const MIN_DBFS = -100;
/** Frames the spectral check is skipped after it found noise twice in a row. */
export const NOISE_BACKOFF_FRAMES = 4;

// Slots of TalkerDetector.figures after the measurement's (0 to MEASUREMENT_SLOTS - 1): the
// level and floor, and the floor's per-frame smoothing factors falling and rising.
const LEVEL = MEASUREMENT_SLOTS;
const FLOOR = MEASUREMENT_SLOTS + 1;
const FALL = MEASUREMENT_SLOTS + 2;
const RISE = MEASUREMENT_SLOTS + 3;
const FIGURE_SLOTS = MEASUREMENT_SLOTS + 4;

const FULL_SCALE_SQ = 32768 * 32768;
/** Power (relative to full scale) of MIN_DBFS. */
const MIN_POWER = Math.pow(10, MIN_DBFS / 10);
const FLOOR_FALL_MS = 80;

function finiteOr(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value))
    throw new RangeError(`talker detector option ${name} must be a finite number, got ${value}`);
  return value;
}

export class TalkerDetector {
  readonly sampleRateHz: 8000 | 16000;
  private readonly startThresholdDbfs: number;
  private readonly stopThresholdDbfs: number;
  private readonly startFrames: number;
  private readonly hangoverSamples: number;
  private readonly startMarginDb: number;
  private readonly stopMarginDb: number;
  private readonly noiseFloorRiseMs: number;
  private readonly maxSpectralFlatness: number;
  private readonly minZeroCrossingsPerSecond: number;

  /**
   * Every floating-point figure a frame's decision reads and writes, in one typed array of one
   * cache line: the measurement, then LEVEL, FLOOR, FALL and RISE. A typed array because V8 boxes
   * a double passed to a call or stored into an object field, which would allocate on every frame;
   * one, because a loaded engine finds each party's state out of cache, a line per array.
   */
  private readonly figures = new Float64Array(FIGURE_SLOTS);
  /**
   * The frame being decided (SUM_RAW, SUM_HIGH_PASSED, ZERO_CROSSINGS, SAMPLES of
   * talker-features.ts), the first slots of `figures`: filled by the DSP core before
   * `pushMeasurement`, by `pushFrame` itself otherwise.
   */
  readonly measurement = this.figures.subarray(0, MEASUREMENT_SLOTS);
  private readonly coefficients: Float64Array;
  /** pushFrame's own high-pass state. */
  private readonly filter = new Float64Array(FILTER_STATE_SLOTS);

  /** The last 32 ms of input, oldest first, for the spectral check. */
  private readonly window: Float32Array;
  private isTalking = false;
  private candidateFrames = 0;
  private quietSamples = 0;
  private backoffFrames = 0;
  private noiseVerdicts = 0;
  /** The frame length FALL and RISE are for. */
  private coefficientSamples = 0;
  private spectralCalls = 0;

  constructor(opts: TalkerDetectorOptions) {
    if (opts.sampleRateHz !== 8000 && opts.sampleRateHz !== 16000) {
      throw new RangeError(
        `talker detector sampleRateHz must be 8000 or 16000, got ${String(opts.sampleRateHz)}`
      );
    }
    this.sampleRateHz = opts.sampleRateHz;
    this.window = new Float32Array(flatnessInputSamples(this.sampleRateHz));
    this.figures[LEVEL] = MIN_DBFS;
    this.figures[FLOOR] = MIN_DBFS;
    this.startThresholdDbfs = finiteOr(opts.startThresholdDbfs, -45, 'startThresholdDbfs');
    this.stopThresholdDbfs = finiteOr(opts.stopThresholdDbfs, -50, 'stopThresholdDbfs');
    if (this.stopThresholdDbfs > this.startThresholdDbfs) {
      throw new RangeError(
        `talker detector stopThresholdDbfs (${this.stopThresholdDbfs}) must not be above startThresholdDbfs (${this.startThresholdDbfs})`
      );
    }
    this.startFrames = finiteOr(opts.startFrames, 3, 'startFrames');
    if (!Number.isInteger(this.startFrames) || this.startFrames < 1) {
      throw new RangeError(`talker detector startFrames must be an integer >= 1, got ${this.startFrames}`);
    }
    const hangoverMs = finiteOr(opts.hangoverMs, 400, 'hangoverMs');
    if (hangoverMs < 0) throw new RangeError(`talker detector hangoverMs must be >= 0, got ${hangoverMs}`);
    this.hangoverSamples = Math.round((hangoverMs * this.sampleRateHz) / 1000);
    this.startMarginDb = finiteOr(opts.startMarginDb, 9, 'startMarginDb');
    this.stopMarginDb = finiteOr(opts.stopMarginDb, 4, 'stopMarginDb');
    this.noiseFloorRiseMs = finiteOr(opts.noiseFloorRiseMs, 1500, 'noiseFloorRiseMs');
    if (this.noiseFloorRiseMs <= 0) throw new RangeError(`talker detector noiseFloorRiseMs must be > 0`);
    this.maxSpectralFlatness = finiteOr(opts.maxSpectralFlatness, 0.6, 'maxSpectralFlatness');
    this.minZeroCrossingsPerSecond = finiteOr(
      opts.minZeroCrossingsPerSecond,
      500,
      'minZeroCrossingsPerSecond'
    );
    this.coefficients = highPassCoefficients(this.sampleRateHz);
  }

  /** Whether the party is talking now (between a `started` and the next `stopped`). */
  get talking(): boolean {
    return this.isTalking;
  }

  /** RMS level of the last frame in dBFS ({@link MIN_DBFS} for silence or before any frame). */
  get levelDbfs(): number {
    return this.figures[LEVEL];
  }

  /** The adaptive noise floor (of the high-passed signal) in dBFS. */
  get noiseFloorDbfs(): number {
    return this.figures[FLOOR];
  }

  /** How many times meyda was asked for spectral flatness (for benchmarks and diagnostics). */
  get spectralChecks(): number {
    return this.spectralCalls;
  }

  /**
   * Feeds one frame of 16-bit PCM (normally 20 ms: 160 samples at 8 kHz, 320 at 16 kHz; other
   * lengths work, the hangover is counted in samples) and returns the transition it caused.
   *
   * `concealed`: the frame is packet-loss concealment (no packet came for it), not the party's
   * audio. Its quiet may end a talkspurt as real quiet would, but it neither moves the noise floor
   * nor counts towards a start. Concealment fades to silence within 60 ms, and the floor follows
   * a fall by about a fifth of the gap per frame, so a burst of loss would pull the floor far
   * under the party's steady noise or hum, which then looks like a talker when audio resumes
   * (and costs a spectral check per frame until refused).
   */
  pushFrame(pcm: Int16Array, concealed = false): TalkerTransition {
    if (pcm.length === 0) return 'none';
    measureFrame(pcm, pcm.length, this.coefficients, this.filter, this.measurement);
    this.slideWindow(pcm);
    return this.decide(null, null, concealed);
  }

  /**
   * Decides on the frame already measured into `measurement` (by the DSP core): `current` is that
   * frame and `previous` the one before, at the detector's rate, together at least 32 ms; they
   * are read only when the spectral check runs. `concealed` as for `pushFrame`.
   */
  pushMeasurement(previous: Int16Array, current: Int16Array, concealed = false): TalkerTransition {
    if (this.figures[SAMPLES] === 0) return 'none';
    return this.decide(previous, current, concealed);
  }

  /** The decision on `measurement`; the window for meyda is built from previous + current when given. */
  private decide(
    previous: Int16Array | null,
    current: Int16Array | null,
    concealed: boolean
  ): TalkerTransition {
    const m = this.figures;
    const n = m[SAMPLES];
    const sumRaw = m[SUM_RAW];
    const sumFiltered = m[SUM_HIGH_PASSED];
    const crossings = m[ZERO_CROSSINGS];

    // dBFS of the mean squares, with the -100 dBFS floor as an added power rather than a branch:
    // a double passed to a call, or merged with an integer constant, is boxed by V8 and would
    // allocate on every frame.
    m[LEVEL] = 10 * Math.log10(sumRaw / n / FULL_SCALE_SQ + MIN_POWER);
    const energy = 10 * Math.log10(sumFiltered / n / FULL_SCALE_SQ + MIN_POWER);
    const floor = m[FLOOR];
    let transition: TalkerTransition = 'none';

    if (this.isTalking) {
      if (energy >= Math.max(this.stopThresholdDbfs, floor + this.stopMarginDb)) {
        this.quietSamples = 0;
      } else {
        this.quietSamples += n;
        if (this.quietSamples >= this.hangoverSamples) {
          this.isTalking = false;
          this.quietSamples = 0;
          transition = 'stopped';
        }
      }
    } else if (concealed) {
      // Neither a start nor a break in one: the party's own audio resumes the decision.
    } else if (this.backoffFrames > 0) {
      this.backoffFrames--;
      this.candidateFrames = 0;
    } else if (
      energy >= Math.max(this.startThresholdDbfs, floor + this.startMarginDb) &&
      (crossings * this.sampleRateHz) / n >= this.minZeroCrossingsPerSecond
    ) {
      this.spectralCalls++;
      if (current !== null && previous !== null) this.fillWindow(previous, current);
      if (spectralFlatness(this.window, this.sampleRateHz) < this.maxSpectralFlatness) {
        if (++this.candidateFrames >= this.startFrames) {
          this.isTalking = true;
          this.candidateFrames = 0;
          this.quietSamples = 0;
          transition = 'started';
        }
        this.noiseVerdicts = 0;
      } else {
        // One noise-like window is common at a syllable onset (the window still holds the
        // silence and the attack transient before it); only a second one in a row backs off.
        this.candidateFrames = 0;
        if (++this.noiseVerdicts >= 2) {
          this.noiseVerdicts = 0;
          this.backoffFrames = NOISE_BACKOFF_FRAMES;
        }
      }
    } else {
      this.candidateFrames = 0;
      this.noiseVerdicts = 0;
    }

    // Asymmetric floor tracking, after the decision so a loud onset frame cannot lift its own bar.
    if (n !== this.coefficientSamples) {
      const frameMs = (1000 * n) / this.sampleRateHz;
      this.coefficientSamples = n;
      m[FALL] = 1 - Math.exp(-frameMs / FLOOR_FALL_MS);
      m[RISE] = 1 - Math.exp(-frameMs / this.noiseFloorRiseMs);
    }
    if (!concealed) m[FLOOR] = floor + (energy - floor) * (energy < floor ? m[FALL] : m[RISE]);
    return transition;
  }

  /**
   * Forgets all state (filter, floor, level) for a fresh start, e.g. when the party leaves the
   * room. Returns `stopped` if the party was talking, so a talker who leaves gets a final
   * stopped-talking event.
   */
  reset(): TalkerTransition {
    const wasTalking = this.isTalking;
    this.isTalking = false;
    this.figures.fill(0, 0, FALL); // the measurement, level and floor; FALL and RISE stay
    this.figures[LEVEL] = MIN_DBFS;
    this.figures[FLOOR] = MIN_DBFS;
    this.candidateFrames = 0;
    this.quietSamples = 0;
    this.backoffFrames = 0;
    this.noiseVerdicts = 0;
    this.filter.fill(0);
    this.window.fill(0);
    return wasTalking ? 'stopped' : 'none';
  }

  /** The window from the last samples of previous + current, oldest first. */
  private fillWindow(previous: Int16Array, current: Int16Array): void {
    const w = this.window;
    const size = w.length;
    const n = current.length;
    const fromPrevious = Math.max(0, Math.min(previous.length, size - n));
    const start = size - Math.min(size, n) - fromPrevious;
    for (let i = 0; i < start; i++) w[i] = 0;
    for (let i = 0; i < fromPrevious; i++) w[start + i] = previous[previous.length - fromPrevious + i];
    const skip = Math.max(0, n - size);
    for (let i = skip; i < n; i++) w[start + fromPrevious + i - skip] = current[i];
  }

  /** Keeps the last `window.length` samples of input in `window`, oldest first. */
  private slideWindow(pcm: Int16Array): void {
    const w = this.window;
    const size = w.length;
    const n = pcm.length;
    if (n >= size) {
      for (let i = 0; i < size; i++) w[i] = pcm[n - size + i];
    } else {
      w.copyWithin(0, n);
      for (let i = 0; i < n; i++) w[size - n + i] = pcm[i];
    }
  }
}
