/**
 * A finished synthesis gives its WebAssembly memory back. Each flite run instantiates the module
 * afresh (16.5 MB of memory); V8 frees a dead instance only when a full collection finds it, and
 * the workers' small heaps gave it no reason to run one: 32 prompts spoken by two workers left up
 * to 328 MB of dead instances resident. The workers now collect after each request
 * (tts/collect-garbage.ts). eSpeak's loader left getters on each worker's global object whose
 * closures held an instance (about 36 MB) for good; they are taken off after each run
 * (tts/espeak-engine.ts). Read from /proc/self/smaps, which counts the workers' memories too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { residentByKind } from '../../bench/soak/memory-map.js';
import { PromptService } from '../../tts/index.js';
import { EspeakEngine } from '../../tts/espeak-engine.js';

const smapsPath = '/proc/self/smaps';
const FLITE_INSTANCE_MB = 16.5;
const ESPEAK_INSTANCE_MB = 36;

function wasmResidentMb(): number {
  return residentByKind(readFileSync(smapsPath, 'utf8')).wasmMemoriesKb / 1024;
}

/** WebAssembly memory resident above `before` once it falls under `targetMb`, or after 5 s. */
async function residentAboveOnceIdle(before: number, targetMb: number): Promise<number> {
  let idle = wasmResidentMb() - before;
  for (let waited = 0; idle >= targetMb && waited < 5000; waited += 100) {
    await sleep(100);
    idle = wasmResidentMb() - before;
  }
  return idle;
}

describe.skipIf(!existsSync(smapsPath))('speech synthesis and WebAssembly memory', () => {
  it('32 prompts in two workers hold at most a few instances at once, and none once idle', async () => {
    const before = wasmResidentMb();
    const service = new PromptService({ workers: 2 });
    try {
      let peak = 0;
      for (let i = 0; i < 16; i++) {
        const spoken = await Promise.all([
          service.textToPcm(`caller number ${i} is joining the conference`, 8000),
          service.textToPcm(`the conference has ${i} parties now`, 8000)
        ]);
        for (const pcm of spoken) expect(pcm.length).toBeGreaterThan(1600);
        peak = Math.max(peak, wasmResidentMb() - before);
      }
      // Right after a reply its worker has not collected yet: one live instance per worker, and
      // the resampler's memories.
      expect(peak).toBeLessThan(4 * FLITE_INSTANCE_MB);
      expect(await residentAboveOnceIdle(before, FLITE_INSTANCE_MB)).toBeLessThan(FLITE_INSTANCE_MB);
    } finally {
      await service.close();
    }
  }, 120_000);

  it('eSpeak keeps no instance once idle, and leaves nothing on the global object', async () => {
    const before = wasmResidentMb();
    const service = new PromptService({ workers: 1, defaultEngine: 'espeak' });
    try {
      for (let i = 0; i < 4; i++) {
        const pcm = await service.textToPcm(`caller number ${i} is joining the conference`, 8000);
        expect(pcm.length).toBeGreaterThan(1600);
      }
      expect(await residentAboveOnceIdle(before, ESPEAK_INSTANCE_MB / 2)).toBeLessThan(
        ESPEAK_INSTANCE_MB / 2
      );
    } finally {
      await service.close();
    }
    // In this thread too: the loader's warning getters (`buffer`, `asm`, ...) come off again.
    const globals = new Set(Object.getOwnPropertyNames(globalThis));
    const engine = new EspeakEngine();
    await engine.prepare();
    expect(Object.getOwnPropertyNames(globalThis).filter((name) => !globals.has(name))).toEqual([]);
  }, 120_000);
});
