/**
 * A small cursor over one header value for the RFC 3261 §25.1 lexical rules: tokens, quoted
 * strings, LWS (line folding is already undone by the parser, so LWS is SP/HT here) and
 * separators. Grammar helpers in this folder build on it; each throws SipParseError.
 */
import { SipParseError } from '../errors.js';

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") — §25.1 */
const TOKEN_CHARS = new Uint8Array(128);
for (const ch of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") {
  TOKEN_CHARS[ch.charCodeAt(0)] = 1;
}

export function isTokenChar(code: number): boolean {
  return code < 128 && TOKEN_CHARS[code] === 1;
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s.charCodeAt(i))) return false;
  return true;
}

/** SP or HT: the whitespace of LWS once folding is undone (§25.1). */
export function isWsp(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Whether `s` is `min` to `max` ASCII digits. */
export function isDigits(s: string, min = 1, max = Infinity): boolean {
  if (s.length < min || s.length > max) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (§25.1), "SIP" case-insensitive. */
export function isSipVersion(s: string): boolean {
  if (s.length < 7 || s.slice(0, 4).toUpperCase() !== 'SIP/') return false;
  const dot = s.indexOf('.', 4);
  return dot > 4 && isDigits(s.slice(4, dot)) && isDigits(s.slice(dot + 1));
}

/** Index of the last character of `s` before `end` that is not SP/HT, plus one. */
export function trimWspEnd(s: string, end = s.length): number {
  while (end > 0 && isWsp(s.charCodeAt(end - 1))) end--;
  return end;
}

export class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Skips SP / HT. Returns whether anything was skipped. */
  skipWs(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text[this.pos];
      if (c !== ' ' && c !== '\t') break;
      this.pos++;
    }
    return this.pos > start;
  }

  /** Consumes `ch` (after optional whitespace) if it is next. */
  accept(ch: string): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.text[this.pos] === ch) {
      this.pos++;
      return true;
    }
    this.pos = save;
    return false;
  }

  expect(ch: string, what: string): void {
    if (!this.accept(ch))
      throw new SipParseError(`expected '${ch}' ${what} at ${this.pos} in "${this.text}"`);
  }

  token(what: string): string {
    this.skipWs();
    const start = this.pos;
    while (this.pos < this.text.length && isTokenChar(this.text.charCodeAt(this.pos))) this.pos++;
    if (this.pos === start) throw new SipParseError(`expected a token for ${what} in "${this.text}"`);
    return this.text.slice(start, this.pos);
  }

  /** quoted-string (§25.1) with quoted-pair; returns the unescaped content. */
  quoted(): string {
    this.skipWs();
    if (this.text[this.pos] !== '"') throw new SipParseError('expected a quoted string');
    this.pos++;
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === '"') return out;
      if (c === '\\') {
        if (this.pos >= this.text.length) break;
        const next = this.text.charCodeAt(this.pos);
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        if (next === 0x0a || next === 0x0d || next > 0x7f) throw new SipParseError('bad quoted-pair');
        out += this.text[this.pos++];
        continue;
      }
      out += c;
    }
    throw new SipParseError(`unterminated quoted string in "${this.text}"`);
  }

  /**
   * A generic parameter value: quoted-string, or a run of token characters plus the host
   * characters ':' '[' ']' (Via received= may hold a bare IPv6 address, RFC 5118 §4.5).
   */
  paramValue(): string {
    this.skipWs();
    if (this.text[this.pos] === '"') return `"${escapeQuoted(this.quoted())}"`;
    const start = this.pos;
    while (this.pos < this.text.length) {
      const code = this.text.charCodeAt(this.pos);
      if (!isTokenChar(code) && code !== 0x3a && code !== 0x5b && code !== 0x5d) break;
      this.pos++;
    }
    if (this.pos === start) throw new SipParseError(`empty parameter value in "${this.text}"`);
    return this.text.slice(start, this.pos);
  }

  /** *( SEMI generic-param ): lower-cased names, values as written (null when absent). */
  params(): Map<string, string | null> {
    const params = new Map<string, string | null>();
    while (this.accept(';')) {
      const name = this.token('parameter name').toLowerCase();
      let value: string | null = null;
      if (this.accept('=')) value = this.paramValue();
      params.set(name, value);
    }
    return params;
  }
}

export function escapeQuoted(s: string): string {
  return s.replace(/["\\]/g, (m) => `\\${m}`);
}

/** Serializes a parameter map back to `;name=value` form. */
export function formatParams(params: Map<string, string | null>): string {
  let out = '';
  for (const [name, value] of params) out += value === null ? `;${name}` : `;${name}=${value}`;
  return out;
}

/**
 * Splits a header value at top-level commas (outside quotes and angle brackets), §7.3.1.
 * Empty elements are kept so that callers can reject `a,,b` where the grammar forbids it.
 */
export function splitTopLevel(value: string, separator = ','): string[] {
  return [...topLevelElements(value, separator)];
}

/**
 * The elements of `splitTopLevel` one at a time, so a reader that rejects the first bad one
 * never builds the rest (10^5 commas cost one scan, not 10^5 strings).
 */
export function* topLevelElements(value: string, separator = ','): Generator<string> {
  let depth = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (c === '"') inQuote = true;
    else if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (c === separator && depth === 0) {
      yield value.slice(start, i).trim();
      start = i + 1;
    }
  }
  yield value.slice(start).trim();
}
