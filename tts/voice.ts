/**
 * The contract every speech engine implements, so the worker can drive Flite, eSpeak NG, or a
 * later engine (a Piper/VITS voice via onnxruntime, say) the same way: one `TtsEngine` per worker,
 * created once (it compiles its WebAssembly module once), asked for many syntheses.
 */

import type { SpeechOptions } from './speech-options.js';

export type TtsEngineName = 'flite' | 'espeak';

/** What the caller may choose per prompt: the speech options and the engine that speaks. */
export interface SpeakOptions extends SpeechOptions {
  /** Which engine speaks; the service's default engine when omitted. */
  engine?: TtsEngineName;
}

/** A fully resolved synthesis request as an engine receives it. */
export interface SynthesisRequest {
  text: string;
  voice: string;
  /** Undefined: the voice's natural rate. */
  rateWpm: number | undefined;
  pitchSemitones: number;
  /** The rate the caller will resample to; an engine may pick a native voice that matches it. */
  targetSampleRateHz: number;
}

/** Mono 16-bit PCM at the engine's native rate. */
export interface SynthesizedAudio {
  pcm: Int16Array;
  sampleRateHz: number;
}

export interface TtsEngine {
  readonly name: string;
  /**
   * Loads what every synthesis needs (the compiled module, the voice list), once. A worker awaits
   * it before a request's deadline starts, so the deadline measures synthesis, not start-up.
   */
  prepare(): Promise<void>;
  /** Voice used when the request names none, chosen for the target rate. */
  defaultVoice(targetSampleRateHz: number): string;
  /** Throws `TtsError('ERR_UNKNOWN_VOICE')` for a voice the engine does not have. */
  synthesize(request: SynthesisRequest): Promise<SynthesizedAudio>;
  close(): void;
}
