/**
 * Recording against someone who may write in the record folder and swaps a folder on the way for
 * a symlink to elsewhere, between the engine's check and its open: no recording lands outside the
 * record folder, and every refusal is a FileAccessError. Before, about one attempt in twenty
 * wrote its file outside, and others failed with a bare ENOENT.
 */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileAccessError } from '../../engine/index.js';
import { RecordFolder, openNoFollow } from '../../engine/media/file-folders.js';
import { FolderFlipper } from '../support/folder-flipper.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'uasmedia-record-race-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('record folder against a folder swapped for a symlink', () => {
  it('writes nothing outside the folder, and refuses with FileAccessError', async () => {
    const folder = join(root, 'rec');
    const outside = join(root, 'outside');
    mkdirSync(folder);
    mkdirSync(outside);
    const records = new RecordFolder(folder);
    await (await openNoFollow(await records.resolve('direct.wav'))).close(); // the folder takes files
    const flipper = await FolderFlipper.start(folder, 'sub', outside);
    let written = 0; // on a busy host the race may leave none
    const failures: unknown[] = [];
    try {
      for (let i = 0; i < 600; i++) {
        try {
          const file = await openNoFollow(await records.resolve(`sub/take${i}.wav`));
          await file.close();
          written++;
        } catch (error) {
          failures.push(error);
        }
      }
    } finally {
      await flipper.stop();
    }
    console.log(`${written} written, ${failures.length} refused`);
    expect(readdirSync(outside)).toEqual([]);
    expect(failures.filter((e) => !(e instanceof FileAccessError))).toEqual([]);
  });
});
