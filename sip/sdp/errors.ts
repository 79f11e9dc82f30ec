/**
 * Typed errors of the SDP layer. Each carries the SIP status the signalling layer should
 * answer with, so `sip/` can turn a failure into a response without string matching.
 */

/** Malformed session description (RFC 4566 syntax). Answer 400 (RFC 3261 §21.4.1). */
export class SdpParseError extends Error {
  readonly code = 'ERR_SDP_PARSE' as const;
  readonly status = 400 as const;
  /** 1-based line number of the offending line, when one is to blame. */
  readonly line: number | undefined;

  constructor(message: string, line?: number) {
    super(line === undefined ? message : `SDP line ${line}: ${message}`);
    this.name = 'SdpParseError';
    this.line = line;
  }
}

/**
 * RFC 3261 §20.43 warn-codes for what in a session description we cannot take, sent with the 488
 * in a Warning header field so the peer's logs say why.
 */
export const SDP_WARNINGS = {
  incompatibleAddressFormat: { code: 301, text: 'Incompatible network address formats' },
  mediaTypeNotAvailable: { code: 304, text: 'Media type not available' },
  incompatibleMediaFormat: { code: 305, text: 'Incompatible media format' }
} as const;

export type SdpWarning = (typeof SDP_WARNINGS)[keyof typeof SDP_WARNINGS];

/**
 * Well-formed SDP that cannot be negotiated (RFC 3264): no common codec, no audio stream, or an
 * answer that does not fit its offer. Answer 488 Not Acceptable Here (RFC 3261 §21.4.26), with
 * `warning` in a Warning header field when one of §20.43's codes says why.
 */
export class SdpNegotiationError extends Error {
  readonly code = 'ERR_SDP_NEGOTIATION' as const;
  readonly status = 488 as const;
  readonly warning: SdpWarning | undefined;

  constructor(message: string, warning?: SdpWarning) {
    super(message);
    this.name = 'SdpNegotiationError';
    this.warning = warning;
  }
}

/** An `SdpSession` method called in the wrong order (e.g. an answer with no offer pending). */
export class SdpStateError extends Error {
  readonly code = 'ERR_SDP_INVALID_STATE' as const;

  constructor(message: string) {
    super(message);
    this.name = 'SdpStateError';
  }
}
