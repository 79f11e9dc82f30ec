/**
 * Playing a file against someone who may write in the play folder and swaps a folder on the way
 * for a symlink to elsewhere, between the check and the read: the file outside is never played,
 * and once the folder is itself again its own file is what plays (or here, is refused: it is not
 * a WAV), not a cached copy of the outside one. Before, about one attempt in eight decoded the
 * outside WAV, and the cache kept serving it afterwards.
 */
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  unlinkSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PromptService, TtsError } from '../../tts/index.js';
import { FolderFlipper } from '../support/folder-flipper.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/wav/${name}`, import.meta.url));
const root = realpathSync(mkdtempSync(join(tmpdir(), 'uasmedia-play-race-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('play folder against a folder swapped for a symlink', () => {
  it('never plays the file outside, and does not keep it in its cache', async () => {
    const folder = join(root, 'play');
    const outside = join(root, 'outside');
    mkdirSync(join(folder, '.psub-real'), { recursive: true });
    mkdirSync(outside);
    copyFileSync(fixture('not-a-wav.wav'), join(folder, '.psub-real', 'a.wav'));
    copyFileSync(fixture('tone-16000-s16.wav'), join(outside, 'a.wav'));
    const service = new PromptService({ promptFolder: folder });
    const flipper = await FolderFlipper.start(folder, 'psub', outside);
    let played = 0;
    const failures: unknown[] = [];
    try {
      for (let i = 0; i < 400; i++) {
        try {
          await service.fileToPcm('psub/a.wav', 8000);
          played++;
        } catch (error) {
          failures.push(error);
        }
      }
    } finally {
      await flipper.stop();
    }
    try {
      console.log(`${played} played, ${failures.length} refused`);
      expect(played).toBe(0);
      expect(failures.filter((e) => !(e instanceof TtsError))).toEqual([]);
      // The folder as it should be again: its own a.wav, which is not a WAV, is what is read.
      const psub = join(folder, 'psub');
      if (lstatSync(psub, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(psub);
      if (existsSync(join(folder, '.psub-real'))) renameSync(join(folder, '.psub-real'), psub);
      await expect(service.fileToPcm('psub/a.wav', 8000)).rejects.toBeInstanceOf(TtsError);
    } finally {
      await service.close();
    }
  });
});
