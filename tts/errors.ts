/**
 * Typed errors of the text-to-speech and prompt module. Callers branch on `code`, never on the
 * message text; messages say what was wrong and what was expected.
 */

/** Stable machine-readable codes of prompt errors. */
export type TtsErrorCode =
  /** The voice name is not one the chosen engine has. */
  | 'UNKNOWN_VOICE'
  /** The engine name is not registered. */
  | 'UNKNOWN_ENGINE'
  /** Text empty or too long, rate/pitch/sample rate out of range. */
  | 'INVALID_ARGUMENT'
  /** The synthesizer ran but produced no audio. */
  | 'SYNTHESIS_FAILED'
  | 'FILE_NOT_FOUND'
  /** The file exists but cannot be read (permissions, a directory, too large). */
  | 'FILE_UNREADABLE'
  /** The file is not a RIFF/WAVE file, or its header is corrupt. */
  | 'NOT_WAV'
  /** A WAV file whose encoding is not supported (e.g. ADPCM, 64-bit float). */
  | 'UNSUPPORTED_WAV'
  /** The path resolves (after `..` and symlinks) outside the configured prompt folder. */
  | 'OUTSIDE_PROMPT_FOLDER'
  /** No prompt folder is configured, so no file may be played. */
  | 'NO_PROMPT_FOLDER'
  /** The resampler was used before `loadResampler()` finished. */
  | 'RESAMPLER_NOT_LOADED'
  /** A synthesis worker died while it had requests in hand. */
  | 'WORKER_FAILED'
  /** An announcement was dropped by `AnnouncementQueue.clear()` (hang-up, room destroyed). */
  | 'CLEARED'
  /** The announcement queue already holds its maximum number of announcements. */
  | 'QUEUE_FULL'
  /** The service or queue was closed (or the announcement cleared) before the request completed. */
  | 'CLOSED';

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
  return { code: 'SYNTHESIS_FAILED', message };
}

export function deserializeError(error: SerializedTtsError): TtsError {
  return new TtsError(error.code, error.message);
}
