/**
 * Size limits on incoming SIP messages, and the answer each one earns. RFC 3261 sets no sizes;
 * these defaults are far above any message real phones, trunks or SIPp send (a few kB) and far
 * below what would let one peer hold the event loop.
 *
 * What exceeding a limit costs the sender:
 * - a whole message over `maxMessageBytes`: over UDP the datagram is dropped unread; over a
 *   stream it is a framing error and the connection is closed (after a 513 when the head could
 *   be read);
 * - a Request-Line over `maxLineBytes`: 414 Request-URI Too Long (§21.4.12: "the Request-URI is
 *   longer than the server is willing to interpret");
 * - a header section over `maxHeaderBytes`, a header line over `maxLineBytes`, or more than
 *   `maxHeaderCount` header fields: 513 Message Too Large (§21.5.7: "the message length exceeded
 *   its capabilities"); the request is not acted upon;
 * - a body over `maxBodyBytes`: 413 Request Entity Too Large (§21.4.11: "the request
 *   entity-body is larger than the server is willing or able to process").
 * A response that breaks a limit is dropped (§18.1.2: a response that cannot be parsed is
 * discarded).
 */

export interface SipMessageLimits {
  /** Largest message (head and body) accepted on any transport. Default 65535 bytes. */
  maxMessageBytes: number;
  /** Largest header section, start line included. Default 16384 bytes. */
  maxHeaderBytes: number;
  /** Longest single line (after unfolding) of the head, start line included. Default 8192 bytes. */
  maxLineBytes: number;
  /** Most header fields (lines, not list elements) in one message. Default 256. */
  maxHeaderCount: number;
  /** Largest body. Default 32768 bytes. */
  maxBodyBytes: number;
}

export const DEFAULT_MESSAGE_LIMITS: Readonly<SipMessageLimits> = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaderBytes: 16384,
  maxLineBytes: 8192,
  maxHeaderCount: 256,
  maxBodyBytes: 32768
});

/** §21.5.7 */
export const STATUS_MESSAGE_TOO_LARGE = 513;
/** §21.4.11 */
export const STATUS_ENTITY_TOO_LARGE = 413;
/** §21.4.12 */
export const STATUS_URI_TOO_LONG = 414;

/** The defaults overridden by `overrides`, each checked to be a positive integer. */
export function resolveMessageLimits(overrides: Partial<SipMessageLimits> = {}): SipMessageLimits {
  const limits = { ...DEFAULT_MESSAGE_LIMITS };
  for (const key of Object.keys(DEFAULT_MESSAGE_LIMITS) as Array<keyof SipMessageLimits>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`limits.${key} must be a positive integer, got ${String(value)}`);
    limits[key] = value;
  }
  return limits;
}
