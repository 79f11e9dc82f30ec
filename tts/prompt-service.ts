/**
 * The prompt service the engine asks for audio: text to speech and WAV files, both delivered as
 * mono 16-bit PCM at the room's rate. Synthesis, decoding and resampling run in worker threads,
 * never on the frame clock's turn; results are cached by everything that shaped them.
 */
import type { FileHandle } from 'node:fs/promises';
import { ENGINE_NAMES, isEngineName } from './engine-names.js';
import { TtsError } from './errors.js';
import { PromptCache } from './prompt-cache.js';
import { PromptFolder } from './prompt-folder.js';
import { checkSpeech, PITCH_SEMITONES } from './speech-options.js';
import type { SpeakOptions, TtsEngineName } from './voice.js';
import { WorkerPool } from './worker-pool.js';

export interface PromptServiceOptions {
  /** Folder(s) that `fileToPcm` paths are relative to and must stay inside; none: no file is read. */
  promptFolder?: string | readonly string[];
  /** Bound of the prompt cache in bytes of PCM (default 32 MiB). */
  cacheBytes?: number;
  /** Engine used when `SpeakOptions.engine` is omitted (default 'flite'). */
  defaultEngine?: TtsEngineName;
  /**
   * Synthesis worker threads (default 1). WAV files are decoded in one more worker of their own,
   * started by the first file, so an hour of hold music being resampled never holds up speech.
   */
  workers?: number;
  /**
   * Longest one synthesis (or file decode) may run in its worker, from when the worker starts it
   * (not while it waits behind other prompts, nor a new worker's start-up): past it the request
   * fails with `TtsError('ERR_SYNTHESIS_TIMEOUT')` and the worker is replaced. Default 10 000 ms:
   * Flite speaks the longest text allowed (`TEXT_CHARS_MAX` characters of words) in about 5 s on
   * a loaded host, while 4000 digits in a row took 14 to 22 s and held the worker all along.
   * A WAV file gets 100 ms more per second it plays (an hour: 370 s in all), since its length, not
   * a runaway, sets its work.
   */
  synthesisTimeoutMs?: number;
}

export interface PromptServiceStats {
  cacheHits: number;
  cacheMisses: number;
  cacheBytes: number;
  /** Speech syntheses and file decodes actually run in a worker. */
  syntheses: number;
  /** Synthesis and file-decoding worker threads alive now. */
  workers: number;
}

const DEFAULT_SYNTHESIS_TIMEOUT_MS = 10_000;
const SAMPLE_RATE_MIN_HZ = 8000;
const SAMPLE_RATE_MAX_HZ = 48000;

/**
 * The first `sizeBytes` of a file (the size checked against PROMPT_FILE_MAX_BYTES; a file that has
 * grown since is read no further), into a buffer of its own that goes to the worker as it is.
 * `new Uint8Array(await handle.readFile())` copied it on the engine's thread: an hour of 8 kHz
 * audio (57.6 MB) held the frame clock up for 65 to 100 ms.
 */
async function readBytes(handle: FileHandle, sizeBytes: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(sizeBytes);
  let at = 0;
  while (at < sizeBytes) {
    const { bytesRead } = await handle.read(bytes, at, sizeBytes - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === sizeBytes ? bytes : bytes.subarray(0, at);
}

/** A request refused before any worker had it (abandoned while queued, or the queue full): nothing was made. */
function neverHandedOver(error: unknown): boolean {
  return error instanceof TtsError && (error.code === 'ERR_ABANDONED' || error.code === 'ERR_QUEUE_FULL');
}

function checkSampleRate(sampleRateHz: number): void {
  if (
    !Number.isInteger(sampleRateHz) ||
    sampleRateHz < SAMPLE_RATE_MIN_HZ ||
    sampleRateHz > SAMPLE_RATE_MAX_HZ
  ) {
    throw new TtsError(
      'ERR_INVALID_ARGUMENT',
      `sampleRateHz must be an integer from ${SAMPLE_RATE_MIN_HZ} to ${SAMPLE_RATE_MAX_HZ}, got ${sampleRateHz}`
    );
  }
}

export class PromptService {
  private readonly cache: PromptCache;
  private readonly folder: PromptFolder;
  private readonly pool: WorkerPool;
  /** The file-decoding worker, from the first `fileToPcm`. */
  private filePool: WorkerPool | undefined;
  private readonly synthesisTimeoutMs: number;
  private readonly defaultEngine: TtsEngineName;
  private syntheses = 0;
  private closed = false;

  constructor(opts: PromptServiceOptions = {}) {
    this.defaultEngine = opts.defaultEngine ?? 'flite';
    if (!isEngineName(this.defaultEngine)) {
      throw new TtsError(
        'ERR_UNKNOWN_ENGINE',
        `no speech engine '${String(this.defaultEngine)}'; expected one of ${ENGINE_NAMES.join(', ')}`
      );
    }
    this.cache = new PromptCache(opts.cacheBytes ?? 32 * 1024 * 1024);
    this.folder = new PromptFolder(opts.promptFolder);
    this.synthesisTimeoutMs = opts.synthesisTimeoutMs ?? DEFAULT_SYNTHESIS_TIMEOUT_MS;
    this.pool = new WorkerPool(opts.workers ?? 1, [this.defaultEngine], this.synthesisTimeoutMs);
  }

  /** Requests waiting for a worker or in one's hands (a hang-up's abandoned ones leave the queue). */
  get pendingCount(): number {
    return this.pool.pendingCount + (this.filePool?.pendingCount ?? 0);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Speech for `text` at `sampleRateHz`. Cached; the returned array is shared: do not modify it.
   * `signal` aborting stops the wait (`ERR_ABANDONED`), and the synthesis too if it has not started
   * and nobody else waits for the same prompt.
   */
  async textToPcm(
    text: string,
    sampleRateHz: number,
    opts: SpeakOptions = {},
    signal?: AbortSignal
  ): Promise<Int16Array> {
    this.checkOpen();
    checkSampleRate(sampleRateHz);
    const engine = opts.engine ?? this.defaultEngine;
    if (!isEngineName(engine))
      throw new TtsError(
        'ERR_UNKNOWN_ENGINE',
        `no speech engine '${String(engine)}'; expected one of ${ENGINE_NAMES.join(', ')}`
      );
    const { voice, rateWpm, pitch = PITCH_SEMITONES.normal } = checkSpeech('textToPcm', text, opts);
    const spoken = text.trim();
    const key = JSON.stringify(['tts', engine, voice ?? null, rateWpm ?? null, pitch, sampleRateHz, spoken]);
    return this.cache.get(
      key,
      async (abandoned) => {
        this.syntheses++;
        try {
          const speak = { engine, text: spoken, voice, rateWpm, pitchSemitones: pitch, sampleRateHz };
          return (await this.pool.run({ kind: 'speak', ...speak }, [], abandoned)).pcm;
        } catch (error) {
          if (neverHandedOver(error)) this.syntheses--;
          throw error;
        }
      },
      signal
    );
  }

  /**
   * A WAV prompt file converted to mono PCM at `sampleRateHz`. Cached until the file changes.
   * `signal` aborting stops the wait (`ERR_ABANDONED`), and the decoding too if it has not started
   * and nobody else waits for the same file.
   */
  async fileToPcm(path: string, sampleRateHz: number, signal?: AbortSignal): Promise<Int16Array> {
    this.checkOpen();
    checkSampleRate(sampleRateHz);
    const file = await this.folder.open(path);
    const key = JSON.stringify([
      'file',
      file.realPath,
      file.dev,
      file.ino,
      file.sizeBytes,
      file.mtimeMs,
      sampleRateHz
    ]);
    try {
      return await this.cache.get(
        key,
        (abandoned) => this.decodeFile(file.handle, file.sizeBytes, path, sampleRateHz, abandoned),
        signal
      );
    } finally {
      await file.handle.close();
    }
  }

  private async decodeFile(
    handle: FileHandle,
    sizeBytes: number,
    path: string,
    sampleRateHz: number,
    abandoned: AbortSignal
  ): Promise<Int16Array> {
    let bytes: Uint8Array;
    try {
      bytes = await readBytes(handle, sizeBytes);
    } catch (error) {
      throw new TtsError('ERR_FILE_UNREADABLE', `prompt file '${path}' cannot be read`, { cause: error });
    }
    this.checkOpen();
    this.filePool ??= new WorkerPool(1, [], this.synthesisTimeoutMs);
    // Counted as it is handed over (a test watches for that), uncounted if it never reaches a
    // worker. Abandoned while it waits (its caller hung up), it leaves the queue: ten abandoned
    // hour-long files had held the next caller's prompt up by 1.2 to 2.3 s.
    this.syntheses++;
    try {
      const result = await this.filePool.run(
        { kind: 'decodeWav', bytes, label: `prompt file '${path}'`, sampleRateHz },
        [bytes.buffer as ArrayBuffer],
        abandoned
      );
      return result.pcm;
    } catch (error) {
      if (neverHandedOver(error)) this.syntheses--;
      throw error;
    }
  }

  stats(): PromptServiceStats {
    const { cacheHits, cacheMisses, cacheBytes } = this.cache.stats();
    const workers = this.pool.workerCount + (this.filePool?.workerCount ?? 0);
    return { cacheHits, cacheMisses, cacheBytes, syntheses: this.syntheses, workers };
  }

  /** Terminates the workers; requests still pending reject with `TtsError('ERR_CLOSED')`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.close(), this.filePool?.close()]);
    this.cache.clear();
  }

  private checkOpen(): void {
    if (this.closed) throw new TtsError('ERR_CLOSED', 'the prompt service is closed');
  }
}
