/**
 * The contract every speech engine implements, so the worker can drive Flite, eSpeak NG, or a
 * later engine (a Piper/VITS voice via onnxruntime, say) the same way: one `TtsEngine` per worker,
 * created once (it compiles its WebAssembly module once), asked for many syntheses.
 */

export type TtsEngineName = 'flite' | 'espeak';

/** What the caller may choose per prompt. */
export interface SpeakOptions {
  /** Engine-specific voice name (Flite: kal, kal16, awb, rms, slt; eSpeak NG: en-us, en-gb, ...). */
  voice?: string;
  /** Speaking rate in words per minute (80 to 450); the voice's natural rate when omitted. */
  rateWpm?: number;
  /** Pitch shift in semitones relative to the voice's natural pitch (-12 to +12, default 0). Exact for Flite (f0_shift); eSpeak NG maps it onto its 0-99 pitch scale, so there it is approximate. */
  pitch?: number;
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
  /** Voice used when the request names none, chosen for the target rate. */
  defaultVoice(targetSampleRateHz: number): string;
  /** Throws `TtsError('UNKNOWN_VOICE')` for a voice the engine does not have. */
  synthesize(request: SynthesisRequest): Promise<SynthesizedAudio>;
  close(): void;
}

export const RATE_WPM_MIN = 80;
export const RATE_WPM_MAX = 450;
export const PITCH_SEMITONES_MAX = 12;
export const TEXT_CHARS_MAX = 4000;
