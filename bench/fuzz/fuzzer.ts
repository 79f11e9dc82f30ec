/**
 * The seeded mutation fuzzer: for each parser target, `inputsPerTarget` mutations of its seeds
 * (corpus.ts, mutate.ts), each parsed directly. Failures:
 * - `throw`: anything thrown that is not one of the target's typed parse errors;
 * - `slow`: over the time budget (a fixed allowance plus a cost per byte) on the first run and
 *   again on each of two re-runs, so a busy host's stall does not count;
 * - `heap`: the heap, after a full collection, grew by more than `maxHeapGrowthBytes` over one
 *   target's run (checked when a collection can be forced).
 * The same seed gives the same inputs, so a failure can be reproduced from its seed and index.
 */
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isTypedError, parserTargets, type ParserTarget } from '../support/parser-targets.js';
import { buildCorpus, type Corpus } from './corpus.js';
import { mutate } from './mutate.js';
import { mulberry32 } from '../../test/support/prng.js';

export interface FuzzOptions {
  seed: number;
  inputsPerTarget: number;
  /** Only targets whose name contains this. */
  only?: string;
  /** Allowed time per input: fixed part. Default 5 ms. */
  budgetFixedMs?: number;
  /** Allowed time per input: per byte. Default 2 µs (a 64 kB input may take 130 ms). */
  budgetNsPerByte?: number;
  /** Default 64 MiB. */
  maxHeapGrowthBytes?: number;
}

export type FailureKind = 'throw' | 'slow' | 'heap';

export interface FuzzFailure {
  target: string;
  kind: FailureKind;
  index: number;
  input: Buffer;
  mutations: string[];
  detail: string;
}

export interface TargetReport {
  target: string;
  inputs: number;
  bytes: number;
  /** Typed parse errors (the expected kind of refusal). */
  typedErrors: number;
  /** Everything else thrown: failures. */
  untypedThrows: number;
  /** Inputs over budget once but not on re-runs. */
  slowOnce: number;
  /** Inputs over budget on every run: failures. */
  slow: number;
  /** Slowest time per byte, inputs under 1 kB counted as 1 kB (their fixed cost is not per byte). */
  worstNsPerByte: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
  heapChecked: boolean;
}

export interface FuzzReport {
  seed: number;
  targets: TargetReport[];
  failures: FuzzFailure[];
}

/** A full collection, when this process may force one (it may after this, on Node 20+). */
function collector(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

function timeNs(target: ParserTarget, input: Buffer): { ns: number; error?: unknown } {
  const start = process.hrtime.bigint();
  try {
    target.parse(input);
    return { ns: Number(process.hrtime.bigint() - start) };
  } catch (error) {
    return { ns: Number(process.hrtime.bigint() - start), error };
  }
}

export function inputDigest(input: Buffer): string {
  return createHash('sha256').update(input).digest('hex').slice(0, 16);
}

/** `onTargetDone` hears each parser's figures and failures as soon as its run ends. */
export function runFuzz(
  options: FuzzOptions,
  corpus: Corpus = buildCorpus(),
  onTargetDone?: (report: TargetReport, failures: FuzzFailure[]) => void
): FuzzReport {
  const budgetFixedNs = (options.budgetFixedMs ?? 5) * 1e6;
  const budgetNsPerByte = options.budgetNsPerByte ?? 2000;
  const maxHeapGrowth = options.maxHeapGrowthBytes ?? 64 * 1024 * 1024;
  const gc = collector();
  const failures: FuzzFailure[] = [];
  const targets: TargetReport[] = [];
  let targetIndex = 0;
  for (const target of parserTargets()) {
    targetIndex++;
    if (options.only && !target.name.includes(options.only)) continue;
    const seeds = corpus[target.name];
    if (!seeds || seeds.length === 0) throw new Error(`no seeds for parser target "${target.name}"`);
    // One stream of random numbers per target, so adding inputs to one leaves the others alone.
    const rand = mulberry32((options.seed * 7919 + targetIndex) >>> 0);
    gc?.();
    const report: TargetReport = {
      target: target.name,
      inputs: 0,
      bytes: 0,
      typedErrors: 0,
      untypedThrows: 0,
      slowOnce: 0,
      slow: 0,
      worstNsPerByte: 0,
      heapBeforeBytes: process.memoryUsage().heapUsed,
      heapAfterBytes: 0,
      heapChecked: gc !== undefined
    };
    for (let index = 0; index < options.inputsPerTarget; index++) {
      const seed = seeds[Math.floor(rand() * seeds.length)];
      const other = seeds[Math.floor(rand() * seeds.length)];
      const { input, applied } = mutate(seed, other, rand);
      report.inputs++;
      report.bytes += input.length;
      const budget = budgetFixedNs + budgetNsPerByte * input.length;
      let run = timeNs(target, input);
      const fail = (kind: FailureKind, detail: string): void => {
        failures.push({ target: target.name, kind, index, input, mutations: applied, detail });
      };
      if (run.error !== undefined) {
        if (isTypedError(target, run.error)) report.typedErrors++;
        else {
          report.untypedThrows++;
          fail('throw', run.error instanceof Error ? `${run.error.name}: ${run.error.message}`.slice(0, 300) : String(run.error));
        }
      }
      if (run.ns > budget) {
        let fastest = run.ns;
        for (let again = 0; again < 2 && fastest > budget; again++) fastest = Math.min(fastest, timeNs(target, input).ns);
        if (fastest > budget) {
          report.slow++;
          fail('slow', `${(fastest / 1e6).toFixed(1)} ms for ${input.length} bytes (budget ${(budget / 1e6).toFixed(1)} ms)`);
        } else report.slowOnce++;
        run = { ns: fastest };
      }
      if (input.length > 0) report.worstNsPerByte = Math.max(report.worstNsPerByte, run.ns / Math.max(input.length, 1000));
    }
    gc?.();
    report.heapAfterBytes = process.memoryUsage().heapUsed;
    if (gc && report.heapAfterBytes - report.heapBeforeBytes > maxHeapGrowth) {
      failures.push({
        target: target.name,
        kind: 'heap',
        index: -1,
        input: Buffer.alloc(0),
        mutations: [],
        detail: `heap grew ${((report.heapAfterBytes - report.heapBeforeBytes) / 2 ** 20).toFixed(1)} MiB over ${report.inputs} inputs`
      });
    }
    targets.push(report);
    onTargetDone?.(report, failures.filter((f) => f.target === target.name));
  }
  return { seed: options.seed, targets, failures };
}

export function formatReport(report: FuzzReport): string {
  const header = ['parser', 'inputs', 'MB', 'typed errors', 'untyped throws', 'slow once', 'slow', 'worst ns/B', 'heap before MiB', 'heap after MiB'];
  const rows = report.targets.map((t) => [
    t.target,
    String(t.inputs),
    (t.bytes / 1e6).toFixed(1),
    String(t.typedErrors),
    String(t.untypedThrows),
    String(t.slowOnce),
    String(t.slow),
    t.worstNsPerByte.toFixed(0),
    (t.heapBeforeBytes / 2 ** 20).toFixed(1),
    t.heapChecked ? (t.heapAfterBytes / 2 ** 20).toFixed(1) : 'n/a'
  ]);
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}
