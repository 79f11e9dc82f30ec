/**
 * SIP and SIPS URIs (RFC 3261 §19.1) plus opaque absolute URIs of other schemes. Parsing
 * keeps the raw text for serialization; `user` and parameters stay escaped as written and
 * `unescape()` is there for comparison (§19.1.4). IPv6 references follow RFC 5118.
 */
import { SipParseError } from '../errors.js';
import { isDigits } from './scanner.js';

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  readonly user?: string;
  readonly password?: string;
  /** Host as written; IPv6 references keep their brackets. Lower-cased (§19.1.4). */
  readonly host: string;
  readonly port?: number;
  readonly params: Map<string, string | null>;
  readonly headers: Map<string, string>;
}

export interface AbsoluteUri {
  readonly scheme: string;
  readonly opaque: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.+)$/s;
// Characters allowed anywhere in a SIP URI (unreserved, reserved, escaped, brackets).
const URI_CHARS = /^[A-Za-z0-9\-_.!~*'()%;/?:@&=+$,[\]`]+$/;
const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
// Liberal IPv6 (RFC 5118 §4.10 asks receivers to accept the ':::' ABNF bug).
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;

export function unescape(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function isSipUri(uri: SipUri | AbsoluteUri): uri is SipUri {
  return uri.scheme === 'sip' || uri.scheme === 'sips';
}

/** Parses any absolute URI; `sip:`/`sips:` are fully validated, others kept opaque. */
export function parseUri(text: string): SipUri | AbsoluteUri {
  const m = SCHEME.exec(text);
  if (!m) throw new SipParseError(`not an absolute URI: "${text}"`);
  const scheme = m[1].toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(text);
  if (/[\s<>"]/.test(m[2])) throw new SipParseError(`bad characters in URI "${text}"`);
  return { scheme, opaque: m[2] };
}

export function parseSipUri(text: string): SipUri {
  const m = SCHEME.exec(text);
  if (!m) throw new SipParseError(`not a URI: "${text}"`);
  const scheme = m[1].toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') throw new SipParseError(`not a SIP URI: "${text}"`);
  let rest = m[2];
  if (!URI_CHARS.test(rest)) throw new SipParseError(`bad characters in URI "${text}"`);
  checkEscapes(rest, text);

  let user: string | undefined;
  let password: string | undefined;
  // '@' cannot appear unescaped in host, parameters or headers, so the last one ends userinfo.
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (colon >= 0) password = userinfo.slice(colon + 1);
    if (user.length === 0) throw new SipParseError(`empty user in "${text}"`);
  }

  let headersText: string | undefined;
  const q = rest.indexOf('?');
  if (q >= 0) {
    headersText = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  const hostport = semi >= 0 ? rest.slice(0, semi) : rest;
  const paramsText = semi >= 0 ? rest.slice(semi + 1) : '';

  const { host, port } = parseHostPort(hostport, text);
  const params = new Map<string, string | null>();
  if (semi >= 0) {
    for (const part of paramsText.split(';')) {
      if (part.length === 0) throw new SipParseError(`empty URI parameter in "${text}"`);
      const eq = part.indexOf('=');
      const name = (eq >= 0 ? part.slice(0, eq) : part).toLowerCase();
      if (name.length === 0 || part.includes('?')) throw new SipParseError(`bad URI parameter in "${text}"`);
      params.set(name, eq >= 0 ? part.slice(eq + 1) : null);
    }
  }
  const headers = new Map<string, string>();
  if (headersText !== undefined) {
    for (const part of headersText.split('&')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new SipParseError(`bad URI header in "${text}"`);
      headers.set(part.slice(0, eq), part.slice(eq + 1));
    }
  }
  return { scheme, user, password, host, port, params, headers };
}

export function parseHostPort(hostport: string, context = hostport): { host: string; port?: number } {
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) throw new SipParseError(`unterminated IPv6 reference in "${context}"`);
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after.length > 0) {
      if (after[0] !== ':') throw new SipParseError(`bad host in "${context}"`);
      portText = after.slice(1);
    }
    if (!IPV6.test(host)) throw new SipParseError(`bad IPv6 reference in "${context}"`);
  } else {
    const colon = hostport.indexOf(':');
    host = colon >= 0 ? hostport.slice(0, colon) : hostport;
    if (colon >= 0) portText = hostport.slice(colon + 1);
    if (!isHostname(host) && !IPV4.test(host)) throw new SipParseError(`bad host "${host}" in "${context}"`);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!isDigits(portText, 1, 5)) throw new SipParseError(`bad port in "${context}"`);
    port = Number(portText);
    if (port > 65535) throw new SipParseError(`port out of range in "${context}"`);
  }
  return { host: host.toLowerCase(), port };
}

/**
 * hostname = *( domainlabel "." ) toplabel [ "." ] (§25.1), letters and digits in every label,
 * '-' inside only. Like the grammar's readers in practice, a toplabel may start with a digit.
 */
function isHostname(host: string): boolean {
  let labelStart = 0;
  for (let i = 0; i <= host.length; i++) {
    const c = i < host.length ? host.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i === labelStart) return i === host.length && i > 0; // one trailing dot only
      if (host.charCodeAt(i - 1) === 0x2d) return false;
      labelStart = i + 1;
    } else if (c === 0x2d) {
      if (i === labelStart) return false;
    } else if (!isAlphanumeric(c)) return false;
  }
  return true;
}

function isAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function checkEscapes(s: string, context: string): void {
  for (let i = s.indexOf('%'); i >= 0; i = s.indexOf('%', i + 1)) {
    if (!isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2)))
      throw new SipParseError(`bad %-escape in "${context}"`);
  }
}

export function formatSipUri(uri: SipUri): string {
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined)
    out += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  for (const [k, v] of uri.params) out += v === null ? `;${k}` : `;${k}=${v}`;
  if (uri.headers.size > 0) out += `?${[...uri.headers].map(([k, v]) => `${k}=${v}`).join('&')}`;
  return out;
}

/** Host without IPv6 brackets, as sockets want it. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Host as it must be written in a URI or Via (IPv6 in brackets). */
export function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
