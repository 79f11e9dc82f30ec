/**
 * The recorder streams its 10 s chunks to the file as they fill and writes the rest and the
 * sizes when saved: a recording across several chunks reads back sample for sample as a valid
 * WAV (read with wavefile), and a failed path is an error, not a crash.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { afterAll, describe, expect, it } from 'vitest';
import { FileAccessError } from '../../engine/errors.js';
import { MAX_RECORD_SECONDS, Recorder } from '../../engine/media/recorder.js';
import { waitFor } from '../support/wait.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'uasmedia-recorder-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A target inside the test's folder, as RecordFolder.resolve gives one. */
const at = (path: string) => ({ path, folderReal: dir });

function frame(index: number, samples: number): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = ((index * samples + i) % 60001) - 30000;
  return pcm;
}

describe('Recorder', () => {
  it('refuses a file with another name (a hard link made after the folder check), and leaves it as it was', async () => {
    const outside = join(dir, 'outside.txt');
    writeFileSync(outside, 'precious');
    linkSync(outside, join(dir, 'linked.wav'));
    await expect(
      Recorder.create({ target: at(join(dir, 'linked.wav')), sampleRateHz: 8000 })
    ).rejects.toMatchObject({
      code: 'ERR_FILE_ACCESS'
    });
    expect(readFileSync(outside, 'utf8')).toBe('precious');
  });

  it('refuses a FIFO put at the target after the folder check without waiting for a reader', async () => {
    const fifo = join(dir, 'swapped.wav');
    execFileSync('mkfifo', [fifo]);
    await expect(Recorder.create({ target: at(fifo), sampleRateHz: 8000 })).rejects.toMatchObject({
      code: 'ERR_FILE_ACCESS'
    });
    rmSync(fifo);
  });

  it('counts each chunk on disk in the header before save: a process killed mid-recording leaves audio that plays', async () => {
    const path = join(dir, 'killed.wav');
    const recorder = await Recorder.create({ target: at(path), sampleRateHz: 8000, maxSeconds: 60 });
    for (let f = 0; f < 12 * 50; f++) expect(recorder.pushFrame(frame(f, 160))).toBe(true);
    // The process dies here: save() never runs. The first 10 s chunk reaches the disk.
    const onDisk = (): number => readFileSync(path).length;
    await waitFor(() => onDisk() >= 44 + 10 * 8000 * 2);
    await waitFor(() => readFileSync(path).readUInt32LE(40) === 10 * 8000 * 2);
    const wav = new wavefile.WaveFile(readFileSync(path));
    expect((wav.getSamples(false, Int16Array) as unknown as Int16Array).length).toBe(10 * 8000);
    await recorder.save();
  });

  it('writes 25 s at 16 kHz (three chunks) as a WAV that reads back sample for sample', async () => {
    const path = join(dir, 'long.wav');
    const recorder = await Recorder.create({ target: at(path), sampleRateHz: 16000, maxSeconds: 30 });
    const frames = 25 * 50;
    for (let f = 0; f < frames; f++) expect(recorder.pushFrame(frame(f, 320))).toBe(true);
    await recorder.save();
    const wav = new wavefile.WaveFile(readFileSync(path));
    expect(wav.fmt).toMatchObject({ numChannels: 1, sampleRate: 16000, bitsPerSample: 16 });
    const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array;
    expect(samples.length).toBe(frames * 320);
    let mismatches = 0;
    for (let f = 0; f < frames; f++) {
      const expected = frame(f, 320);
      for (let i = 0; i < 320; i++) if (samples[f * 320 + i] !== expected[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('stops at maxSeconds mid-frame, and caps the length at MAX_RECORD_SECONDS', async () => {
    const path = join(dir, 'short.wav');
    const recorder = await Recorder.create({ target: at(path), sampleRateHz: 8000, maxSeconds: 0.05 });
    expect(recorder.pushFrame(frame(0, 160))).toBe(true);
    expect(recorder.pushFrame(frame(1, 160))).toBe(true);
    expect(recorder.pushFrame(frame(2, 160))).toBe(false); // 400 samples: full within the third frame
    expect(recorder.pushFrame(frame(3, 160))).toBe(false);
    await recorder.save();
    const wav = new wavefile.WaveFile(readFileSync(path));
    expect((wav.getSamples(false, Int16Array) as unknown as Int16Array).length).toBe(400);
    const capped = await Recorder.create({
      target: at(join(dir, 'cap.wav')),
      sampleRateHz: 8000,
      maxSeconds: 1e9
    });
    expect(capped.full).toBe(false);
    await capped.save();
    expect(MAX_RECORD_SECONDS).toBe(86400);
  });

  it('stops at a write the disk refuses: pushFrame says so, and save keeps what was written and rejects typed', async () => {
    const path = join(dir, 'full.wav');
    const recorder = await Recorder.create({ target: at(path), sampleRateHz: 8000, maxSeconds: 3600 });
    // The disk fills up: the first 10 s chunk goes in two short writes, the second is refused.
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const write = proto.write as (...args: unknown[]) => ReturnType<FileHandle['write']>;
    const secondChunk = 44 + 10 * 8000 * 2;
    let refuse = (): void => undefined;
    const refused = new Promise<void>((resolve) => (refuse = resolve));
    proto.write = async function (this: FileHandle, ...args: unknown[]) {
      const [buffer, offset, length, position] = args as [Buffer, number, number, number];
      if (position >= secondChunk && length > 0) {
        refuse();
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      if (position >= 44 && length > 60000) return write.call(this, buffer, offset, 60000, position);
      return write.apply(this, args);
    } as FileHandle['write'];
    try {
      let f = 0;
      for (; f < 20 * 50; f++) expect(recorder.pushFrame(frame(f, 160))).toBe(true);
      await refused;
      await new Promise((resolve) => setImmediate(resolve));
      expect(recorder.pushFrame(frame(f, 160))).toBe(false);
      const saved = await recorder.save().then(
        () => undefined,
        (error: unknown) => error
      );
      expect(saved).toBeInstanceOf(FileAccessError);
      expect(saved).toMatchObject({ reason: 'CANNOT_WRITE', cause: { code: 'ENOSPC' } });
    } finally {
      proto.write = write as FileHandle['write'];
    }
    // What reached the disk plays, whole: the first chunk.
    const wav = new wavefile.WaveFile(readFileSync(path));
    const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array;
    expect(samples.length).toBe(10 * 8000);
    let mismatches = 0;
    for (let f = 0; f < 10 * 50; f++) {
      const expected = frame(f, 160);
      for (let i = 0; i < 160; i++) if (samples[f * 160 + i] !== expected[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('stops once a minute of audio waits for a disk that takes nothing (a hung mount), and keeps what it took', async () => {
    // The disk hangs: a write neither completes nor fails until it comes back. Each recording had
    // held all its audio meanwhile, until the process ran out of memory.
    const path = join(dir, 'hung.wav');
    const recorder = await Recorder.create({ target: at(path), sampleRateHz: 8000, maxSeconds: 3600 });
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const write = proto.write as (...args: unknown[]) => ReturnType<FileHandle['write']>;
    const held: Array<() => void> = [];
    proto.write = function (this: FileHandle, ...args: unknown[]) {
      return new Promise((resolve, reject) =>
        held.push(() => void write.apply(this, args).then(resolve, reject))
      );
    } as FileHandle['write'];
    let frames = 0;
    try {
      // A second of frames at a time, the event loop turning in between as the frame clock's does.
      while (frames < 3600 * 50 && recorder.pushFrame(frame(frames, 160)))
        if (++frames % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      proto.write = write as FileHandle['write'];
    }
    // The first chunk's write hangs; six chunks wait in all, and the seventh stops the recording.
    expect(held).toHaveLength(1);
    expect(frames).toBe(70 * 50 - 1);
    // The disk comes back: what it was given reaches it, and save says why the recording stopped.
    const saved = recorder.save().then(
      () => undefined,
      (error: unknown) => error
    );
    held[0]();
    expect(await saved).toMatchObject({ code: 'ERR_FILE_ACCESS', reason: 'CANNOT_WRITE' });
    const wav = new wavefile.WaveFile(readFileSync(path));
    expect((wav.getSamples(false, Int16Array) as unknown as Int16Array).length).toBe(60 * 8000);
  });

  it('refuses a file another recording is writing, without touching it, and takes it again once saved', async () => {
    const path = join(dir, 'same.wav');
    const first = await Recorder.create({ target: at(path), sampleRateHz: 8000, maxSeconds: 1 });
    for (let f = 0; f < 50; f++) first.pushFrame(frame(f, 160));
    await expect(Recorder.create({ target: at(path), sampleRateHz: 8000 })).rejects.toMatchObject({
      code: 'ERR_FILE_ACCESS',
      reason: 'CANNOT_OPEN'
    });
    await first.save();
    const wav = new wavefile.WaveFile(readFileSync(path));
    expect((wav.getSamples(false, Int16Array) as unknown as Int16Array).length).toBe(8000);
    const again = await Recorder.create({ target: at(path), sampleRateHz: 8000 });
    await again.save();
  });

  it('fails to open a path in a missing folder with the error, and nothing is left open', async () => {
    await expect(
      Recorder.create({ target: at(join(dir, 'no', 'such', 'x.wav')), sampleRateHz: 8000 })
    ).rejects.toThrow(/ENOENT/);
  });
});
