import Benchmark from 'benchmark';

/** Mean nanoseconds per call of `fn`, by benchmark.js (at least `minSamples`, for about `maxTime` s). */
export function nsPerCall(
  name: string,
  fn: () => void,
  { minSamples = 10, maxTime = 0.6 }: { minSamples?: number; maxTime?: number } = {}
): number {
  const bench = new Benchmark(name, fn, { minSamples, maxTime });
  bench.run();
  return bench.stats.mean * 1e9;
}
