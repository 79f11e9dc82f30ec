/**
 * `npm run test:stress`: the whole suite, several runs in a row, while busy loops hog every core
 * at normal priority, the way a shared CI host or a developer's busy laptop does. A test that
 * fails here checks the host's speed instead of behaviour, or shows a defect that load exposes.
 *
 * Prints one line per run (its counts and the names of the tests that failed) and a summary; exits
 * non-zero if any test failed in any run. The busy loops are killed however the script ends.
 * STRESS_RUNS (default 5) and STRESS_HOGS (default: one per core, at least 2) change the shape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const runs = positiveInt(process.env.STRESS_RUNS, 5);
const hogCount = positiveInt(process.env.STRESS_HOGS, Math.max(2, availableParallelism()));

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const hogs: ChildProcess[] = [];

function killHogs(): void {
  for (const hog of hogs.splice(0)) {
    if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
  }
}

process.on('exit', killHogs);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killHogs();
    process.exit(130);
  });
}

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{
    name: string;
    assertionResults: Array<{ fullName: string; status: string }>;
    status: string;
    message?: string;
  }>;
}

interface RunResult {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
  exitCode: number | null;
  seconds: number;
}

function runSuite(index: number, dir: string): Promise<RunResult> {
  const jsonFile = join(dir, `run-${index}.json`);
  const logFile = join(dir, `run-${index}.log`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${jsonFile}`
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: process.env }
    );
    const log: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => log.push(d));
    child.stderr?.on('data', (d: Buffer) => log.push(d));
    child.on('close', (exitCode) => {
      const seconds = (Date.now() - started) / 1000;
      const text = Buffer.concat(log).toString();
      let result: RunResult;
      try {
        const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as VitestJson;
        const failures = report.testResults.flatMap((file) => {
          const tests = file.assertionResults
            .filter((t) => t.status === 'failed')
            .map((t) => `${file.name.replace(root, '')} > ${t.fullName}`);
          // A file that failed to load or crashed has no failed assertion to name.
          return tests.length === 0 && file.status === 'failed'
            ? [`${file.name.replace(root, '')} (${(file.message ?? 'failed').split('\n')[0]})`]
            : tests;
        });
        result = {
          passed: report.numPassedTests,
          failed: Math.max(report.numFailedTests, failures.length),
          skipped: report.numPendingTests,
          failures,
          exitCode,
          seconds
        };
      } catch {
        result = {
          passed: 0,
          failed: 1,
          skipped: 0,
          failures: [`no JSON report (vitest exited ${exitCode}); last output: ${text.slice(-400)}`],
          exitCode,
          seconds
        };
      }
      if (exitCode !== 0 && result.failed === 0) {
        result.failed = 1;
        result.failures.push(`vitest exited ${exitCode} with no failed test (see ${logFile})`);
      }
      writeFileSync(logFile, text);
      resolve(result);
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'uasmedia-stress-'));
  for (let i = 0; i < hogCount; i++) {
    hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  console.log(
    `stress: ${runs} runs of the whole suite while ${hogCount} busy loops hog the ${availableParallelism()} cores (logs in ${dir})`
  );
  const results: RunResult[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const r = await runSuite(i, dir);
      results.push(r);
      console.log(
        `run ${i}/${runs}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped in ${r.seconds.toFixed(0)} s`
      );
      for (const f of r.failures) console.log(`  FAILED ${f}`);
    }
  } finally {
    killHogs();
  }
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  console.log(
    `stress summary: ${runs} runs under ${hogCount} busy loops, failures per run [${results.map((r) => r.failed).join(', ')}], ${passed} passed, ${failed} failed`
  );
  if (failed === 0) rmSync(dir, { recursive: true, force: true });
  process.exitCode = failed === 0 ? 0 : 1;
}

void main();
