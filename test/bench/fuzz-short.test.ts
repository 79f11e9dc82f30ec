/**
 * A short seeded run of `npm run fuzz` (bench/fuzz/): 2,000 mutated inputs for each of the eleven
 * network-facing parsers, 22,000 in all. Nothing may throw an untyped error, nothing may stay
 * over the time budget on three runs (20 ms plus 3 µs a byte: generous for a busy host, far
 * below what a backtracking parser takes on the fuzzer's long runs), and the heap must come
 * back after a forced collection.
 */
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../bench/fuzz/fuzzer.js';

describe('npm run fuzz, short', () => {
  it('finds no untyped throw, slow input or heap growth in 22,000 seeded inputs', () => {
    const report = runFuzz({
      seed: 20261201,
      inputsPerTarget: 2000,
      budgetFixedMs: 20,
      budgetNsPerByte: 3000
    });
    expect(report.targets).toHaveLength(11);
    expect(report.targets.reduce((n, t) => n + t.inputs, 0)).toBe(22_000);
    // The mutations do reach the parsers' error paths.
    expect(report.targets.reduce((n, t) => n + t.typedErrors, 0)).toBeGreaterThan(1000);
    const failures = report.failures.map(
      (f) =>
        `${f.kind} in ${f.target} #${f.index} [${f.mutations.join(', ')}]: ${f.detail} (input base64 ${f.input.toString('base64').slice(0, 200)})`
    );
    expect(failures).toEqual([]);
  }, 300_000);
});
