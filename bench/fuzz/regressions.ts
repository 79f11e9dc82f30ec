/**
 * The regression corpus of the fuzzer: test/fixtures/fuzz-regressions/<parser>--<kind>--<digest>.bin,
 * one raw input per file, for every input that ever failed (thrown an untyped error or run over
 * budget). The parser slug maps back to the target that failed.
 */
import type { FailureKind } from './fuzzer.js';

export function targetSlug(target: string): string {
  return target.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

export function regressionFileName(target: string, kind: FailureKind, digest: string): string {
  return `${targetSlug(target)}--${kind}--${digest}.bin`;
}

export function parseRegressionFileName(file: string): { slug: string; kind: FailureKind } | undefined {
  const parts = file.replace(/\.bin$/, '').split('--');
  if (parts.length !== 3 || !file.endsWith('.bin')) return undefined;
  const kind = parts[1];
  if (kind !== 'throw' && kind !== 'slow') return undefined;
  return { slug: parts[0], kind };
}
