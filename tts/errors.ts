/**
 * Typed errors of the text-to-speech and prompt module. Callers branch on `code`, never on the
 * message text; messages say what was wrong and what was expected.
 */

/** Stable machine-readable codes of prompt errors. */
export type TtsErrorCode =
  /** The voice name is not one the chosen engine has. */
  | 'ERR_UNKNOWN_VOICE'
  /** The engine name is not registered. */
  | 'ERR_UNKNOWN_ENGINE'
  /** Text empty or too long, rate/pitch/sample rate out of range. */
  | 'ERR_INVALID_ARGUMENT'
  /** The synthesizer ran but produced no audio. */
  | 'ERR_SYNTHESIS_FAILED'
  | 'ERR_FILE_NOT_FOUND'
  /** The file exists but cannot be read (permissions, a directory, too large, or a WAV longer than an hour). */
  | 'ERR_FILE_UNREADABLE'
  /** The file is not a RIFF/WAVE file, or its header is corrupt. */
  | 'ERR_NOT_WAV'
  /** A WAV file whose encoding is not supported (e.g. ADPCM, 12-bit PCM). */
  | 'ERR_UNSUPPORTED_WAV'
  /** The path resolves (after `..` and symlinks) outside the configured prompt folder. */
  | 'ERR_OUTSIDE_PROMPT_FOLDER'
  /** No prompt folder is configured, so no file may be played. */
  | 'ERR_NO_PROMPT_FOLDER'
  /** The resampler was used before `loadResampler()` finished. */
  | 'ERR_RESAMPLER_NOT_LOADED'
  /** A synthesis worker died while it had requests in hand. */
  | 'ERR_WORKER_FAILED'
  /** A synthesis (or file decode) ran past the service's `synthesisTimeoutMs`; its worker was replaced. */
  | 'ERR_SYNTHESIS_TIMEOUT'
  /** The service was closed before the request completed. */
  | 'ERR_CLOSED'
  /** Every caller that asked for the prompt stopped waiting (hung up) before it was made. */
  | 'ERR_ABANDONED'
  /** As many requests as the service queues already wait for a worker. */
  | 'ERR_QUEUE_FULL';

/** Every code once: the compiler refuses this table if one is missing or unknown. */
const TTS_ERROR_CODES: Record<TtsErrorCode, true> = {
  ERR_UNKNOWN_VOICE: true,
  ERR_UNKNOWN_ENGINE: true,
  ERR_INVALID_ARGUMENT: true,
  ERR_SYNTHESIS_FAILED: true,
  ERR_FILE_NOT_FOUND: true,
  ERR_FILE_UNREADABLE: true,
  ERR_NOT_WAV: true,
  ERR_UNSUPPORTED_WAV: true,
  ERR_OUTSIDE_PROMPT_FOLDER: true,
  ERR_NO_PROMPT_FOLDER: true,
  ERR_RESAMPLER_NOT_LOADED: true,
  ERR_WORKER_FAILED: true,
  ERR_SYNTHESIS_TIMEOUT: true,
  ERR_CLOSED: true,
  ERR_ABANDONED: true,
  ERR_QUEUE_FULL: true
};

/** Whether `code` (read from another node, say) is one of the TTS service's error codes. */
export function isTtsErrorCode(code: unknown): code is TtsErrorCode {
  return typeof code === 'string' && Object.hasOwn(TTS_ERROR_CODES, code);
}

export class TtsError extends Error {
  readonly code: TtsErrorCode;

  constructor(code: TtsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'TtsError';
  }
}

/** Plain form of a `TtsError` that crosses the worker boundary (structured clone drops the class). */
export interface SerializedTtsError {
  code: TtsErrorCode;
  message: string;
}

export function serializeError(error: unknown): SerializedTtsError {
  if (error instanceof TtsError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'ERR_SYNTHESIS_FAILED', message };
}

export function deserializeError(error: SerializedTtsError): TtsError {
  return new TtsError(error.code, error.message);
}
