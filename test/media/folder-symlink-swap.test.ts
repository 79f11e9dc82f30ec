/**
 * A play or record folder configured as a symlink that the operator re-points (a deploy's
 * `current` link swapped atomically, a share mounted elsewhere) is followed. Its real path was
 * kept from the first use: after the swap every prompt file was refused as outside the prompt
 * folder, and every recording as outside the record folder, until the engine was restarted.
 */
import {
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RecordFolder } from '../../engine/media/file-folders.js';
import { PromptService } from '../../tts/index.js';
import { chunk, fmtChunk, riffWave } from '../support/wav-bytes.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'uasmedia-folder-swap-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** `release/prompts/welcome.wav` (`samples` long) and `release/recordings/`. */
function release(name: string, samples: number): void {
  mkdirSync(join(base, name, 'prompts'), { recursive: true });
  mkdirSync(join(base, name, 'recordings'));
  const fmt = fmtChunk({ formatTag: 1, channels: 1, sampleRateHz: 8000, bitsPerSample: 16 });
  writeFileSync(
    join(base, name, 'prompts', 'welcome.wav'),
    riffWave([fmt, chunk('data', Buffer.alloc(2 * samples))])
  );
}

/** Points `current` at `name` in one rename, as a deploy does. */
function pointCurrentAt(name: string): void {
  symlinkSync(join(base, name), join(base, 'current.next'));
  renameSync(join(base, 'current.next'), join(base, 'current'));
}

describe('a folder configured as a symlink that is re-pointed', () => {
  it('plays the new folder’s files and records into the new folder', async () => {
    release('v1', 800);
    release('v2', 1600);
    pointCurrentAt('v1');
    const prompts = new PromptService({ promptFolder: join(base, 'current', 'prompts') });
    const recordings = new RecordFolder(join(base, 'current', 'recordings'));
    try {
      expect((await prompts.fileToPcm('welcome.wav', 8000)).length).toBe(800);
      expect((await recordings.resolve('caller.wav')).path).toBe(
        join(base, 'v1', 'recordings', 'caller.wav')
      );
      pointCurrentAt('v2');
      expect((await prompts.fileToPcm('welcome.wav', 8000)).length).toBe(1600);
      expect((await recordings.resolve('caller.wav')).path).toBe(
        join(base, 'v2', 'recordings', 'caller.wav')
      );
    } finally {
      await prompts.close();
    }
  });
});
