import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mediaFoldersFromEnv, mediaOptionsFromEnv } from '../../engine/app/media-env.js';
import { EngineError } from '../../engine/errors.js';

describe("npm start's media settings from the environment", () => {
  it('runs 8 kHz rooms unless UASMEDIA_ROOM_SAMPLE_RATE says 16000', () => {
    expect(mediaOptionsFromEnv({})).toEqual({ roomSampleRateHz: 8000 });
    expect(mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: '' })).toEqual({ roomSampleRateHz: 8000 });
    expect(mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: '8000' })).toEqual({ roomSampleRateHz: 8000 });
    expect(mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: '16000' })).toEqual({ roomSampleRateHz: 16000 });
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['16k', '44100', ' 16000', '16000.0']) {
      let caught: unknown;
      try {
        mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: bad });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EngineError);
      expect((caught as EngineError).code).toBe('ERR_INVALID_ARGUMENT');
      expect((caught as Error).message).toBe(`UASMEDIA_ROOM_SAMPLE_RATE=${bad} must be 8000 or 16000`);
    }
  });
});

describe("npm start's play and record folders from the environment", () => {
  it('creates the folders named, and the defaults for unset or empty variables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uasmedia-folders-'));
    try {
      const named = mediaFoldersFromEnv({
        UASMEDIA_PLAY_FOLDER: join(dir, 'play'),
        UASMEDIA_RECORD_FOLDER: join(dir, 'rec')
      });
      expect(named).toEqual({ playFolder: join(dir, 'play'), recordFolder: join(dir, 'rec') });
      expect((await stat(join(dir, 'rec'))).isDirectory()).toBe(true);
      // Empty had meant the working directory itself.
      expect(mediaFoldersFromEnv({ UASMEDIA_PLAY_FOLDER: '', UASMEDIA_RECORD_FOLDER: '' })).toEqual({
        playFolder: resolve('data/prompts'),
        recordFolder: resolve('data/recordings')
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a folder it cannot create, naming the variable (it was a stack trace)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uasmedia-folders-'));
    try {
      await writeFile(join(dir, 'file'), '');
      const folder = join(dir, 'file', 'rec');
      expect(() => mediaFoldersFromEnv({ UASMEDIA_RECORD_FOLDER: folder })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(`^UASMEDIA_RECORD_FOLDER=${folder}: ENOTDIR`)
        })
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
