/**
 * The engine's one frame clock: a drift-free 20 ms tick for every room and channel.
 *
 * Each tick is scheduled against an absolute `process.hrtime.bigint()` deadline
 * (start + n * period), so timer jitter never accumulates into drift. When the event loop was
 * blocked and several deadlines have passed, the missed ticks run back to back (RTP timing and
 * jitter buffers expect one frame per period) up to `maxCatchUpTicks`; beyond that the clock
 * skips ahead and counts what it skipped. A tick that is late by more than half a period first
 * yields to the event loop's poll phase (setImmediate runs after it): the packets that arrived
 * during the stall are read before the frames they belong to are played, instead of being
 * concealed and then dropped as late. Lateness (actual start minus deadline) is recorded for
 * every tick in a fixed ring, so reading statistics never allocates on the tick path.
 *
 * A timer runs only between two event-loop phases, and one poll phase on a loaded engine delivers
 * a packet to each of a thousand sockets, several milliseconds of callbacks. So packet handlers
 * call `runIfDue` too: a tick that has just come due runs between two packets, not after the
 * last one.
 *
 * A clock nothing needs frames from sleeps (`setIdle(true)`, from the frame loop when its last
 * room leaves): no timer, no wake-up, no tick, as if stopped. An idle engine ticked 50 times a
 * second for nothing, about 3 % of a core. Woken, it ticks again at once; when the next tick's
 * deadline passed while it slept, the clock moves its deadlines on so that tick is due now:
 * there is nothing to catch up, the tick is not late (the overload guard reads lateness), and
 * due times (`tickTimeMs`) still never come closer than a period.
 */
import { performance } from 'node:perf_hooks';
import { SafeEmitter } from '../../sip/index.js';

export interface FrameClockOptions {
  periodMs?: number;
  /** Ticks run back to back after a stall before the clock skips ahead. */
  maxCatchUpTicks?: number;
  /** How many recent ticks the lateness percentiles cover. */
  statsWindowTicks?: number;
  /** A tick that starts more than this after its deadline counts as late. */
  lateThresholdMs?: number;
}

export interface FrameClockStats {
  ticks: number;
  lateTicks: number;
  skippedTicks: number;
  latenessMsP50: number;
  latenessMsP99: number;
  latenessMsMax: number;
  /** Mean time spent inside tick listeners per tick (ms). */
  workMsMean: number;
}

/** A tick listener that throws does not stop the clock: it is reported as a `'listenerError'`. */
export type FrameClockEvents = {
  tick: [tickIndex: number];
};

export class FrameClock extends SafeEmitter<FrameClockEvents> {
  readonly periodMs: number;
  private readonly periodNs: bigint;
  private readonly maxCatchUpTicks: number;
  private readonly lateThresholdMs: number;
  private readonly lateness: Float64Array;
  private startNs = 0n;
  /** `performance.now()` when the clock started: tick times on the clock everyone else reads. */
  private startMs = 0;
  private nextIndex = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set while late ticks wait for the poll phase (see the file comment). */
  private immediate: NodeJS.Immediate | undefined;
  private readonly halfPeriodNs: bigint;
  /** The late tick due now has waited for one poll phase already. */
  private polled = false;
  /** Ticks run back to back since the clock was last on time. */
  private caughtUpTicks = 0;
  private ticks = 0;
  private lateTicks = 0;
  private skippedTicks = 0;
  private ringPos = 0;
  private ringFill = 0;
  private maxLatenessMs = 0;
  private workNsTotal = 0n;
  private running = false;
  /** Inside a tick's listeners: `runIfDue` from there must not start another. */
  private ticking = false;
  /** When tick `nextIndex` is due, on the `performance.now()` clock (see `runIfDue`). */
  private nextDueMs = Infinity;
  /** Nothing needs frames: started or not, the clock sleeps (see the file comment). */
  private idle = false;

  constructor(options: FrameClockOptions = {}) {
    super();
    const periodMs = options.periodMs ?? 20;
    if (!Number.isFinite(periodMs) || periodMs < 1 || periodMs > 1000) {
      throw new RangeError(`periodMs must be between 1 and 1000, got ${periodMs}`);
    }
    this.periodMs = periodMs;
    this.periodNs = BigInt(Math.round(periodMs * 1e6));
    this.halfPeriodNs = this.periodNs / 2n;
    this.maxCatchUpTicks = options.maxCatchUpTicks ?? 5;
    this.lateThresholdMs = options.lateThresholdMs ?? 5;
    this.lateness = new Float64Array(options.statsWindowTicks ?? 3000);
  }

  /** Started and not stopped, asleep or not. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Started, and not asleep: its timer is set and ticks come. */
  get isTicking(): boolean {
    return this.running && !this.idle;
  }

  /** Lateness of the tick running now (or of the last one), in ms. */
  get lastLatenessMs(): number {
    return this.lateness[(this.ringPos + this.lateness.length - 1) % this.lateness.length];
  }

  /** Index of the tick that will run next. */
  get tickIndex(): number {
    return this.nextIndex;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startNs = process.hrtime.bigint();
    this.startMs = performance.now();
    this.nextIndex = 0;
    if (!this.idle) this.schedule();
  }

  stop(): void {
    this.running = false;
    this.unschedule();
  }

  /**
   * Whether nothing needs frames now. Idle, the clock sleeps; not idle, a started clock ticks
   * again at once (see the file comment). Safe from inside a tick: the tick loop then goes on
   * or stops after the tick.
   */
  setIdle(idle: boolean): void {
    if (idle === this.idle) return;
    this.idle = idle;
    if (!this.running) return;
    if (idle) {
      if (!this.ticking) this.unschedule();
      return;
    }
    const nowNs = process.hrtime.bigint();
    if (this.deadlineNs(this.nextIndex) < nowNs) {
      const sinceStart = BigInt(this.nextIndex) * this.periodNs;
      this.startNs = nowNs - sinceStart;
      this.startMs = performance.now() - this.nextIndex * this.periodMs;
    }
    // Inside a tick the tick loop schedules the next one when it ends.
    if (!this.ticking) this.schedule();
  }

  /** No timer, no immediate: nothing runs until `schedule()`. */
  private unschedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.nextDueMs = Infinity;
    this.polled = false;
    this.caughtUpTicks = 0;
  }

  resetStats(): void {
    this.ticks = 0;
    this.lateTicks = 0;
    this.skippedTicks = 0;
    this.ringPos = 0;
    this.ringFill = 0;
    this.maxLatenessMs = 0;
    this.workNsTotal = 0n;
  }

  stats(): FrameClockStats {
    const window = Array.from(this.lateness.subarray(0, this.ringFill)).sort((a, b) => a - b);
    const pick = (q: number): number =>
      window.length === 0 ? 0 : window[Math.min(window.length - 1, Math.floor(q * window.length))];
    return {
      ticks: this.ticks,
      lateTicks: this.lateTicks,
      skippedTicks: this.skippedTicks,
      latenessMsP50: pick(0.5),
      latenessMsP99: pick(0.99),
      latenessMsMax: this.maxLatenessMs,
      workMsMean: this.ticks === 0 ? 0 : Number(this.workNsTotal / BigInt(this.ticks)) / 1e6
    };
  }

  /**
   * Runs the tick that is due now, for callers between two I/O callbacks: every RTP packet's
   * handler. A tick already later than half a period still lets the poll phase deliver what
   * arrived first, as from the timer (see the file comment). Cheap when nothing is due: one
   * clock read.
   */
  runIfDue(): void {
    if (!this.running || this.idle || this.ticking || this.immediate !== undefined) return;
    if (performance.now() < this.nextDueMs) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.runDue();
  }

  /**
   * When tick `index` is due, on the `performance.now()` clock. Media timing reads this rather
   * than the time a tick actually runs: ticks that catch up after a stall run back to back, and
   * a jitter buffer that read the wall clock then would see its playout fall 20 ms behind per
   * tick and stretch the stream with concealed frames.
   */
  tickTimeMs(index: number): number {
    return this.startMs + index * this.periodMs;
  }

  private deadlineNs(index: number): bigint {
    return this.startNs + BigInt(index) * this.periodNs;
  }

  private schedule(): void {
    this.nextDueMs = this.tickTimeMs(this.nextIndex);
    const waitNs = this.deadlineNs(this.nextIndex) - process.hrtime.bigint();
    const waitMs = waitNs > 0n ? Number(waitNs) / 1e6 : 0;
    this.timer = setTimeout(this.onTimer, Math.floor(waitMs));
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (!this.running || this.idle) return;
    const now = process.hrtime.bigint();
    // A setTimeout may fire a fraction of a millisecond early: wait for the real deadline.
    if (now < this.deadlineNs(this.nextIndex)) {
      this.schedule();
      return;
    }
    this.runDue();
  };

  private readonly runDue = (): void => {
    this.immediate = undefined;
    if (!this.running || this.idle) return;
    let now = process.hrtime.bigint();
    while (this.running && !this.idle && now >= this.deadlineNs(this.nextIndex)) {
      if (this.caughtUpTicks === this.maxCatchUpTicks) {
        const behind = Number((now - this.deadlineNs(this.nextIndex)) / this.periodNs) + 1;
        this.skippedTicks += behind;
        this.nextIndex += behind;
        break;
      }
      if (!this.polled && now - this.deadlineNs(this.nextIndex) > this.halfPeriodNs) {
        // Late: let the poll phase deliver what arrived meanwhile, then run this tick.
        this.polled = true;
        this.immediate = setImmediate(this.runDue);
        return;
      }
      this.polled = false;
      this.runTick(now);
      this.caughtUpTicks++;
      now = process.hrtime.bigint();
    }
    this.caughtUpTicks = 0;
    this.polled = false;
    if (this.running && !this.idle) this.schedule();
    else this.nextDueMs = Infinity;
  };

  private runTick(startNs: bigint): void {
    const latenessMs = Number(startNs - this.deadlineNs(this.nextIndex)) / 1e6;
    this.lateness[this.ringPos] = latenessMs;
    this.ringPos = (this.ringPos + 1) % this.lateness.length;
    if (this.ringFill < this.lateness.length) this.ringFill++;
    if (latenessMs > this.maxLatenessMs) this.maxLatenessMs = latenessMs;
    if (latenessMs > this.lateThresholdMs) this.lateTicks++;
    this.ticks++;
    const index = this.nextIndex++;
    this.ticking = true;
    try {
      this.safeEmit('tick', index);
    } finally {
      this.ticking = false;
    }
    this.workNsTotal += process.hrtime.bigint() - startNs;
  }
}
