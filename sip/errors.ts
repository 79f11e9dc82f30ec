/**
 * Typed errors of the SIP stack. Every error carries a stable `code` (`ERR_...`); SIP-level
 * failures carry the status and reason phrase of the response that caused them.
 */
import type { TerminationReason } from './session/invite-session.js';

export type SipErrorCode =
  /** A final non-2xx response (`status`, `reason` say which). */
  | 'ERR_SIP_REJECTED'
  /** No response (timer B, F) or no ACK (timer H) in time. */
  | 'ERR_SIP_TIMEOUT'
  /** The request could not be sent, or the transports could not be bound. */
  | 'ERR_SIP_TRANSPORT'
  /** Cancelled by us (CANCEL, an aborted signal) before it was answered. */
  | 'ERR_SIP_CANCELLED'
  /** The call ended (BYE, a transport error) before the operation completed. */
  | 'ERR_SIP_ENDED'
  /** Called in a state that does not allow it (no dialog yet, a re-INVITE already running). */
  | 'ERR_INVALID_STATE'
  /** The user agent was closed. */
  | 'ERR_CLOSED';

/** A failed SIP operation: a final non-2xx response, a transaction timeout, a closed stack. */
export class SipError extends Error {
  override name = 'SipError';
  constructor(
    readonly code: SipErrorCode,
    message: string,
    readonly status?: number,
    readonly reason?: string,
    /** `cause`: the error underneath, such as Node's `EADDRINUSE` of a bind. */
    options?: { cause?: unknown }
  ) {
    super(message, options);
  }

  /** The code of an operation cut short because its session ended for `reason`. */
  static codeOfTermination(reason: TerminationReason): SipErrorCode {
    switch (reason) {
      case 'local':
        return 'ERR_CLOSED';
      case 'timeout':
        return 'ERR_SIP_TIMEOUT';
      case 'rejected':
        return 'ERR_SIP_REJECTED';
      case 'cancel':
        return 'ERR_SIP_CANCELLED';
      default:
        return 'ERR_SIP_ENDED';
    }
  }
}

/**
 * A message that violates the RFC 3261 §25 grammar or a §8.2 rule. `status` is the response a
 * UAS owes the sender (400, 505, ...); responses that fail to parse are dropped instead.
 */
export class SipParseError extends Error {
  override name = 'SipParseError';
  readonly code = 'ERR_SIP_PARSE';
  constructor(
    message: string,
    readonly status = 400
  ) {
    super(message);
  }
}

/** A method called on an object in the wrong state (closed UA, call already answered ...). */
export class SipInvalidStateError extends SipError {
  override name = 'SipInvalidStateError';
  constructor(message: string) {
    super('ERR_INVALID_STATE', message);
  }
}
