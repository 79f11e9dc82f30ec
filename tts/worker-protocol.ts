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

export type WorkerReply =
  | { id: number; ok: true; pcm: Int16Array; sourceSampleRateHz: number; synthesisMs: number }
  | { id: number; ok: false; error: SerializedTtsError };
