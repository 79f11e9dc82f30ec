/**
 * A small parser of the Prometheus text exposition format (version 0.0.4) for tests: sample
 * lines keyed by `name{labels}` exactly as written, and the `# TYPE` of each metric family.
 */
export interface Exposition {
  get(series: string): number | undefined;
  readonly types: Map<string, string>;
  readonly series: Map<string, number>;
}

export function parseExposition(text: string): Exposition {
  const series = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${line}`);
    const value = sample[2] === '+Inf' ? Infinity : sample[2] === '-Inf' ? -Infinity : Number(sample[2]);
    if (Number.isNaN(value) && sample[2] !== 'NaN' && sample[2] !== 'Nan')
      throw new Error(`bad value in: ${line}`);
    series.set(sample[1], value);
  }
  return { get: (s) => series.get(s), types, series };
}
