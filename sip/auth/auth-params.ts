/**
 * The generic grammar under every digest header value (RFC 3261 §25.1, RFC 7235 §2.1):
 * `scheme auth-param *("," auth-param)`, where each param is `token = (token / quoted-string)`.
 * Tolerates extra whitespace, empty list items and any order; rejects everything else.
 */

import { DigestParseError } from './errors.js';

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** Longest header value we parse; real challenges are a few hundred bytes. */
const MAX_LENGTH = 8192;

export interface SchemeAndParams {
  scheme: string;
  /** Lower-cased parameter names → unquoted values. */
  params: Map<string, string>;
  /** Names whose value was a quoted-string (RFC 7616 requires quoting for some). */
  quoted: Set<string>;
}

export function parseAuthParams(headerValue: string): SchemeAndParams {
  if (typeof headerValue !== 'string') throw new DigestParseError('header value must be a string');
  if (headerValue.length > MAX_LENGTH)
    throw new DigestParseError(`header value longer than ${MAX_LENGTH} characters`);
  const text = headerValue;
  let at = 0;
  const skipSpace = (): void => {
    while (
      at < text.length &&
      (text[at] === ' ' || text[at] === '\t' || text[at] === '\r' || text[at] === '\n')
    )
      at++;
  };
  const token = (): string => {
    const start = at;
    while (at < text.length && TOKEN_CHAR.test(text[at])) at++;
    return text.slice(start, at);
  };

  skipSpace();
  const scheme = token();
  if (scheme === '')
    throw new DigestParseError(`expected an authentication scheme at the start of "${clip(text)}"`);
  const params = new Map<string, string>();
  const quoted = new Set<string>();

  for (;;) {
    skipSpace();
    while (text[at] === ',') {
      at++;
      skipSpace();
    }
    if (at >= text.length) break;
    const name = token().toLowerCase();
    if (name === '')
      throw new DigestParseError(`expected a parameter name at offset ${at} of "${clip(text)}"`);
    skipSpace();
    if (text[at] !== '=') throw new DigestParseError(`parameter "${name}" has no "=" value`);
    at++;
    skipSpace();
    let value: string;
    if (text[at] === '"') {
      value = quotedString();
      quoted.add(name);
    } else {
      value = bareValue();
      if (value === '') throw new DigestParseError(`parameter "${name}" has an empty value`);
    }
    if (params.has(name)) throw new DigestParseError(`parameter "${name}" appears twice`);
    params.set(name, value);
    skipSpace();
    if (at < text.length && text[at] !== ',')
      throw new DigestParseError(`expected "," after parameter "${name}"`);
  }
  return { scheme, params, quoted };

  /** An unquoted value. Wider than token: servers send base64 nonces bare (with "/" and "="). */
  function bareValue(): string {
    const start = at;
    while (at < text.length && !/[\s,"]/.test(text[at])) at++;
    return text.slice(start, at);
  }

  function quotedString(): string {
    at++; // opening quote
    let value = '';
    while (at < text.length) {
      const char = text[at++];
      if (char === '"') return value;
      // qdtext and quoted-pair exclude CR, LF and the other controls but tab (§25.1): a bare CR
      // in a challenge's realm went into our Authorization header, a header break to a lenient peer.
      if (isControl(char === '\\' && at < text.length ? text[at] : char))
        throw new DigestParseError(`control character in a quoted string in "${clip(text)}"`);
      if (char === '\\') {
        if (at >= text.length) break;
        value += text[at++]; // quoted-pair (RFC 3261 §25.1)
      } else {
        value += char;
      }
    }
    throw new DigestParseError(`unterminated quoted string in "${clip(text)}"`);
  }
}

/** A quoted-string with `"` and `\` escaped (RFC 3261 §25.1 quoted-pair). */
export function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return (code < 0x20 && code !== 0x09) || code === 0x7f;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
