/**
 * The automatic guard: while the engine is late it refuses new calls (503 with Retry-After),
 * so the calls it carries keep their audio. Every `sampleMs` it looks at two signals over the
 * last sample: the 90th percentile of the frame clock's tick lateness, and the 99th percentile
 * of the event loop's delay (`perf_hooks.monitorEventLoopDelay`). Either one above its `enter`
 * threshold closes the door; it opens again only after both stayed below their `exit`
 * thresholds for `recoverSamples` samples in a row (hysteresis, so it does not flap).
 *
 * The tick listener only writes one number into a preallocated ring; the percentiles are
 * computed on the guard's own timer, never on the frame clock's turn.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { FrameClock } from '../clock/frame-clock.js';
import { serviceUnavailable, type Refusal } from '../../sip/index.js';

export interface OverloadGuardOptions {
  /** Tick lateness p90 over one sample that closes the door, in ms (default 20: a whole frame). */
  enterFrameLatenessMs?: number;
  /** ... and below which it may open again (default 5). */
  exitFrameLatenessMs?: number;
  /** Event loop delay p99 over one sample that closes the door, in ms (default 100). */
  enterEventLoopDelayMs?: number;
  /** ... and below which it may open again (default 40). */
  exitEventLoopDelayMs?: number;
  /** Length of one sample (default 500 ms). */
  sampleMs?: number;
  /** Good samples in a row before the door opens again (default 4). */
  recoverSamples?: number;
  /** Retry-After of the 503s (default 10 s). */
  retryAfterSeconds?: number;
}

export interface OverloadGuardStatus {
  overloaded: boolean;
  /** Times the door closed since start. */
  engaged: number;
  lastFrameLatenessP90Ms: number;
  lastEventLoopDelayP99Ms: number;
}

/** A sample holds at most this many ticks (25 per 500 ms; room for a long sample or catch-up). */
const RING_TICKS = 512;
/** The histogram's sampling timer period; what it records includes it, so it is subtracted. */
const LOOP_RESOLUTION_MS = 10;

export class OverloadGuard {
  readonly #clock: FrameClock;
  readonly #options: Required<OverloadGuardOptions>;
  readonly #lateness = new Float64Array(RING_TICKS);
  #filled = 0;
  #loopDelay: IntervalHistogram | undefined;
  #timer: NodeJS.Timeout | undefined;
  #overloaded = false;
  #goodSamples = 0;
  #engaged = 0;
  #lastLatenessP90 = 0;
  #lastLoopDelayP99 = 0;
  /** Called when the door closes or opens (for logs). */
  onChange: ((overloaded: boolean, status: OverloadGuardStatus) => void) | undefined;

  constructor(clock: FrameClock, options: OverloadGuardOptions = {}) {
    this.#clock = clock;
    this.#options = {
      enterFrameLatenessMs: positive(options.enterFrameLatenessMs ?? 20, 'enterFrameLatenessMs'),
      exitFrameLatenessMs: positive(options.exitFrameLatenessMs ?? 5, 'exitFrameLatenessMs'),
      enterEventLoopDelayMs: positive(options.enterEventLoopDelayMs ?? 100, 'enterEventLoopDelayMs'),
      exitEventLoopDelayMs: positive(options.exitEventLoopDelayMs ?? 40, 'exitEventLoopDelayMs'),
      sampleMs: positive(options.sampleMs ?? 500, 'sampleMs'),
      recoverSamples: positive(options.recoverSamples ?? 4, 'recoverSamples'),
      retryAfterSeconds: positive(options.retryAfterSeconds ?? 10, 'retryAfterSeconds')
    };
    const o = this.#options;
    if (o.exitFrameLatenessMs > o.enterFrameLatenessMs || o.exitEventLoopDelayMs > o.enterEventLoopDelayMs) {
      throw new RangeError('overload guard exit thresholds must not exceed their enter thresholds');
    }
  }

  get overloaded(): boolean {
    return this.#overloaded;
  }

  status(): OverloadGuardStatus {
    return {
      overloaded: this.#overloaded,
      engaged: this.#engaged,
      lastFrameLatenessP90Ms: this.#lastLatenessP90,
      lastEventLoopDelayP99Ms: this.#lastLoopDelayP99
    };
  }

  /** The refusal for a new call now, or undefined when the engine keeps up. */
  readonly check = (): Refusal | undefined =>
    this.#overloaded ? serviceUnavailable('overload', this.#options.retryAfterSeconds) : undefined;

  start(): void {
    if (this.#timer) return;
    this.#loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.#loopDelay.enable();
    this.#clock.on('tick', this.#onTick);
    this.#timer = setInterval(this.#sample, this.#options.sampleMs);
    this.#timer.unref();
  }

  /** Idempotent. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clock.off('tick', this.#onTick);
    this.#loopDelay?.disable();
    this.#loopDelay = undefined;
  }

  readonly #onTick = (): void => {
    if (this.#filled < RING_TICKS) this.#lateness[this.#filled++] = this.#clock.lastLatenessMs;
  };

  readonly #sample = (): void => {
    const o = this.#options;
    const window = this.#lateness.subarray(0, this.#filled).sort();
    const latenessP90 =
      window.length === 0 ? 0 : window[Math.min(window.length - 1, Math.floor(window.length * 0.9))];
    this.#filled = 0;
    const histogram = this.#loopDelay;
    const loopDelayP99 =
      histogram && histogram.count > 0 ? Math.max(0, histogram.percentile(99) / 1e6 - LOOP_RESOLUTION_MS) : 0;
    histogram?.reset();
    this.#lastLatenessP90 = latenessP90;
    this.#lastLoopDelayP99 = loopDelayP99;
    if (!this.#overloaded) {
      if (latenessP90 > o.enterFrameLatenessMs || loopDelayP99 > o.enterEventLoopDelayMs) {
        this.#overloaded = true;
        this.#engaged++;
        this.#goodSamples = 0;
        this.onChange?.(true, this.status());
      }
      return;
    }
    if (latenessP90 <= o.exitFrameLatenessMs && loopDelayP99 <= o.exitEventLoopDelayMs) {
      if (++this.#goodSamples >= o.recoverSamples) {
        this.#overloaded = false;
        this.onChange?.(false, this.status());
      }
    } else {
      this.#goodSamples = 0;
    }
  };
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new RangeError(`${name} must be a positive number, got ${String(value)}`);
  return value;
}
