/**
 * Speech nobody waits for any more is not made: a request whose signal aborts leaves the queue,
 * and a production shared by several requests goes on while one still waits. At most MAX_QUEUED
 * requests wait for a worker. Before, a caller that hung up during its welcome left the
 * synthesis queued, and one source making calls to ever new rooms (a new welcome text each) held
 * every other caller's prompts up for a minute and more. Prompt files likewise: a file nobody waits
 * for is not decoded (ten abandoned hour-long files had held the next caller's prompt up by 1.2 to
 * 2.3 s).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import { PromptService, TtsError } from '../../tts/index.js';
import { waitFor } from '../support/wait.js';
import { MAX_QUEUED } from '../../tts/worker-pool.js';

/**
 * In the one worker's hands when the others are queued: the requests below are queued, and
 * abandoned, in the same turn, so how long it takes does not matter (a long text timed out on a
 * busy host, where the worker runs at low priority).
 */
const BUSY = 'the worker is busy with this one';

const codeOf = (error: unknown): string | undefined => (error instanceof TtsError ? error.code : undefined);

describe('abandoned prompts', { timeout: 120_000 }, () => {
  it('drops a queued synthesis whose every waiter gave up, and keeps one another request still waits for', async () => {
    const service = new PromptService({ workers: 1 });
    try {
      const busy = service.textToPcm(BUSY, 8000);
      const hungUp = new AbortController();
      const alone = service.textToPcm('room seven one has joined', 8000, {}, hungUp.signal).catch(codeOf);
      const shared = service.textToPcm('welcome to room nine', 8000, {}, hungUp.signal).catch(codeOf);
      const stillWaiting = service.textToPcm('welcome to room nine', 8000);
      hungUp.abort();
      expect(await alone).toBe('ERR_ABANDONED');
      expect(await shared).toBe('ERR_ABANDONED');
      expect((await stillWaiting).length).toBeGreaterThan(4000);
      await busy;
      // The busy one and the shared welcome: the abandoned one was never made.
      expect(service.stats().syntheses).toBe(2);
      expect((await service.textToPcm('room seven one has joined', 8000)).length).toBeGreaterThan(4000);
      expect(service.stats().syntheses).toBe(3);
      // A request that comes in the very turn its prompt was abandoned is made afresh.
      const busyAgain = service.textToPcm(`${BUSY} again`, 8000);
      const leaving = new AbortController();
      const left = service.textToPcm('welcome back', 8000, {}, leaving.signal).catch(codeOf);
      leaving.abort();
      const arriving = service.textToPcm('welcome back', 8000);
      expect(await left).toBe('ERR_ABANDONED');
      expect((await arriving).length).toBeGreaterThan(4000);
      await busyAgain;
    } finally {
      await service.close();
    }
  });

  it(`refuses a request past ${MAX_QUEUED} waiting with ERR_QUEUE_FULL`, async () => {
    const service = new PromptService({ workers: 1 });
    try {
      const busy = service.textToPcm(BUSY, 8000);
      const gaveUp = new AbortController();
      const queued = Array.from({ length: MAX_QUEUED }, (_, i) =>
        service.textToPcm(`caller ${i} has joined`, 8000, {}, gaveUp.signal).catch(codeOf)
      );
      expect(await service.textToPcm('one too many', 8000).catch(codeOf)).toBe('ERR_QUEUE_FULL');
      gaveUp.abort();
      expect(new Set(await Promise.all(queued))).toEqual(new Set(['ERR_ABANDONED']));
      expect((await service.textToPcm('one too many', 8000)).length).toBeGreaterThan(4000);
      await busy;
    } finally {
      await service.close();
    }
  });

  it('drops a queued file decoding whose every waiter gave up', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'uasmedia-abandoned-'));
    const wav = (seconds: number): Buffer => {
      const file = new wavefile.WaveFile();
      file.fromScratch(
        1,
        48000,
        '16',
        new Int16Array(seconds * 48000).map((_, i) => (i * 37) % 20000)
      );
      return Buffer.from(file.toBuffer());
    };
    writeFileSync(join(folder, 'long.wav'), wav(600));
    writeFileSync(join(folder, 'welcome.wav'), wav(2));
    const service = new PromptService({ promptFolder: folder });
    try {
      // The long file holds the one decoding worker while the welcome waits behind it.
      const long = service.fileToPcm('long.wav', 8000);
      await waitFor(() => service.pendingCount === 1);
      const hungUp = new AbortController();
      const welcome = service.fileToPcm('welcome.wav', 8000, hungUp.signal).catch(codeOf);
      await waitFor(() => service.pendingCount === 2);
      hungUp.abort();
      expect(await welcome).toBe('ERR_ABANDONED');
      expect((await long).length).toBe(600 * 8000);
      // Only the long one was decoded.
      expect(service.stats().syntheses).toBe(1);
      expect((await service.fileToPcm('welcome.wav', 8000)).length).toBe(2 * 8000);
      expect(service.stats().syntheses).toBe(2);
    } finally {
      await service.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
