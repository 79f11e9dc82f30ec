/**
 * Typed errors of SIP digest authentication.
 */

/** A challenge or credentials header value that does not follow the auth-param grammar. */
export class DigestParseError extends Error {
  readonly code = 'ERR_DIGEST_PARSE' as const;

  constructor(message: string) {
    super(message);
    this.name = 'DigestParseError';
  }
}

/** Well-formed, but asks for something we cannot do (another scheme, algorithm or qop). */
export class DigestUnsupportedError extends Error {
  readonly code = 'ERR_DIGEST_UNSUPPORTED' as const;

  constructor(message: string) {
    super(message);
    this.name = 'DigestUnsupportedError';
  }
}
