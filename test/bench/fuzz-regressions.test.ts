/**
 * Replays the fuzzer's regression corpus (test/fixtures/fuzz-regressions/): each input that ever
 * failed goes to the parser it failed in, with the engine's default limits and with limits wide
 * enough that the parsing code itself sees every byte. None may throw anything but the parser's
 * typed error; one kept for being slow must now be fast, by a margin no busy host erases (the
 * fastest of three runs under 50 ms plus 5 µs a byte; the inputs took 1.2 s and 11 s before).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WIDE_LIMITS, isTypedError, parserTargets, type ParserTarget } from '../../bench/support/parser-targets.js';
import { parseRegressionFileName, targetSlug } from '../../bench/fuzz/regressions.js';

const DIR = new URL('../fixtures/fuzz-regressions/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.bin')).sort();

function fastestRunNs(target: ParserTarget, input: Buffer): { ns: number; untyped?: unknown } {
  let ns = Infinity;
  let untyped: unknown;
  for (let run = 0; run < 3; run++) {
    const start = process.hrtime.bigint();
    try {
      target.parse(input);
    } catch (error) {
      if (!isTypedError(target, error)) untyped = error;
    }
    ns = Math.min(ns, Number(process.hrtime.bigint() - start));
  }
  return { ns, untyped };
}

describe('fuzz regression corpus', () => {
  it('holds the inputs that stalled the engine before the parsers were rewritten', () => {
    expect(files.some((f) => f.startsWith('sip-message-datagram--slow--'))).toBe(true);
    expect(files.some((f) => f.startsWith('sip-stream-framer--slow--'))).toBe(true);
  });

  for (const [limitsName, limits] of [['default limits', undefined], ['wide limits', WIDE_LIMITS]] as const) {
    const targets = new Map(parserTargets(limits).map((t) => [targetSlug(t.name), t]));
    for (const file of files) {
      it(`${file} (${limitsName})`, () => {
        const meta = parseRegressionFileName(file);
        expect(meta, `file name ${file}`).toBeDefined();
        const target = targets.get(meta!.slug);
        expect(target, `parser for ${meta!.slug}`).toBeDefined();
        const input = readFileSync(new URL(file, DIR));
        const { ns, untyped } = fastestRunNs(target!, input);
        expect(untyped).toBeUndefined();
        if (meta!.kind === 'slow') expect(ns / 1e6).toBeLessThan(50 + (5 * input.length) / 1000);
      });
    }
  }
});
