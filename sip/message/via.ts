/**
 * Via header values (RFC 3261 §20.42, §18.2.1; RFC 3581 rport). SLASH and the separators
 * allow LWS around them, which the torture tests (RFC 4475 §3.1.1.1) exercise.
 */
import { SipParseError } from '../errors.js';
import { Scanner, formatParams, isDigits, topLevelElements } from './scanner.js';
import { parseHostPort } from './uri.js';

export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export interface Via {
  readonly protocolName: string;
  readonly protocolVersion: string;
  /** Upper-cased transport: UDP, TCP, TLS, SCTP, WS ... */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  readonly params: Map<string, string | null>;
}

export function viaBranch(via: Via): string | undefined {
  return via.params.get('branch') ?? undefined;
}

export function parseViaList(values: string[]): Via[] {
  const out: Via[] = [];
  for (const line of values) {
    for (const part of topLevelElements(line)) {
      if (part.length === 0) throw new SipParseError(`empty Via element in "${line}"`);
      out.push(parseVia(part));
    }
  }
  return out;
}

export function parseVia(value: string): Via {
  const s = new Scanner(value);
  const protocolName = s.token('Via protocol name');
  s.expect('/', 'in Via sent-protocol');
  const protocolVersion = s.token('Via protocol version');
  s.expect('/', 'in Via sent-protocol');
  const transport = s.token('Via transport').toUpperCase();
  s.skipWs();
  const start = s.pos;
  while (!s.done && !isSentByEnd(s.text.charCodeAt(s.pos))) s.pos++;
  const { host, port } = parseHostPort(s.text.slice(start, s.pos), value);
  const params = s.params();
  s.skipWs();
  if (!s.done) throw new SipParseError(`trailing characters in Via "${value}"`);
  for (const name of ['ttl', 'rport']) {
    const v = params.get(name);
    if (v !== undefined && v !== null && !isDigits(v, 1, 5))
      throw new SipParseError(`bad Via ${name} in "${value}"`);
  }
  return { protocolName, protocolVersion, transport, host, port, params };
}

export function formatVia(via: Via): string {
  const port = via.port !== undefined ? `:${via.port}` : '';
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}

/** sent-by ends at whitespace or the first ';' (§20.42). */
function isSentByEnd(c: number): boolean {
  return c === 0x3b || c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0;
}
