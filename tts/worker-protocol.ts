/** Messages between `PromptService` (via `WorkerPool`) and a synthesis worker. */
import type { SerializedTtsError } from './errors.js';
import type { TtsEngineName } from './voice.js';

export interface WorkerData {
  /** Engines to load as soon as the worker starts, so the first prompt does not pay for compiling. */
  preload: TtsEngineName[];
  /** Scheduling niceness for the worker thread (0 normal, 19 lowest). */
  niceness: number;
}

export type WorkerRequest =
  | {
      id: number;
      kind: 'speak';
      engine: TtsEngineName;
      text: string;
      voice: string | undefined;
      rateWpm: number | undefined;
      pitchSemitones: number;
      sampleRateHz: number;
    }
  /** WAV bytes already read (and path-checked) by the main thread. */
  | { id: number; kind: 'decodeWav'; bytes: Uint8Array; label: string; sampleRateHz: number };

/** The outcome of a request; `synthesisMs` counts its own work, from `started`. */
export type WorkerDone =
  | { id: number; kind: 'done'; ok: true; pcm: Int16Array; sourceSampleRateHz: number; synthesisMs: number }
  | { id: number; kind: 'done'; ok: false; error: SerializedTtsError };

/**
 * Per request, `started` once the worker has what it needs loaded (engine, resampler) and begins
 * the request's own work: the pool's deadline runs from there. For a WAV file it carries how long
 * the file plays (read from its header), which lengthens the deadline. Then its `done`.
 */
export type WorkerReply = { id: number; kind: 'started'; audioSeconds?: number } | WorkerDone;
