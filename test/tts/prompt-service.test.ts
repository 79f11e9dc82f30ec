/** PromptService speech: plausible, speech-like audio from both engines; options, cache, concurrency, errors, close. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptService, TtsError } from '../../tts/index.js';
import { medianF0Hz, speechFeatures, whiteNoise } from '../support/tts-audio.js';
import { chunk, fmtChunk, riffWave } from '../support/wav-bytes.js';

const SHORT = 'george has joined';
const LONG = 'george has joined the conference call today';

function words(text: string): number {
  return text.split(/\s+/).length;
}

for (const engine of ['flite', 'espeak'] as const) {
  // Synthesis is CPU work (and the first call starts a worker and compiles the voice): on a
  // loaded host it takes several times as long. The timeout only catches a hang.
  describe(`${engine} voice`, { timeout: 180_000 }, () => {
    let service: PromptService;
    beforeAll(() => {
      service = new PromptService({ defaultEngine: engine });
    });
    afterAll(() => service.close());

    for (const rate of [8000, 16000]) {
      it(`speaks text at ${rate} Hz with a plausible duration for its word count`, async () => {
        const short = await service.textToPcm(SHORT, rate);
        const long = await service.textToPcm(LONG, rate);
        for (const [text, pcm] of [
          [SHORT, short],
          [LONG, long]
        ] as const) {
          const seconds = pcm.length / rate;
          expect(seconds).toBeGreaterThan(0.25 * words(text));
          expect(seconds).toBeLessThan(1.5 * words(text));
        }
        expect(long.length).toBeGreaterThan(short.length * 1.3);
      });
    }

    it('sounds like speech, not silence and not white noise', async () => {
      const pcm = await service.textToPcm(LONG, 8000);
      const speech = speechFeatures(pcm, 8000);
      const noise = speechFeatures(whiteNoise(pcm.length, 8000, 7), 8000);
      console.log(`${engine} speech features`, speech, 'white noise', noise);
      // Sound is present, with pauses between words.
      expect(speech.voicedShare).toBeGreaterThan(0.4);
      expect(speech.voicedShare).toBeLessThan(0.98);
      // Tonal (voiced) rather than flat like noise, and with the loudness swings of syllables.
      expect(speech.flatnessMedian).toBeLessThan(0.6);
      expect(noise.flatnessMedian).toBeGreaterThan(0.7);
      expect(speech.rmsDbSpread).toBeGreaterThan(3);
      expect(noise.rmsDbSpread).toBeLessThan(1);
      // Energy sits in the speech band, below noise's flat-spectrum centroid.
      expect(speech.centroidHzMedian).toBeGreaterThan(200);
      expect(speech.centroidHzMedian).toBeLessThan(noise.centroidHzMedian);
    });

    it('speaks faster and slower with rateWpm', async () => {
      const fast = await service.textToPcm(LONG, 8000, { rateWpm: 300 });
      const slow = await service.textToPcm(LONG, 8000, { rateWpm: 100 });
      expect(slow.length).toBeGreaterThan(fast.length * 1.8);
    });

    it('raises the pitch with pitch semitones', async () => {
      const natural = medianF0Hz(await service.textToPcm(LONG, 16000), 16000);
      const higher = medianF0Hz(await service.textToPcm(LONG, 16000, { pitch: 12 }), 16000);
      console.log(`${engine} f0 natural ${natural.toFixed(0)} Hz, +12 st ${higher.toFixed(0)} Hz`);
      expect(natural).toBeGreaterThan(60);
      expect(higher).toBeGreaterThan(natural * 1.25);
    });

    it('rejects an unknown voice with a typed error', async () => {
      const error = await service.textToPcm(SHORT, 8000, { voice: 'no-such-voice' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TtsError);
      expect((error as TtsError).code).toBe('ERR_UNKNOWN_VOICE');
      // The worker is still fine afterwards.
      expect((await service.textToPcm('still here', 8000)).length).toBeGreaterThan(0);
      // A real voice other than the default is accepted.
      const other = engine === 'flite' ? 'slt' : 'en-gb';
      expect((await service.textToPcm('still here', 8000, { voice: other })).length).toBeGreaterThan(0);
    });
  });
}

describe('PromptService cache and concurrency', { timeout: 180_000 }, () => {
  it('returns the cached audio on a repeat request without synthesizing again', async () => {
    const service = new PromptService({});
    try {
      const first = await service.textToPcm(SHORT, 8000);
      const before = service.stats();
      const second = await service.textToPcm(SHORT, 8000);
      const after = service.stats();
      expect(second).toEqual(first);
      expect(after.syntheses).toBe(before.syntheses);
      expect(after.cacheHits).toBe(before.cacheHits + 1);
      expect(after.cacheBytes).toBe(first.byteLength);
      // Any option that shapes the audio is part of the key.
      await service.textToPcm(SHORT, 16000);
      await service.textToPcm(SHORT, 8000, { rateWpm: 200 });
      await service.textToPcm(SHORT, 8000, { voice: 'kal16' });
      expect(service.stats().syntheses).toBe(after.syntheses + 3);
    } finally {
      await service.close();
    }
  });

  it('shares one synthesis among concurrent requests for the same prompt', async () => {
    const service = new PromptService({});
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => service.textToPcm('mary has left', 8000))
      );
      expect(service.stats().syntheses).toBe(1);
      expect(service.stats().cacheMisses).toBe(1);
      for (const pcm of results) expect(pcm).toBe(results[0]);
    } finally {
      await service.close();
    }
  });

  it('delivers all of 20 different prompts requested at once', async () => {
    const service = new PromptService({ workers: 2 });
    try {
      const texts = Array.from({ length: 20 }, (_, i) => `caller number ${i + 1} has joined`);
      const results = await Promise.all(texts.map((text) => service.textToPcm(text, 8000)));
      expect(results).toHaveLength(20);
      for (const pcm of results) expect(speechFeatures(pcm, 8000).voicedShare).toBeGreaterThan(0.3);
      expect(service.stats().syntheses).toBe(20);
      expect(new Set(results.map((pcm) => pcm.length)).size).toBeGreaterThan(1);
    } finally {
      await service.close();
    }
  });

  it('evicts the least recently used prompts to stay within cacheBytes', async () => {
    const service = new PromptService({ cacheBytes: 40_000 });
    try {
      const a = await service.textToPcm('alpha', 8000);
      await service.textToPcm('bravo', 8000);
      await service.textToPcm('alpha', 8000); // alpha is now the most recent
      await service.textToPcm('charlie delta echo', 8000);
      expect(service.stats().cacheBytes).toBeLessThanOrEqual(40_000);
      const syntheses = service.stats().syntheses;
      expect(await service.textToPcm('alpha', 8000)).toBe(a);
      expect(service.stats().syntheses).toBe(syntheses);
      await service.textToPcm('bravo', 8000);
      expect(service.stats().syntheses).toBe(syntheses + 1);
    } finally {
      await service.close();
    }
  });

  it('decodes a file too large for the cache once while a caller still plays it, not once per caller', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'uasmedia-shared-file-'));
    // Two seconds at 8 kHz: 32,000 bytes of PCM, more than the cache holds.
    const data = Buffer.alloc(2 * 8000 * 2, 0x11);
    const fmt = fmtChunk({ formatTag: 1, channels: 1, sampleRateHz: 8000, bitsPerSample: 16 });
    writeFileSync(join(folder, 'hold.wav'), riffWave([fmt, chunk('data', data)]));
    const service = new PromptService({ promptFolder: folder, cacheBytes: 20_000 });
    try {
      const first = await service.fileToPcm('hold.wav', 8000);
      const second = await service.fileToPcm('hold.wav', 8000);
      expect(second).toBe(first);
      expect(service.stats()).toMatchObject({ syntheses: 1, cacheBytes: 0 });
    } finally {
      await service.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('rejects bad arguments with typed errors before any synthesis', async () => {
    const service = new PromptService({});
    try {
      const kind = (e: unknown): string => (e instanceof TtsError ? e.code : (e as Error).name);
      const codes = await Promise.all([
        service.textToPcm('', 8000).catch(kind),
        service.textToPcm('hi', 7).catch(kind),
        service.textToPcm('hi', 8000, { rateWpm: 5000 }).catch(kind),
        service.textToPcm('hi', 8000, { pitch: 40 }).catch(kind),
        service.textToPcm('hi', 8000, { engine: 'piper' as never }).catch(kind)
      ]);
      expect(codes).toEqual([
        'RangeError',
        'ERR_INVALID_ARGUMENT',
        'RangeError',
        'RangeError',
        'ERR_UNKNOWN_ENGINE'
      ]);
      expect(service.stats().syntheses).toBe(0);
    } finally {
      await service.close();
    }
  });

  it('close() rejects pending requests with CLOSED and is idempotent', async () => {
    const service = new PromptService({});
    const pending = service.textToPcm('this prompt will never be finished', 8000).catch((e: unknown) => e);
    await service.close();
    expect(await pending).toMatchObject({ code: 'ERR_CLOSED' });
    await service.close();
    await expect(service.textToPcm('after', 8000)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
  });
});
