/**
 * A text that makes eSpeak NG trap (read out of its WebAssembly memory) fails its own request and
 * nothing else. The trap came from inside the Emscripten runtime's start of main, after the
 * request had been answered with whatever audio was written: it ended the worker thread, and the
 * next request in hand, another caller's prompt, failed with ERR_WORKER_FAILED.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PromptService } from '../../tts/index.js';

/** The alphabet 153 times over: eSpeak spells it out and traps (measured 2026-12-07). */
const TRAPPING_TEXT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(153);

describe('eSpeak NG trapping on a text', { timeout: 120_000 }, () => {
  const service = new PromptService({ defaultEngine: 'espeak' });
  afterAll(() => service.close());

  it('fails that request with ERR_SYNTHESIS_FAILED, and the next prompt is spoken by the same worker', async () => {
    await expect(service.textToPcm(TRAPPING_TEXT, 8000)).rejects.toMatchObject({
      code: 'ERR_SYNTHESIS_FAILED'
    });
    const next = await service.textToPcm('the next caller is welcome', 8000);
    expect(next.length).toBeGreaterThan(8000);
    expect(service.stats().workers).toBe(1);
  });
});
