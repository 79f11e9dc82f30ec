/**
 * name-addr / addr-spec values with header parameters (RFC 3261 §20.10, §20.20, §20.39,
 * §25.1): From, To, Contact, Route, Record-Route. Display names are tokens or a quoted
 * string; an addr-spec outside angle brackets may not carry `;`, `?` or `,` (§20).
 */
import { SipParseError } from '../errors.js';
import { Scanner, escapeQuoted, formatParams, isToken, isTokenChar, topLevelElements } from './scanner.js';
import { parseUri, type AbsoluteUri, type SipUri } from './uri.js';

export interface NameAddr {
  readonly displayName?: string;
  /** The URI as written (without angle brackets). */
  readonly uri: string;
  readonly parsedUri: SipUri | AbsoluteUri;
  readonly params: Map<string, string | null>;
}

export function parseNameAddr(value: string): NameAddr {
  const s = new Scanner(value);
  const result = readNameAddr(s);
  s.skipWs();
  if (!s.done) throw new SipParseError(`trailing characters in "${value}"`);
  return result;
}

/** A comma-separated list of name-addr values (Contact, Route, Record-Route). */
export function parseNameAddrList(values: string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const line of values) {
    for (const part of topLevelElements(line)) {
      if (part.length === 0) throw new SipParseError(`empty list element in "${line}"`);
      out.push(parseNameAddr(part));
    }
  }
  return out;
}

function readNameAddr(s: Scanner): NameAddr {
  s.skipWs();
  let displayName: string | undefined;
  if (s.peek() === '"') {
    displayName = s.quoted();
    s.skipWs();
    if (s.peek() !== '<') throw new SipParseError(`expected '<' after display name in "${s.text}"`);
  } else if (s.peek() !== '<') {
    // Either *(token LWS) "<" or a bare addr-spec: look for '<' after tokens only.
    const save = s.pos;
    const words: string[] = [];
    while (!s.done && isTokenChar(s.text.charCodeAt(s.pos))) {
      words.push(s.token('display name'));
      s.skipWs();
    }
    if (s.peek() === '<' && words.length > 0) displayName = words.join(' ');
    else {
      s.pos = save;
      return readAddrSpec(s);
    }
  }
  // LAQUOT addr-spec RAQUOT: no whitespace inside the brackets.
  s.pos++;
  const close = s.text.indexOf('>', s.pos);
  if (close < 0) throw new SipParseError(`missing '>' in "${s.text}"`);
  const uri = s.text.slice(s.pos, close);
  if (uri.length === 0 || hasWhitespace(uri))
    throw new SipParseError(`whitespace or empty URI inside <> in "${s.text}"`);
  const parsedUri = parseUri(uri);
  s.pos = close + 1;
  const params = s.params();
  return { displayName, uri, parsedUri, params };
}

function readAddrSpec(s: Scanner): NameAddr {
  s.skipWs();
  const start = s.pos;
  while (!s.done && !isAddrSpecEnd(s.text.charCodeAt(s.pos))) s.pos++;
  const uri = s.text.slice(start, s.pos);
  if (uri.includes('?')) throw new SipParseError(`addr-spec with '?' must be in <>: "${s.text}"`);
  const parsedUri = parseUri(uri);
  const params = s.params();
  return { uri, parsedUri, params };
}

export function formatNameAddr(addr: {
  displayName?: string;
  uri: string;
  params?: Map<string, string | null>;
}): string {
  let out = '';
  if (addr.displayName !== undefined && addr.displayName.length > 0) {
    out += isToken(addr.displayName) ? `${addr.displayName} ` : `"${escapeQuoted(addr.displayName)}" `;
  }
  out += `<${addr.uri}>`;
  if (addr.params) out += formatParams(addr.params);
  return out;
}

/** Whitespace, ';' or ',' end an addr-spec written without angle brackets (§20.10). */
function isAddrSpecEnd(c: number): boolean {
  return c === 0x3b || c === 0x2c || isSpace(c);
}

function hasWhitespace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isSpace(s.charCodeAt(i))) return true;
  return false;
}

/** What JavaScript's \\s matches in the ASCII range; other spaces fail the URI check later. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}
