/**
 * What the engine's thread was doing when a frame-clock tick ran late, for `npm run bench:load
 * -- --profile`: every tick's due time and lateness over one measurement window, the GC pauses
 * and the event loop's delay histogram over the same window, and the process's context switches.
 * Times are on the monotonic clock in microseconds (the clock V8's CPU profile uses), so the
 * analysis (stall-analysis.ts) can line late ticks up with the profile's samples.
 */
import {
  monitorEventLoopDelay,
  PerformanceObserver,
  performance,
  type IntervalHistogram
} from 'node:perf_hooks';
import type { FrameClock } from '../../engine/clock/frame-clock.js';
import { readdirSync, readFileSync } from 'node:fs';
import type { StallTrace } from './protocol.js';

/** Every thread of this process: name, ns on the CPU and ns runnable but waiting (Linux schedstat). */
function threadTimes(): Map<string, { name: string; runNs: number; waitNs: number }> {
  const out = new Map<string, { name: string; runNs: number; waitNs: number }>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        const [runNs, waitNs] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8')
          .trim()
          .split(' ')
          .map(Number);
        out.set(tid, { name, runNs, waitNs });
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // not Linux
  }
  return out;
}

/** performance.now() (ms since the time origin) to the monotonic clock in µs. */
function monotonicOffsetUs(): number {
  return Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
}

export class StallTracer {
  private readonly dueUs: number[] = [];
  private readonly latenessMs: number[] = [];
  private readonly gc: StallTrace['gc'] = [];
  private delay: IntervalHistogram | undefined;
  private observer: PerformanceObserver | undefined;
  private offsetUs = 0;
  private startUsage: NodeJS.ResourceUsage | undefined;
  private startUs = 0;
  private startThreads = new Map<string, { name: string; runNs: number; waitNs: number }>();

  constructor(private readonly clock: FrameClock) {}

  private readonly onTick = (index: number): void => {
    this.dueUs.push(this.clock.tickTimeMs(index) * 1000 + this.offsetUs);
    this.latenessMs.push(this.clock.lastLatenessMs);
  };

  start(): void {
    this.offsetUs = monotonicOffsetUs();
    this.dueUs.length = 0;
    this.latenessMs.length = 0;
    this.gc.length = 0;
    this.observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
        this.gc.push({
          startUs: entry.startTime * 1000 + this.offsetUs,
          durationMs: entry.duration,
          kind: detail?.kind ?? 0
        });
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
    this.delay = monitorEventLoopDelay({ resolution: 1 });
    this.delay.enable();
    this.clock.on('tick', this.onTick);
    this.startUsage = process.resourceUsage();
    this.startThreads = threadTimes();
    this.startUs = Number(process.hrtime.bigint() / 1000n);
  }

  stop(): StallTrace {
    this.clock.off('tick', this.onTick);
    this.observer?.disconnect();
    const delay = this.delay;
    delay?.disable();
    const usage = process.resourceUsage();
    const threads: StallTrace['threads'] = [];
    for (const [tid, now] of threadTimes()) {
      const then = this.startThreads.get(tid);
      threads.push({
        tid: Number(tid),
        name: now.name,
        runMs: (now.runNs - (then?.runNs ?? 0)) / 1e6,
        waitMs: (now.waitNs - (then?.waitNs ?? 0)) / 1e6
      });
    }
    const before = this.startUsage;
    const ms = (ns: number | undefined): number => (ns === undefined || Number.isNaN(ns) ? 0 : ns / 1e6);
    return {
      startUs: this.startUs,
      endUs: Number(process.hrtime.bigint() / 1000n),
      ticks: this.dueUs.map((dueUs, i) => ({ dueUs, latenessMs: this.latenessMs[i] })),
      gc: [...this.gc],
      eventLoopDelayMs: {
        p50: ms(delay?.percentile(50)),
        p99: ms(delay?.percentile(99)),
        max: ms(delay?.max)
      },
      threads: threads.filter((t) => t.runMs > 0).sort((a, b) => b.runMs - a.runMs),
      voluntaryContextSwitches: usage.voluntaryContextSwitches - (before?.voluntaryContextSwitches ?? 0),
      involuntaryContextSwitches: usage.involuntaryContextSwitches - (before?.involuntaryContextSwitches ?? 0)
    };
  }
}
