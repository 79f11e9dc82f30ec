/**
 * Long WAV files play. Files up to an hour are accepted, but libsamplerate-js resampled at some
 * 200 ns per output sample: ten minutes of 44.1 kHz took 4 s or more, an hour 20 s and more,
 * and the synthesis deadline stopped it. Long conversions now go to a tabled polyphase filter,
 * a file's deadline grows with how long it plays, while a text's stays as it was, and files are
 * decoded in a worker of their own, so speech is not held up behind them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { PromptService } from '../../tts/index.js';
import { rms, toneFrequencyHz } from '../support/tts-audio.js';
import { chunk, fmtChunk, riffWave } from '../support/wav-bytes.js';

const FILE_RATE_HZ = 44100;
const MINUTES = 10;
const AMPLITUDE = 8000;

/** `MINUTES` of a 440 Hz tone at 44.1 kHz, 16-bit mono: 53 MB. */
function longToneWav(): Buffer {
  const frames = MINUTES * 60 * FILE_RATE_HZ;
  const data = Buffer.alloc(frames * 2);
  const step = (2 * Math.PI * 440) / FILE_RATE_HZ;
  for (let i = 0; i < frames; i++)
    data.writeInt16LE(Math.round(AMPLITUDE * Math.sin(step * (i % 44100))), 2 * i);
  return riffWave([
    fmtChunk({ formatTag: 1, channels: 1, sampleRateHz: FILE_RATE_HZ, bitsPerSample: 16 }),
    chunk('data', data)
  ]);
}

describe('a long WAV file', { timeout: 300_000 }, () => {
  let folder: string;
  let service: PromptService;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'uasmedia-long-wav-'));
    writeFileSync(join(folder, 'hold-music.wav'), longToneWav());
    // A deadline far below what ten minutes of 44.1 kHz took to resample before (4 s and more),
    // far above what a short prompt takes (tens of ms): the file's length must lengthen it.
    service = new PromptService({ promptFolder: folder, workers: 1, synthesisTimeoutMs: 1000 });
  });
  afterAll(async () => {
    await service.close();
    rmSync(folder, { recursive: true, force: true });
  });

  // 16 kHz: the more output samples, the more work (8 kHz is the same filter with half the outputs).
  for (const roomRate of [16000]) {
    it(`plays whole at ${roomRate} Hz under a deadline that grows with its length`, async () => {
      const pcm = await service.fileToPcm('hold-music.wav', roomRate);
      expect(pcm.length).toBe(MINUTES * 60 * roomRate);
      for (const at of [1, MINUTES * 30, MINUTES * 60 - 2]) {
        const second = pcm.subarray(at * roomRate, (at + 1) * roomRate);
        expect(toneFrequencyHz(second, roomRate)).toBeCloseTo(440, -1);
        expect(rms(second) / (AMPLITUDE / Math.SQRT2)).toBeGreaterThan(0.97);
        expect(rms(second) / (AMPLITUDE / Math.SQRT2)).toBeLessThan(1.03);
      }
    });
  }

  it('does not hold up speech while it is being decoded', async () => {
    // The default deadlines: what is checked is the order, and on a busy host a short prompt
    // can take longer than the 1 s the test above gives.
    const relaxed = new PromptService({ promptFolder: folder, workers: 1 });
    onTestFinished(() => relaxed.close());
    // The speech worker is up and its voice loaded: a short prompt takes tens of ms now.
    await relaxed.textToPcm('george has joined', 8000);
    const finished: string[] = [];
    const handedOver = relaxed.stats().syntheses + 1;
    const file = relaxed.fileToPcm('hold-music.wav', 8000).then((pcm) => {
      finished.push('file');
      return pcm;
    });
    // The file is read, then counted and handed to a worker in one step: speech asks after that.
    while (relaxed.stats().syntheses < handedOver) await new Promise((resolve) => setImmediate(resolve));
    const speech = relaxed.textToPcm('mary has left', 8000).then((pcm) => {
      finished.push('speech');
      return pcm;
    });
    expect((await speech).length / 8000).toBeGreaterThan(0.5);
    expect((await file).length).toBe(MINUTES * 60 * 8000);
    expect(finished).toEqual(['speech', 'file']);
  });
});
