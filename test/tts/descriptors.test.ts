/**
 * Speech synthesis returns every file descriptor it takes. Workers share the process's descriptor
 * table, so /proc/self/fd counts theirs too. node:wasi left one open per flite synthesis (a
 * preopened folder only garbage collection closed), for good once the worker had exited.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PromptService } from '../../tts/index.js';

function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('speech synthesis and file descriptors', () => {
  for (const [engine, count] of [['flite', 200], ['espeak', 40]] as const) {
    it(`${engine}: ${count} syntheses of unique text leave the descriptor count where it was`, async () => {
      const service = new PromptService({ defaultEngine: engine });
      try {
        // The first synthesis loads the engine (module files, worker); count from after it.
        await service.textToPcm('warm up', 8000);
        const before = openDescriptors();
        for (let i = 0; i < count; i++) {
          const pcm = await service.textToPcm(`caller ${i} has joined`, 8000);
          expect(pcm.length).toBeGreaterThan(1600);
        }
        const after = openDescriptors();
        expect(after - before).toBeLessThanOrEqual(3);
      } finally {
        await service.close();
      }
    }, 240_000);
  }
});
