/**
 * The soak's reading of /proc/self/smaps (bench/soak/memory-map.ts) on this very process: the
 * pages a WebAssembly memory gets when it is written show up as WebAssembly memory, and every
 * resident kB falls in exactly one kind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { residentByKind } from '../../bench/soak/memory-map.js';

const smapsPath = '/proc/self/smaps';

function totalRssKb(smaps: string): number {
  let kb = 0;
  for (const line of smaps.split('\n')) if (line.startsWith('Rss:')) kb += Number.parseInt(line.slice(4), 10);
  return kb;
}

describe.skipIf(!existsSync(smapsPath))('resident memory by kind of mapping', () => {
  it('counts 8 MB written into a new WebAssembly memory as WebAssembly memory, and every kB once', () => {
    const before = residentByKind(readFileSync(smapsPath, 'utf8'));
    const memory = new WebAssembly.Memory({ initial: 256, maximum: 256 });
    new Uint8Array(memory.buffer, 0, 8 * 2 ** 20).fill(1);
    const smaps = readFileSync(smapsPath, 'utf8');
    const after = residentByKind(smaps);
    expect(after.wasmMemoriesKb - before.wasmMemoriesKb).toBeGreaterThanOrEqual(8 * 1024);
    expect(after.wasmMemoriesKb - before.wasmMemoriesKb).toBeLessThan(10 * 1024);
    expect(after.otherAnonymousKb - before.otherAnonymousKb).toBeLessThan(4 * 1024);
    const sum =
      after.wasmMemoriesKb + after.threadArenasKb + after.mainHeapKb + after.filesKb + after.otherAnonymousKb;
    expect(sum).toBe(totalRssKb(smaps));
    expect(memory.buffer.byteLength).toBe(256 * 65536);
  });
});
