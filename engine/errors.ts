/**
 * Typed errors of the public API. Every error the engine raises on purpose is an
 * `EngineError` with a stable `code`, so callers branch on `code` (or `instanceof`),
 * never on message text. Messages say what was wrong and what was expected.
 * Plain argument-type mistakes from JavaScript callers raise the built-in
 * `TypeError` / `RangeError`, as Node's own APIs do.
 */

/** Stable machine-readable codes of the engine's errors. */
export type EngineErrorCode =
  | 'ERR_INVALID_STATE'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_HANGUP'
  | 'ERR_CLOSED'
  | 'ERR_FILE_ACCESS'
  | 'ERR_DSP_UNAVAILABLE'
  | 'ERR_PORT_POOL_EXHAUSTED'
  /** A prompt or announcement was stopped (stopPlaying, an abort signal, a hang-up) before it finished. */
  | 'ERR_PROMPT_STOPPED'
  /** A room already has as many announcements waiting as it holds. */
  | 'ERR_QUEUE_FULL'
  /** A part of a party's entry or exit announcement could not be made (a file refused or missing, TTS failed). */
  | 'ERR_ANNOUNCEMENT_FAILED'
  /** A browser's peer connection could not be set up (@roamhq/wrtc failed to answer). */
  | 'ERR_WEBRTC_FAILED'
  /** The process holds as many browser peer connections, or answers waiting for one, as it takes. */
  | 'ERR_WEBRTC_BUSY'
  /** The join page was asked for but its build (npm run build:page) is missing. */
  | 'ERR_JOIN_PAGE_UNAVAILABLE'
  /** A moderator's action on a party of another node could not be passed on, or that node did not answer. */
  | 'ERR_CLUSTER_UNAVAILABLE'
  /** A port the engine was told to serve on besides SIP's (`metricsPort`) could not be opened. */
  | 'ERR_LISTEN_FAILED';

/** Every code once: the compiler refuses this table if one is missing or unknown. */
const ENGINE_ERROR_CODES: Record<EngineErrorCode, true> = {
  ERR_INVALID_STATE: true,
  ERR_INVALID_ARGUMENT: true,
  ERR_HANGUP: true,
  ERR_CLOSED: true,
  ERR_FILE_ACCESS: true,
  ERR_DSP_UNAVAILABLE: true,
  ERR_PORT_POOL_EXHAUSTED: true,
  ERR_PROMPT_STOPPED: true,
  ERR_QUEUE_FULL: true,
  ERR_ANNOUNCEMENT_FAILED: true,
  ERR_WEBRTC_FAILED: true,
  ERR_WEBRTC_BUSY: true,
  ERR_JOIN_PAGE_UNAVAILABLE: true,
  ERR_CLUSTER_UNAVAILABLE: true,
  ERR_LISTEN_FAILED: true
};

/** Whether `code` (read from another node, say) is one of the engine's error codes. */
export function isEngineErrorCode(code: unknown): code is EngineErrorCode {
  return typeof code === 'string' && Object.hasOwn(ENGINE_ERROR_CODES, code);
}

/** Base class of every error the engine throws on purpose. */
export class EngineError extends Error {
  readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * An operation was called on an object whose current state does not allow it,
 * e.g. `playFile` on a channel that is `TRANSFERRED`, or `join` on a destroyed room.
 */
export class InvalidStateError extends EngineError {
  /** The state the object was in, when there is one worth reporting. */
  readonly state: string | undefined;
  /** The state(s) the operation needs. */
  readonly expected: readonly string[];

  constructor(message: string, details: { state?: string; expected?: readonly string[] } = {}) {
    super('ERR_INVALID_STATE', message);
    this.state = details.state;
    this.expected = details.expected ?? [];
  }

  /** "channel is TRANSFERRED, expected ANSWERED" in one place so the wording stays uniform. */
  static forState(
    subject: string,
    state: string,
    expected: readonly string[],
    operation?: string
  ): InvalidStateError {
    const what = operation === undefined ? '' : `cannot ${operation}: `;
    const wanted = expected.length === 1 ? expected[0] : `one of ${expected.join(', ')}`;
    return new InvalidStateError(`${what}${subject} is ${state}, expected ${wanted}`, { state, expected });
  }
}

/** An argument has the right type but a value the API does not accept ("room name 'a b' must be alphanumeric"). */
export class InvalidArgumentError extends EngineError {
  /** Name of the offending argument or option. */
  readonly argument: string;

  constructor(argument: string, message: string) {
    super('ERR_INVALID_ARGUMENT', message);
    this.argument = argument;
  }
}

/** The call has hung up (the channel is `IDLE`), so the operation cannot be done on it. */
export class HangupError extends EngineError {
  constructor(message = 'the call has hung up') {
    super('ERR_HANGUP', message);
  }
}

/** The object was closed; pending operations on it reject with this. */
export class ClosedError extends EngineError {
  constructor(subject: string) {
    super('ERR_CLOSED', `${subject} was closed`);
  }
}

/**
 * `playFile`, `fileToPlay` or `record` named a file the application did not open to calls: no
 * folder configured for it (`reason: 'NOT_CONFIGURED'`), or a path that leaves the configured
 * folders through `..`, an absolute path or a symlink (`'OUTSIDE_FOLDER'`), a record target the
 * file system refused (`'CANNOT_OPEN'`: a name too long, a folder gone; `cause` says why), or a
 * recording whose writes it refused (`'CANNOT_WRITE'`: a full disk; what was written is kept).
 * Nothing outside the folders is read or written.
 */
export class FileAccessError extends EngineError {
  readonly reason: 'NOT_CONFIGURED' | 'OUTSIDE_FOLDER' | 'CANNOT_OPEN' | 'CANNOT_WRITE';
  readonly path: string;

  constructor(
    reason: 'NOT_CONFIGURED' | 'OUTSIDE_FOLDER' | 'CANNOT_OPEN' | 'CANNOT_WRITE',
    path: string,
    message: string,
    options?: { cause?: unknown }
  ) {
    super('ERR_FILE_ACCESS', message, options);
    this.reason = reason;
    this.path = path;
  }
}

/**
 * A part of a party's entry or exit announcement (`prefixMedia`, `onEntryMedia`, `onExitMedia`)
 * could not be made: the parts that could are played without it; or the whole announcement could
 * not be queued (`cause` an `EngineError` `ERR_QUEUE_FULL`: the room already had as many waiting
 * as it holds). Reported on the engine's `'error'` event, since no caller waits for an
 * announcement; `cause` says what failed (a `FileAccessError`, a `TtsError`).
 */
export class AnnouncementError extends EngineError {
  readonly roomName: string;
  /** The channel whose party was announced (undefined for a party that has no channel here). */
  readonly channelId: string | undefined;
  readonly kind: 'entry' | 'exit';

  constructor(
    details: { roomName: string; channelId: string | undefined; kind: 'entry' | 'exit' },
    cause: unknown
  ) {
    const who = details.channelId === undefined ? 'a party' : `channel ${details.channelId}`;
    const unqueued = cause instanceof EngineError && cause.code === 'ERR_QUEUE_FULL';
    super(
      'ERR_ANNOUNCEMENT_FAILED',
      `${details.kind} announcement of ${who} in room '${details.roomName}' ${
        unqueued ? 'was not played' : 'played without a part'
      }: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause }
    );
    this.roomName = details.roomName;
    this.channelId = details.channelId;
    this.kind = details.kind;
  }
}
