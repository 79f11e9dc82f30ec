/**
 * A prompt file is read as far as the size that was checked against PROMPT_FILE_MAX_BYTES, into
 * a buffer of its own that goes to the decoding worker as it is. It was read with
 * `handle.readFile()`, which reads to wherever the file ends by then (a file still being written,
 * say, uploaded to shared storage while a call plays it: up to 2 GB), and copied on the engine's
 * thread, which held the frame clock up for 65 to 100 ms for an hour of 8 kHz audio.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PromptService } from '../../tts/index.js';
import { chunk, fmtChunk, riffWave } from '../support/wav-bytes.js';

const folder = mkdtempSync(join(tmpdir(), 'uasmedia-prompt-read-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('reading a prompt file', { timeout: 60_000 }, () => {
  it('reads no further than the size checked, though the file grows after the check', async () => {
    const path = join(folder, 'growing.wav');
    const second = Buffer.alloc(8000 * 2, 0x22);
    // A streaming writer's header: the data chunk claims far more than is there yet.
    const fmt = fmtChunk({ formatTag: 1, channels: 1, sampleRateHz: 8000, bitsPerSample: 16 });
    writeFileSync(path, riffWave([fmt, chunk('data', second, 0xffffffff - 100)]));
    const probe = await open(path);
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const stat = proto.stat;
    let grown = false;
    // The file grows right after the prompt folder has checked its size: one second more.
    proto.stat = async function (this: FileHandle, ...args: Parameters<FileHandle['stat']>) {
      const info = await stat.apply(this, args);
      if (!grown) {
        grown = true;
        appendFileSync(path, second);
      }
      return info;
    } as FileHandle['stat'];
    const service = new PromptService({ promptFolder: folder });
    try {
      const pcm = await service.fileToPcm('growing.wav', 8000);
      expect(grown).toBe(true);
      expect(pcm.length).toBe(8000);
    } finally {
      proto.stat = stat;
      await service.close();
    }
  });
});
