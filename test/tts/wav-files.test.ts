/** fileToPcm: WAV prompts of every common rate, depth, encoding and channel count, and the path rules. */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptService, TtsError } from '../../tts/index.js';
import { rms, toneFrequencyHz } from '../support/tts-audio.js';
import { chunk, fmtChunk, riffWave } from '../support/wav-bytes.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/wav/', import.meta.url));
/** Every fixture is 0.25 s of a 440 Hz sine at half of full scale (made with sox, see the file names). */
const TONE_S = 0.25;
const TONE_RMS = (0.5 / Math.SQRT2) * 32768;

const FORMATS = [
  'tone-8000-s16.wav',
  'tone-16000-s16.wav',
  'tone-22050-s16.wav',
  'tone-44100-s16.wav',
  'tone-48000-s16.wav',
  'tone-16000-u8.wav',
  'tone-44100-s24.wav',
  'tone-48000-s32.wav',
  'tone-22050-f32.wav',
  'tone-8000-ulaw.wav',
  'tone-8000-alaw.wav',
  'tone-44100-s16-stereo.wav'
];

describe('fileToPcm formats', () => {
  let service: PromptService;
  beforeAll(() => {
    service = new PromptService({ promptFolder: FIXTURES });
  });
  afterAll(() => service.close());

  for (const file of FORMATS) {
    for (const roomRate of [8000, 16000]) {
      it(`plays ${file} at ${roomRate} Hz as the same 440 Hz tone`, async () => {
        const pcm = await service.fileToPcm(file, roomRate);
        expect(Math.abs(pcm.length - TONE_S * roomRate)).toBeLessThanOrEqual(roomRate * 0.002 + 2);
        // Skip the converter's edge transients when measuring.
        const body = pcm.subarray(Math.round(roomRate * 0.02), pcm.length - Math.round(roomRate * 0.02));
        expect(toneFrequencyHz(body, roomRate)).toBeGreaterThan(430);
        expect(toneFrequencyHz(body, roomRate)).toBeLessThan(450);
        // 8-bit and G.711 add quantisation noise, not level changes.
        expect(rms(body) / TONE_RMS).toBeGreaterThan(0.93);
        expect(rms(body) / TONE_RMS).toBeLessThan(1.07);
      });
    }
  }

  it('caches a file until it changes', async () => {
    await service.fileToPcm('tone-8000-s16.wav', 16000);
    const before = service.stats();
    await service.fileToPcm('tone-8000-s16.wav', 16000);
    expect(service.stats().syntheses).toBe(before.syntheses);
    expect(service.stats().cacheHits).toBe(before.cacheHits + 1);
  });

  it('rejects a file that is not a WAV, and an unsupported encoding, with typed errors', async () => {
    await expect(service.fileToPcm('not-a-wav.wav', 8000)).rejects.toMatchObject({ code: 'ERR_NOT_WAV' });
    await expect(service.fileToPcm('tone-8000-ima-adpcm.wav', 8000)).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_WAV'
    });
  });
});

describe('fileToPcm paths', () => {
  let root: string;
  let folder: string;
  let service: PromptService;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'uasmedia-prompts-'));
    folder = join(root, 'prompts');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    copyFileSync(join(FIXTURES, 'tone-8000-s16.wav'), join(folder, 'sub', 'inside.wav'));
    copyFileSync(join(FIXTURES, 'tone-8000-s16.wav'), join(root, 'secret.wav'));
    symlinkSync(join(root, 'secret.wav'), join(folder, 'escape.wav'));
    symlinkSync(join(folder, 'sub', 'inside.wav'), join(folder, 'alias.wav'));
    writeFileSync(join(folder, 'unreadable.wav'), 'x');
    service = new PromptService({ promptFolder: folder });
  });
  afterAll(async () => {
    await service.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads files inside the folder, by relative path, absolute path or an inner symlink', async () => {
    expect((await service.fileToPcm('sub/inside.wav', 8000)).length).toBe(2000);
    expect((await service.fileToPcm(join(folder, 'sub', 'inside.wav'), 8000)).length).toBe(2000);
    expect((await service.fileToPcm('alias.wav', 8000)).length).toBe(2000);
  });

  it('refuses paths that leave the folder by .., by absolute path or through a symlink', async () => {
    for (const path of [
      '../secret.wav',
      'sub/../../secret.wav',
      join(root, 'secret.wav'),
      'escape.wav',
      '/etc/passwd',
      '..'
    ]) {
      const error = await service.fileToPcm(path, 8000).catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(TtsError);
      expect((error as TtsError).code, path).toBe('ERR_OUTSIDE_PROMPT_FOLDER');
    }
  });

  it('reports a missing file, a directory and garbage as distinct typed errors', async () => {
    await expect(service.fileToPcm('missing.wav', 8000)).rejects.toMatchObject({
      code: 'ERR_FILE_NOT_FOUND'
    });
    await expect(service.fileToPcm('sub', 8000)).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE' });
    await expect(service.fileToPcm('unreadable.wav', 8000)).rejects.toMatchObject({ code: 'ERR_NOT_WAV' });
    await expect(service.fileToPcm('', 8000)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('passes over a configured folder that does not exist, finding the file in the next', async () => {
    const late = join(root, 'late');
    const withMissing = new PromptService({ promptFolder: [late, folder] });
    try {
      expect((await withMissing.fileToPcm('sub/inside.wav', 8000)).length).toBe(2000);
      await expect(withMissing.fileToPcm('missing.wav', 8000)).rejects.toMatchObject({
        code: 'ERR_FILE_NOT_FOUND',
        message: "prompt file 'missing.wav' does not exist"
      });
      await expect(withMissing.fileToPcm('../secret.wav', 8000)).rejects.toMatchObject({
        code: 'ERR_OUTSIDE_PROMPT_FOLDER'
      });
      // Created later, the folder is used from then on.
      mkdirSync(late);
      copyFileSync(join(FIXTURES, 'tone-16000-s16.wav'), join(late, 'late.wav'));
      expect((await withMissing.fileToPcm('late.wav', 8000)).length).toBe(2000);
    } finally {
      await withMissing.close();
    }
  });

  it('reports a file as not found, naming the folder, when no configured folder exists', async () => {
    const none = new PromptService({ promptFolder: [join(root, 'gone'), join(root, 'gone-too')] });
    try {
      await expect(none.fileToPcm('inside.wav', 8000)).rejects.toMatchObject({
        code: 'ERR_FILE_NOT_FOUND',
        message: expect.stringContaining(`the prompt folder '${join(root, 'gone')}' does not exist`)
      });
    } finally {
      await none.close();
    }
  });
});

describe('fileToPcm hostile headers', () => {
  /** The old decoder spent minutes on these (wavefile looped over the claimed count); now milliseconds. */
  const HANG_CHECK = { timeout: 5_000 };
  const fmt = fmtChunk({ formatTag: 1, channels: 1, sampleRateHz: 8000, bitsPerSample: 16 });
  const data = chunk('data', Buffer.from(Int16Array.from({ length: 160 }, (_, i) => i * 200 - 16000).buffer));
  let folder: string;
  let service: PromptService;
  let clean: Int16Array;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'uasmedia-hostile-'));
    const smpl = Buffer.alloc(36);
    smpl.writeUInt32LE(0xffffffff, 28); // dwNumSampleLoops
    const cue = Buffer.alloc(4);
    cue.writeUInt32LE(0xffffffff, 0); // dwCuePoints
    writeFileSync(join(folder, 'clean.wav'), riffWave([fmt, data]));
    writeFileSync(join(folder, 'loops.wav'), riffWave([fmt, chunk('smpl', smpl), data]));
    writeFileSync(join(folder, 'cues.wav'), riffWave([fmt, chunk('cue ', cue), data]));
    writeFileSync(join(folder, 'loops-last.wav'), riffWave([fmt, data, chunk('smpl', smpl)]));
    const longFmt = fmtChunk({ formatTag: 7, channels: 1, sampleRateHz: 1000, bitsPerSample: 8 });
    writeFileSync(
      join(folder, 'long.wav'),
      riffWave([longFmt, chunk('data', Buffer.alloc(3600 * 1000 + 2, 0xff))])
    );
    service = new PromptService({ promptFolder: folder, workers: 1 });
    clean = await service.fileToPcm('clean.wav', 8000);
  });
  afterAll(async () => {
    await service.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it(
    'plays a file whose smpl chunk claims 2^32-1 loops as if the chunk were not there',
    HANG_CHECK,
    async () => {
      expect(clean.length).toBe(160);
      expect(await service.fileToPcm('loops.wav', 8000)).toEqual(clean);
      expect(await service.fileToPcm('loops-last.wav', 8000)).toEqual(clean);
    }
  );

  it(
    'plays a file whose cue chunk claims 2^32-1 cue points as if the chunk were not there',
    HANG_CHECK,
    async () => {
      expect(await service.fileToPcm('cues.wav', 8000)).toEqual(clean);
    }
  );

  it('refuses a prompt longer than an hour with a typed error, whatever its size in bytes', async () => {
    // A service of its own, so that a hang above cannot make this one fail too.
    const own = new PromptService({ promptFolder: folder, workers: 1 });
    try {
      // Not `rejects`: were it to resolve, printing 28.8 million samples would exhaust the heap.
      const outcome = await own.fileToPcm('long.wav', 8000).then(
        (pcm) => `resolved with ${pcm.length} samples`,
        (error: unknown) => error
      );
      expect(outcome).toMatchObject({
        code: 'ERR_FILE_UNREADABLE',
        message: expect.stringContaining('the limit is 3600 s')
      });
    } finally {
      await own.close();
    }
  });
});
