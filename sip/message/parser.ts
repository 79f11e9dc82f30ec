/**
 * Parses one SIP message from bytes (RFC 3261 §7, §25) and checks the rules a UAS must
 * enforce before acting on a request (§8.2, RFC 4475). The result always says whether a
 * message could be answered: a request that breaks a rule comes back with its `error`
 * (and the status to send), a response that breaks one is simply invalid (dropped, §18.1.2).
 */
import { SipParseError } from '../errors.js';
import { SINGLE_VALUE_HEADERS, canonicalHeaderName, headerKey } from './header-names.js';
import { SipMessage, SipRequest, SipResponse, parseCSeq } from './message.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import { isToken } from './scanner.js';
import { isSipUri, parseUri } from './uri.js';
import { parseViaList } from './via.js';

export interface ParseOptions {
  /**
   * Datagram transport: the message is the whole datagram, a Content-Length larger than the
   * bytes that arrived is an error and bytes past it are discarded (§18.3).
   */
  datagram: boolean;
}

export type ParseResult =
  | { kind: 'request'; message: SipRequest; error?: SipParseError }
  | { kind: 'response'; message: SipResponse; error?: SipParseError }
  | { kind: 'invalid'; error: SipParseError };

const REQUEST_LINE = /^([^ ]+) ([^ ]+) (SIP\/\d+\.\d+)$/i;
const REQUEST_LINE_LOOSE = /^(\S+)\s+.*\s+SIP\/(\d+\.\d+)\s*$/i;
const STATUS_LINE = /^(SIP\/\d+\.\d+) (\d{3})(?: (.*))?$/i;

/** Index just after the blank line ending the header section, or -1. */
export function findHeaderEnd(data: Buffer, from = 0): { headEnd: number; bodyStart: number } | undefined {
  const crlf = data.indexOf('\r\n\r\n', from, 'latin1');
  const lf = data.indexOf('\n\n', from, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { headEnd: crlf, bodyStart: crlf + 4 };
  if (lf >= 0) return { headEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

export function parseMessage(data: Buffer, options: ParseOptions = { datagram: true }): ParseResult {
  try {
    return parseUnchecked(data, options);
  } catch (err) {
    return { kind: 'invalid', error: err instanceof SipParseError ? err : new SipParseError(String(err)) };
  }
}

function parseUnchecked(data: Buffer, options: ParseOptions): ParseResult {
  // §7.5: ignore CRLFs before the start line (also the RFC 5626 keep-alive ping).
  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  const end = findHeaderEnd(data, start);
  const headText = data.toString('utf8', start, end ? end.headEnd : data.length);
  const lines = headText.split(/\r?\n/);
  const startLine = lines[0] ?? '';

  let message: SipMessage;
  let error: SipParseError | undefined;
  const fail = (e: SipParseError): void => {
    error ??= e;
  };

  const reqMatch = REQUEST_LINE.exec(startLine);
  const statusMatch = reqMatch ? null : STATUS_LINE.exec(startLine);
  if (reqMatch) {
    message = new SipRequest(reqMatch[1], reqMatch[2], reqMatch[3].toUpperCase());
  } else if (statusMatch) {
    const response = new SipResponse(Number(statusMatch[2]), statusMatch[3] ?? "", statusMatch[1].toUpperCase());
    if (response.version !== 'SIP/2.0') throw new SipParseError(`unsupported version ${response.version}`);
    message = response;
  } else {
    // Malformed request line (several spaces, trailing space, LWS in the URI, <URI>):
    // still answer 400 if the rest of the request lets us build a response (RFC 4475 §3.1.2.7-10).
    const loose = REQUEST_LINE_LOOSE.exec(startLine);
    if (!loose || !isToken(loose[1])) throw new SipParseError(`bad start line "${startLine.slice(0, 80)}"`);
    message = new SipRequest(loose[1], '', 'SIP/2.0');
    fail(new SipParseError(`malformed Request-Line "${startLine.slice(0, 80)}"`));
  }

  readHeaders(message, lines, fail);
  readBody(message, data, end?.bodyStart, options, fail);
  if (!end) fail(new SipParseError('no empty line after the headers'));

  if (message instanceof SipRequest) {
    if (!error) {
      try {
        validateRequest(message);
      } catch (e) {
        fail(e instanceof SipParseError ? e : new SipParseError(String(e)));
      }
    }
    return { kind: 'request', message, error };
  }
  if (error) throw error;
  validateCommon(message as SipResponse);
  return { kind: 'response', message: message as SipResponse };
}

function readHeaders(message: SipMessage, lines: string[], fail: (e: SipParseError) => void): void {
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    // §7.3.1: a line starting with whitespace continues the previous header (folding).
    while (i + 1 < lines.length && /^[ \t]/.test(lines[i + 1])) line += ` ${lines[++i].trim()}`;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).replace(/[ \t]+$/, '') : '';
    if (!isToken(name)) {
      fail(new SipParseError(`bad header line "${line.slice(0, 60)}"`));
      continue;
    }
    message.headers.push({ name: canonicalHeaderName(name), value: line.slice(colon + 1).trim() });
  }
}

function readBody(
  message: SipMessage,
  data: Buffer,
  bodyStart: number | undefined,
  options: ParseOptions,
  fail: (e: SipParseError) => void
): void {
  if (bodyStart === undefined) return;
  const lengths = message.getAll('Content-Length');
  const available = data.length - bodyStart;
  if (lengths.length > 1) fail(new SipParseError('more than one Content-Length'));
  if (lengths.length === 0) {
    // §18.3: over a stream transport Content-Length is mandatory; on UDP the datagram ends the body.
    message.body = options.datagram ? data.subarray(bodyStart) : Buffer.alloc(0);
    return;
  }
  const text = lengths[0];
  if (!/^\d{1,9}$/.test(text)) {
    fail(new SipParseError(`bad Content-Length "${text}"`));
    message.body = data.subarray(bodyStart);
    return;
  }
  const length = Number(text);
  if (length > available) {
    fail(new SipParseError(`Content-Length ${length} exceeds the ${available} bytes received`));
    message.body = data.subarray(bodyStart);
    return;
  }
  message.body = data.subarray(bodyStart, bodyStart + length);
}

/** Rules shared by requests and responses: mandatory headers and their grammar (§8.1.1). */
function validateCommon(message: SipMessage): void {
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    if (!message.has(name)) throw new SipParseError(`missing ${name} header`);
  }
  const seen = new Set<string>();
  for (const h of message.headers) {
    const key = headerKey(h.name);
    if (SINGLE_VALUE_HEADERS.has(key)) {
      if (seen.has(key)) throw new SipParseError(`more than one ${canonicalHeaderName(h.name)} header`);
      seen.add(key);
    }
  }
  if (parseViaList(message.getAll('Via')).length === 0) throw new SipParseError('empty Via');
  parseNameAddr(message.get('From') ?? '');
  parseNameAddr(message.get('To') ?? '');
  if (!/^\S+$/.test(message.callId)) throw new SipParseError('bad Call-ID');
  parseCSeq(message.get('CSeq') ?? '');
  const maxForwards = message.get('Max-Forwards');
  if (maxForwards !== undefined && (!/^\d{1,10}$/.test(maxForwards) || Number(maxForwards) > 255)) {
    throw new SipParseError(`bad Max-Forwards "${maxForwards}"`);
  }
  const expires = message.get('Expires');
  if (expires !== undefined && (!/^\d{1,10}$/.test(expires) || Number(expires) > 2 ** 32 - 1)) {
    throw new SipParseError(`bad Expires "${expires}"`);
  }
  const contacts = message.getAll('Contact');
  if (!(contacts.length === 1 && contacts[0] === '*')) parseNameAddrList(contacts);
  parseNameAddrList(message.getAll('Route'));
  parseNameAddrList(message.getAll('Record-Route'));
  // §20.17: rfc1123-date with "GMT" only (RFC 4475 §3.1.2.12).
  const date = message.get('Date');
  if (date !== undefined && !/ GMT$/.test(date)) throw new SipParseError(`bad Date "${date}"`);
  const contentType = message.get('Content-Type');
  if (contentType !== undefined && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+/.test(contentType.trim())) {
    throw new SipParseError(`bad Content-Type "${contentType}"`);
  }
}

function validateRequest(request: SipRequest): void {
  if (!isToken(request.method)) throw new SipParseError(`bad method "${request.method}"`);
  if (/^SIP\/\d+\.\d+$/.test(request.version) && request.version !== 'SIP/2.0') {
    validateCommon(request);
    throw new SipParseError(`version ${request.version} not supported`, 505);
  }
  // The Request-URI must be an absolute URI; a SIP URI there may not carry headers (§19.1.1).
  const uri = parseUri(request.uri);
  if (isSipUri(uri) && uri.headers.size > 0) throw new SipParseError('headers in the Request-URI');
  validateCommon(request);
  // §8.1.1.5: the CSeq method matches the request method.
  if (request.cseq.method !== request.method) {
    throw new SipParseError(`CSeq method ${request.cseq.method} differs from ${request.method}`);
  }
}
