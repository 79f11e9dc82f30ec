/**
 * Typed errors of the SIP stack. Every error carries a stable `code`; SIP-level failures carry
 * the status and reason phrase of the response that caused them.
 */

export type SipErrorCode =
  | 'parse'
  | 'rejected'
  | 'timeout'
  | 'transport'
  | 'cancelled'
  | 'invalid-state'
  | 'closed';

/** A failed SIP operation: a final non-2xx response, a transaction timeout, a closed stack. */
export class SipError extends Error {
  override name = 'SipError';
  constructor(
    readonly code: SipErrorCode | string,
    message: string,
    readonly status?: number,
    readonly reason?: string
  ) {
    super(message);
  }
}

/**
 * A message that violates the RFC 3261 §25 grammar or a §8.2 rule. `status` is the response a
 * UAS owes the sender (400, 505, ...); responses that fail to parse are dropped instead.
 */
export class SipParseError extends Error {
  override name = 'SipParseError';
  readonly code = 'parse';
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
    super('invalid-state', message);
  }
}
