/**
 * Hot-path metric cells: counters, gauges and histograms that the media path updates without
 * allocating, and that a prom-client `Registry` reads only when it is scraped.
 *
 * prom-client's own `inc()`/`observe()` allocate on every call (label objects, hashes, closures),
 * so they are unfit for a per-packet or per-frame path. Here every value lives in a
 * `Float64Array` slot (a double stored in an object field may be boxed by V8), updates are one
 * add, and the values are copied into prom-client metrics by their `collect()` callbacks, which
 * run at scrape time. Histograms are exposed through a small object with prom-client's metric
 * shape (`name`, `help`, `type`, `get()`, `reset()`), because prom-client's `Histogram` has no
 * public way to load bucket counts kept elsewhere.
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

/** A monotonically increasing count. */
export class CounterCell {
  private readonly slot = new Float64Array(1);

  /** Adds `n` (default 1); negative or NaN amounts are ignored, a counter never goes down. */
  inc(n = 1): void {
    if (n >= 0) this.slot[0] += n;
  }

  get value(): number {
    return this.slot[0];
  }

  reset(): void {
    this.slot[0] = 0;
  }
}

/** A value that goes up and down (a current count). */
export class GaugeCell {
  private readonly slot = new Float64Array(1);

  set(value: number): void {
    if (value === value) this.slot[0] = value;
  }

  inc(n = 1): void {
    if (n === n) this.slot[0] += n;
  }

  dec(n = 1): void {
    if (n === n) this.slot[0] -= n;
  }

  get value(): number {
    return this.slot[0];
  }

  reset(): void {
    this.slot[0] = 0;
  }
}

/** Fixed-bucket histogram: `counts[i]` observations <= `upperBounds[i]`, the last slot is +Inf. */
export class HistogramCell {
  readonly upperBounds: Float64Array;
  private readonly counts: Float64Array;
  /** [sum, count] */
  private readonly totals = new Float64Array(2);

  constructor(upperBounds: readonly number[]) {
    for (let i = 0; i < upperBounds.length; i++) {
      if (!Number.isFinite(upperBounds[i]) || (i > 0 && upperBounds[i] <= upperBounds[i - 1])) {
        throw new RangeError(
          `histogram bucket bounds must be finite and increasing, got ${upperBounds.join(', ')}`
        );
      }
    }
    this.upperBounds = Float64Array.from(upperBounds);
    this.counts = new Float64Array(upperBounds.length + 1);
  }

  /** Records one observation; NaN is ignored. */
  observe(value: number): void {
    if (value !== value) return;
    const bounds = this.upperBounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.totals[0] += value;
    this.totals[1]++;
  }

  get count(): number {
    return this.totals[1];
  }

  get sum(): number {
    return this.totals[0];
  }

  /** Observations <= upperBounds[i] (cumulative, as Prometheus buckets are); i = length is +Inf. */
  cumulativeCount(i: number): number {
    let total = 0;
    for (let k = 0; k <= i && k < this.counts.length; k++) total += this.counts[k];
    return total;
  }

  reset(): void {
    this.counts.fill(0);
    this.totals.fill(0);
  }
}

/** Registers a prom-client counter that reads `cell` at scrape time. */
export function exposeCounter(registry: Registry, name: string, help: string, cell: CounterCell): void {
  exposeScrapedCounter(registry, name, help, () => cell.value);
}

/** Registers a prom-client counter without labels whose value `value()` gives at each scrape. */
export function exposeScrapedCounter(
  registry: Registry,
  name: string,
  help: string,
  value: () => number
): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    }
  });
}

/** Registers a prom-client counter with one label whose series read `cells[labelValue]`. */
export function exposeLabelledCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelName: string,
  cells: Readonly<Record<L, CounterCell>>
): void {
  const entries = Object.entries(cells) as [L, CounterCell][];
  new Counter({
    name,
    help,
    labelNames: [labelName],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labelValue, cell] of entries) this.inc({ [labelName]: labelValue }, cell.value);
    }
  });
}

/** Registers a prom-client gauge that reads `cell` at scrape time. */
export function exposeGauge(registry: Registry, name: string, help: string, cell: GaugeCell): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(cell.value);
    }
  });
}

interface ExposedValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/** Registers `cell` as a Prometheus histogram (`_bucket{le}`, `_sum`, `_count`). */
export function exposeHistogram(registry: Registry, name: string, help: string, cell: HistogramCell): void {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const values: ExposedValue[] = [];
      for (let i = 0; i <= cell.upperBounds.length; i++) {
        const le = i < cell.upperBounds.length ? cell.upperBounds[i] : '+Inf';
        values.push({ value: cell.cumulativeCount(i), labels: { le }, metricName: `${name}_bucket` });
      }
      values.push({ value: cell.sum, labels: {}, metricName: `${name}_sum` });
      values.push({ value: cell.count, labels: {}, metricName: `${name}_count` });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {
      cell.reset();
    }
  };
  registry.registerMetric(metric as unknown as Metric);
}
