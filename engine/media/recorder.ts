/**
 * Records what a channel's caller says (its decoded, concealed input at the channel's rate) into
 * a mono 16-bit WAV file. Frames are copied into 10 s chunks, so the per-frame path only copies
 * samples; each full chunk is appended to the file in the background, with a header counting it,
 * and `save` writes the rest and the sizes. Nothing the length of the recording is built or
 * written in one go on the engine's thread: a 10-minute recording saved at once held every call's
 * audio for a second.
 *
 * A write the file system refuses (a full disk) ends the recording: `pushFrame` says so, so its
 * owner stops it at the next frame, and `save` writes the header for what reached the disk and
 * rejects with `FileAccessError` (`CANNOT_WRITE`). Before, the recording ran on for its whole
 * length (a room's, up to 24 hours) writing nothing, and the file's header claimed no data at all.
 * So does a disk that stops taking writes without refusing them (a hung network mount): past
 * MAX_CHUNKS_WAITING chunks waiting for it, the recording stops there.
 */
import { endianness } from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import { openNoFollow, type RecordTarget } from './file-folders.js';
import { FileAccessError } from '../errors.js';
import { ABORT_SIGNAL, ANY, checkOptionKeys, shown, type OptionKeys } from '../util/option-keys.js';

const CHUNK_SECONDS = 10;
/**
 * Full chunks a recording may hold that the disk has not taken yet (a minute of audio). A disk
 * that hangs (a network mount gone) took none, and every recording held all its audio until the
 * process ran out of memory: the engine and every call with it.
 */
const MAX_CHUNKS_WAITING = 6;
/** RIFF/WAVE header of canonical PCM: "RIFF", size, "WAVE", a 16-byte "fmt " chunk, "data", size. */
const HEADER_BYTES = 44;
/** The longest recording: its data size must fit the header's 32 bits at 16 kHz with room to spare. */
export const MAX_RECORD_SECONDS = 24 * 3600;

/** The files recordings of this process are writing, by real path: one recording per file. */
const BEING_RECORDED = new Set<string>();

/** `record`'s options, a channel's and a room's alike. */
export interface RecordOptions {
  /** Stop by itself after this many seconds (a channel's default 60, a room's MAX_RECORD_SECONDS). */
  maxSeconds?: number;
  signal?: AbortSignal;
}

const RECORD_OPTION_KEYS = { maxSeconds: ANY, signal: ABORT_SIGNAL } satisfies OptionKeys<RecordOptions>;

/** `record(path, options)`'s arguments checked, with `maxSeconds` defaulted: TypeError, RangeError or InvalidArgumentError (an unknown key). */
export function checkRecordArguments(
  path: unknown,
  options: RecordOptions,
  defaultMaxSeconds: number
): { maxSeconds: number; signal: AbortSignal | undefined } {
  if (typeof path !== 'string' || path.length === 0)
    throw new TypeError('record: path must be a non-empty string');
  checkOptionKeys(options, RECORD_OPTION_KEYS, 'record');
  const { maxSeconds = defaultMaxSeconds, signal } = options;
  if (typeof maxSeconds !== 'number')
    throw new TypeError(`record: maxSeconds must be a number, got ${shown(maxSeconds)}`);
  if (!(maxSeconds > 0 && maxSeconds <= MAX_RECORD_SECONDS))
    throw new RangeError(
      `record: maxSeconds must be > 0 and at most ${MAX_RECORD_SECONDS}, got ${maxSeconds}`
    );
  return { maxSeconds, signal };
}

export interface RecorderOptions {
  /** Where to write, inside which folder (RecordFolder.resolve). */
  target: RecordTarget;
  sampleRateHz: number;
  /** Stop by itself after this many seconds. */
  maxSeconds?: number;
}

function wavHeader(sampleRateHz: number, dataBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16); // fmt chunk size
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(sampleRateHz, 24);
  h.writeUInt32LE(sampleRateHz * 2, 28); // bytes per second
  h.writeUInt16LE(2, 32); // block align
  h.writeUInt16LE(16, 34); // bits per sample
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** The first `samples` of `pcm` as little-endian bytes (WAV's order), copied only on a big-endian host. */
function littleEndian(pcm: Int16Array, samples: number): Buffer {
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, samples * 2);
  return endianness() === 'LE' ? bytes : Buffer.from(bytes).swap16();
}

export class Recorder {
  readonly path: string;
  readonly sampleRateHz: number;
  private readonly maxSamples: number;
  private chunk: Int16Array | undefined;
  private fill = 0;
  private total = 0;
  private file: FileHandle | undefined;
  /** Appends of full chunks, one after another; the first failure is kept for `save`. */
  private writes: Promise<void> = Promise.resolve();
  private failure: unknown;
  private written = HEADER_BYTES;
  /** Full chunks handed to `writes` and not yet on disk. */
  private chunksWaiting = 0;
  /** Why the recording stopped taking frames while the disk had not taken what it had. */
  private backlogged: FileAccessError | undefined;
  /** Bytes on disk, the header's included: the end of the last chunk written whole, or in part by a failed write. */
  private durable = HEADER_BYTES;

  private constructor(options: RecorderOptions) {
    this.path = options.target.path;
    this.sampleRateHz = options.sampleRateHz;
    this.maxSamples =
      options.maxSeconds === undefined
        ? Math.round(MAX_RECORD_SECONDS * options.sampleRateHz)
        : Math.round(Math.min(options.maxSeconds, MAX_RECORD_SECONDS) * options.sampleRateHz);
  }

  /** Opens (creates or truncates, never through a symbolic link) the file and writes a header. */
  static async create(options: RecorderOptions): Promise<Recorder> {
    const path = options.target.path;
    // Two calls recording to one name (a caller's number, say) both resolved, and the file held
    // whichever was saved last: the other call's audio was lost, or heard under the first's name.
    if (BEING_RECORDED.has(path))
      throw new FileAccessError(
        'CANNOT_OPEN',
        path,
        `cannot record to '${path}': another recording is writing it`
      );
    BEING_RECORDED.add(path);
    const recorder = new Recorder(options);
    try {
      const file = await openNoFollow(options.target);
      try {
        await file.write(wavHeader(options.sampleRateHz, 0), 0, HEADER_BYTES, 0);
      } catch (error) {
        await file.close();
        throw error;
      }
      recorder.file = file;
    } catch (error) {
      BEING_RECORDED.delete(path);
      throw error;
    }
    return recorder;
  }

  get full(): boolean {
    return this.total >= this.maxSamples;
  }

  /** Appends one frame; returns false once the maximum length is reached, or a write has failed. */
  pushFrame(pcm: Int16Array): boolean {
    if (this.failure !== undefined || this.backlogged !== undefined) return false;
    let offset = 0;
    while (offset < pcm.length && this.total < this.maxSamples) {
      let chunk = this.chunk;
      if (!chunk) chunk = this.chunk = new Int16Array(this.sampleRateHz * CHUNK_SECONDS);
      const n = Math.min(pcm.length - offset, chunk.length - this.fill, this.maxSamples - this.total);
      chunk.set(pcm.subarray(offset, offset + n), this.fill);
      this.fill += n;
      this.total += n;
      offset += n;
      if (this.fill === chunk.length) this.flushChunk();
    }
    return !this.full && this.failure === undefined && this.backlogged === undefined;
  }

  /** Hands the chunk being filled to the file, in the background; the next frame starts a new one. */
  private flushChunk(): void {
    const chunk = this.chunk;
    const samples = this.fill;
    this.chunk = undefined;
    this.fill = 0;
    if (!chunk || samples === 0) return;
    if (this.chunksWaiting === MAX_CHUNKS_WAITING) {
      // The chunks already given still go to the disk if it comes back; this one and later do not.
      this.backlogged ??= new FileAccessError(
        'CANNOT_WRITE',
        this.path,
        `recording to '${this.path}' stopped: the disk has not taken its last ${MAX_CHUNKS_WAITING * CHUNK_SECONDS} s of audio`
      );
      return;
    }
    this.chunksWaiting++;
    const at = this.written;
    this.written += samples * 2;
    this.writes = this.writes.then(async () => {
      const file = this.file;
      const bytes = littleEndian(chunk, samples);
      try {
        if (this.failure !== undefined || !file) return;
        // A write may take less than it was given (a disk filling up): the rest is written again.
        for (let done = 0; done < bytes.length;) {
          const { bytesWritten } = await file.write(bytes, done, bytes.length - done, at + done);
          if (bytesWritten === 0) {
            this.failure = new FileAccessError(
              'CANNOT_WRITE',
              this.path,
              `recording to '${this.path}' wrote no byte`
            );
            return;
          }
          done += bytesWritten;
          this.durable = at + done - (done % 2);
        }
        // The header follows the chunks on disk: a process that dies before `save` (SIGKILL, a
        // crash, an embedding application that exits on SIGTERM) leaves a file that plays to its
        // last whole chunk. Its header said no audio at all, and players read none.
        await file.write(wavHeader(this.sampleRateHz, this.durable - HEADER_BYTES), 0, HEADER_BYTES, 0);
      } catch (error) {
        this.failure = error;
      } finally {
        this.chunksWaiting--;
      }
    });
  }

  /**
   * Writes what is left and the sizes, and closes the file. After a failed write the header
   * counts what reached the disk, so that much plays, and it rejects with `FileAccessError`.
   */
  async save(): Promise<void> {
    this.flushChunk();
    await this.writes;
    const file = this.file;
    this.file = undefined;
    if (!file) return;
    BEING_RECORDED.delete(this.path);
    let failure: unknown = this.failure ?? this.backlogged;
    const dataBytes = failure === undefined ? this.total * 2 : this.durable - HEADER_BYTES;
    try {
      await file.write(wavHeader(this.sampleRateHz, dataBytes), 0, HEADER_BYTES, 0);
    } catch (error) {
      failure ??= error;
    } finally {
      await file.close();
    }
    if (failure === undefined) return;
    if (failure instanceof FileAccessError) throw failure;
    const code = (failure as NodeJS.ErrnoException).code ?? String(failure);
    throw new FileAccessError(
      'CANNOT_WRITE',
      this.path,
      `recording to '${this.path}' stopped after ${dataBytes / 2 / this.sampleRateHz} s: ${code}`,
      { cause: failure }
    );
  }
}
