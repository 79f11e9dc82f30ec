/** One row of the per-frame benchmark table. */
export interface BenchRow {
  suite: string;
  name: string;
  /** Nanoseconds per frame (one call of the measured kernel). */
  nsPerFrame: number;
  /** Nanoseconds per party-frame, where the kernel handles several parties per call. */
  nsPerPartyFrame?: number;
  /** Speedup over the plain-JS reference measured in the same run. */
  speedupOverJs?: number;
  /** Free-form extra figures (added delay, late loss, real-time factor, ...). */
  extra?: Record<string, number | string>;
}

const FRAME_BUDGET_NS = 20_000_000;

export class BenchReport {
  readonly rows: BenchRow[] = [];

  add(row: BenchRow): void {
    this.rows.push(row);
  }

  toTable(): string {
    const header = ['suite', 'name', 'ns/frame', 'ns/party-frame', '% of 20 ms', 'x JS', 'extra'];
    const lines = this.rows.map((r) => [
      r.suite,
      r.name,
      r.nsPerFrame.toFixed(0),
      r.nsPerPartyFrame === undefined ? '' : r.nsPerPartyFrame.toFixed(1),
      ((100 * r.nsPerFrame) / FRAME_BUDGET_NS).toFixed(3),
      r.speedupOverJs === undefined ? '' : r.speedupOverJs.toFixed(1),
      r.extra
        ? Object.entries(r.extra)
            .map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`)
            .join(' ')
        : ''
    ]);
    const all = [header, ...lines];
    const widths = header.map((_, i) => Math.max(...all.map((l) => l[i].length)));
    return all.map((l) => l.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
  }
}
