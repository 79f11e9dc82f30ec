/**
 * `npm run soak` in miniature: 20 s of calls of every kind (moderated ones too) through an engine
 * in its own process, and every counter back at its starting value at the end (the script exits
 * 1 otherwise). The full run (10 minutes) is `npm run soak`.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBenchScript } from '../support/bench-script.js';

describe('npm run soak', () => {
  it('cycles every kind of call for 20 s and every counter returns to its starting value', async () => {
    const { code, out } = await runBenchScript('bench/soak/index.ts', [
      '--seconds',
      '20',
      '--interval-seconds',
      '10'
    ]);
    console.log(out);
    expect(code, out).toBe(0);
    expect(out).toContain('PASS: every counter returned to its starting value');
    const placed =
      /calls placed: (\d+) \(normal (\d+), noack (\d+), vanished (\d+), refused (\d+), played (\d+), recorded (\d+), transferred (\d+), moderated (\d+)\)/.exec(
        out
      );
    expect(placed, out).not.toBeNull();
    for (const n of placed!.slice(2).map(Number)) expect(n).toBeGreaterThanOrEqual(2);
    // Each moderated caller went through every control and was removed by the application.
    const removed = /moderated: remove (\d+)/.exec(out);
    expect(Number(removed?.[1])).toBeGreaterThanOrEqual(2);
    for (const step of ['mute', 'hold', 'unhold', 'listen volume', 'stop coaching'])
      expect(out).toContain(`moderated: ${step} `);
    // The DSP core's WebAssembly memory, read from /proc/self/smaps, where Linux has it.
    if (existsSync('/proc/self/smaps'))
      expect(out).toMatch(/start +rss MB .* wasm MB [1-9][\d.]* +arenas MB \d/);
    expect(out).toMatch(
      /rss, mean over each of \d parts of the run: [\d.]+.* MB; less the heap's held pages: [\d.]+/
    );
  }, 180_000);
});
