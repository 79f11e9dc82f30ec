/**
 * The synthesis deadline (`synthesisTimeoutMs`): a prompt whose synthesis runs past it fails with
 * `ERR_SYNTHESIS_TIMEOUT` and its worker is terminated and replaced, so the prompts behind it are
 * served. Before, 4000 digits held the one worker for 14 s or more and every other prompt waited.
 */
import { describe, expect, it } from 'vitest';
import { PromptService, TEXT_CHARS_MAX, TtsError } from '../../tts/index.js';

/**
 * The longest text allowed, all digits: Flite says each one, 17 minutes of audio. Spoken in
 * pieces, kal takes some 2.6 s for it; the slt voice, ten times slower, 20 s and more.
 */
const DIGITS = '0123456789'.repeat(TEXT_CHARS_MAX / 10);

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

describe('PromptService synthesisTimeoutMs', { timeout: 180_000 }, () => {
  it('fails a synthesis that runs past it with ERR_SYNTHESIS_TIMEOUT, replaces the worker and serves the prompts behind it', async () => {
    const timersBefore = activeTimers();
    // A deadline no short prompt comes near (they take tens of ms), far below what DIGITS takes.
    const service = new PromptService({ workers: 1, synthesisTimeoutMs: 2000 });
    try {
      const slow = service.textToPcm(DIGITS, 8000, { voice: 'slt' }).catch((e: unknown) => e);
      // Queued behind it on the one worker: time spent waiting does not count against its deadline.
      const queued = service.textToPcm('george has joined', 8000);
      const error = await slow;
      expect(error).toBeInstanceOf(TtsError);
      expect((error as TtsError).code).toBe('ERR_SYNTHESIS_TIMEOUT');
      expect((error as TtsError).message).toMatch(
        /flite speaking 4000 characters ran past synthesisTimeoutMs/
      );
      expect(speechSeconds(await queued)).toBeGreaterThan(0.5);
      expect(speechSeconds(await service.textToPcm('mary has left', 8000))).toBeGreaterThan(0.5);
      expect(service.stats().syntheses).toBe(3);
    } finally {
      await service.close();
    }
    // The stopped worker has exited and its replacement too; no deadline timer is left.
    expect(service.stats().workers).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('refuses a deadline no timer can hold, and text over TEXT_CHARS_MAX, before any worker starts', async () => {
    for (const synthesisTimeoutMs of [0, -1, Number.NaN, Infinity, 2 ** 31])
      expect(() => new PromptService({ synthesisTimeoutMs })).toThrow(RangeError);
    expect(() => new PromptService({ synthesisTimeoutMs: '10' as unknown as number })).toThrow(TypeError);
    const service = new PromptService({});
    try {
      await expect(service.textToPcm('1'.repeat(TEXT_CHARS_MAX + 1), 8000)).rejects.toThrow(
        `at most ${TEXT_CHARS_MAX} allowed`
      );
      expect(service.stats().syntheses).toBe(0);
    } finally {
      await service.close();
    }
  });
});

function speechSeconds(pcm: Int16Array): number {
  return pcm.length / 8000;
}
