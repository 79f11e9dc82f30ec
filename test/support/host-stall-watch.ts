/**
 * How long the host kept this thread off the CPU, as opposed to the thread's own work keeping it
 * busy. A 5 ms timer notes each interval between its firings and the CPU the thread used in it
 * (/proc/thread-self/schedstat). Time an interval ran past its 5 ms that the thread did not spend
 * running was the host's: other processes or the hypervisor held the thread off the CPU. On the
 * 2-core test VM, with busy loops on both cores (`npm run test:stress`), a process that does
 * nothing but this timer sees such stalls of up to ~100 ms, sleeping (neither running nor queued)
 * through its own wake-up. A listener's gap is the engine's to answer for only net of them.
 * Where schedstat cannot be read (not Linux), no time counts as the host's.
 */
import { readFileSync } from 'node:fs';

const PERIOD_MS = 5;

interface Interval {
  fromMs: number;
  toMs: number;
  /** Time in the interval beyond its period that the thread was off the CPU. */
  heldOffMs: number;
}

function threadRunMs(): number | undefined {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return undefined;
  }
}

export class HostStallWatch {
  readonly #intervals: Interval[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastMs = 0;
  #lastRunMs = 0;

  start(): this {
    const run = threadRunMs();
    if (run === undefined) return this;
    this.#lastMs = performance.now();
    this.#lastRunMs = run;
    this.#timer = setInterval(() => this.#sample(), PERIOD_MS).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Host-held time inside [fromMs, toMs] (performance.now() times), each interval counted by its overlap. */
  heldOffMs(fromMs: number, toMs: number): number {
    let held = 0;
    for (const i of this.#intervals) {
      const overlap = Math.min(toMs, i.toMs) - Math.max(fromMs, i.fromMs);
      if (overlap > 0) held += (i.heldOffMs * overlap) / (i.toMs - i.fromMs);
    }
    return held;
  }

  #sample(): void {
    const now = performance.now();
    const run = threadRunMs() ?? this.#lastRunMs;
    const elapsed = now - this.#lastMs;
    const heldOffMs = elapsed - PERIOD_MS - (run - this.#lastRunMs);
    if (heldOffMs > 1) this.#intervals.push({ fromMs: this.#lastMs, toMs: now, heldOffMs });
    this.#lastMs = now;
    this.#lastRunMs = run;
  }
}
