/**
 * `npm run fuzz [-- --seed N --inputs N --only NAME]`: the seeded mutation fuzzer over every
 * network-facing parser (fuzzer.ts). Prints a table per parser; every failing input is written
 * to test/fixtures/fuzz-regressions/ (named parser--kind--digest.bin), where
 * test/bench/fuzz-regressions.test.ts replays it from then on. Exits 1 when anything failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { formatReport, inputDigest, runFuzz, type FuzzFailure } from './fuzzer.js';
import { regressionFileName } from './regressions.js';

function option(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1] ?? fallback;
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return fallback;
}

const seed = Number(option('seed', '1'));
const inputsPerTarget = Number(option('inputs', '10000'));
const only = option('only', '') || undefined;
if (!Number.isInteger(seed) || !Number.isInteger(inputsPerTarget) || inputsPerTarget < 1) {
  console.error('usage: npm run fuzz -- [--seed N] [--inputs N per parser] [--only NAME]');
  process.exit(2);
}

const dir = fileURLToPath(new URL('../../test/fixtures/fuzz-regressions/', import.meta.url));

/** Keeps each failing input in the regression corpus as soon as its parser's run ends. */
function keep(failures: FuzzFailure[]): void {
  for (const failure of failures) {
    if (failure.kind === 'heap') {
      console.log(`FAIL heap  ${failure.target}: ${failure.detail}`);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const file = regressionFileName(failure.target, failure.kind, inputDigest(failure.input));
    writeFileSync(join(dir, file), failure.input);
    console.log(`FAIL ${failure.kind}  ${failure.target} #${failure.index} [${failure.mutations.join(', ')}]: ${failure.detail} -> ${file}`);
  }
}

const started = process.hrtime.bigint();
const report = runFuzz({ seed, inputsPerTarget, only }, undefined, (target, failures) => {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.error(`${target.target}: ${target.inputs} inputs, ${target.untypedThrows} untyped throws, ${target.slow} slow (${seconds.toFixed(0)} s so far)`);
  keep(failures);
});
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(formatReport(report));
console.log(`seed ${seed}, ${inputsPerTarget} inputs per parser, ${seconds.toFixed(1)} s`);
if (report.failures.length > 0) process.exit(1);
console.log('no failures');
