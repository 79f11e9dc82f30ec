/**
 * Parses one SIP message from bytes (RFC 3261 §7, §25) and checks the rules a UAS must
 * enforce before acting on a request (§8.2, RFC 4475). The result always says whether a
 * message could be answered: a request that breaks a rule comes back with its `error`
 * (and the status to send), a response that breaks one is simply invalid (dropped, §18.1.2).
 */
import { SipParseError } from '../errors.js';
import { SINGLE_VALUE_HEADERS } from './header-names.js';
import { SipMessage, SipRequest, SipResponse, headerField, parseCSeq } from './message.js';
import { parseNameAddr, parseNameAddrList } from './name-addr.js';
import {
  DEFAULT_MESSAGE_LIMITS,
  STATUS_ENTITY_TOO_LARGE,
  STATUS_MESSAGE_TOO_LARGE,
  STATUS_URI_TOO_LONG,
  type SipMessageLimits
} from './limits.js';
import { isDigits, isSipVersion, isToken, isTokenChar, isWsp, trimWspEnd } from './scanner.js';
import { isSipUri, parseUri } from './uri.js';
import { parseViaList } from './via.js';

export interface ParseOptions {
  /**
   * Datagram transport: the message is the whole datagram, a Content-Length larger than the
   * bytes that arrived is an error and bytes past it are discarded (§18.3).
   */
  datagram: boolean;
  /** Size limits (limits.ts); the defaults when absent. */
  limits?: SipMessageLimits;
  /**
   * The stream framer stopped reading this message at a limit and `data` holds only its head
   * (possibly cut mid-line): parse what is there so the sender can be told, and answer with
   * this error whatever else is found.
   */
  cutShort?: SipParseError;
}

export type ParseResult =
  | { kind: 'request'; message: SipRequest; error?: SipParseError }
  | { kind: 'response'; message: SipResponse; error?: SipParseError }
  | { kind: 'invalid'; error: SipParseError };

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
  const limits = options.limits ?? DEFAULT_MESSAGE_LIMITS;
  if (data.length > limits.maxMessageBytes && !options.cutShort) {
    throw new SipParseError(
      `message of ${data.length} bytes exceeds ${limits.maxMessageBytes}`,
      STATUS_MESSAGE_TOO_LARGE
    );
  }
  // §7.5: ignore CRLFs before the start line (also the RFC 5626 keep-alive ping).
  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  const end = findHeaderEnd(data, start);
  let headEnd = end ? end.headEnd : data.length;
  if (!end && options.cutShort) {
    // Cut mid-line: keep only the lines that arrived whole.
    const lastLf = data.lastIndexOf(0x0a, headEnd - 1);
    headEnd = lastLf > start ? lastLf : headEnd;
  }
  const lines = splitLines(data.toString('utf8', start, headEnd));
  const startLine = lines[0] ?? '';

  let error: SipParseError | undefined = options.cutShort;
  // Only the first problem is answered; later ones are not even built (an Error captures a
  // stack, and 2000 bad lines would capture 2000 of them).
  const fail = (make: () => SipParseError): void => {
    error ??= make();
  };
  const parsedLine = parseStartLine(startLine);
  if (startLine.length > limits.maxLineBytes) {
    // §21.4.12: a Request-URI longer than the server will interpret earns 414.
    const tooLong = new SipParseError(
      `start line of ${startLine.length} characters exceeds ${limits.maxLineBytes}`,
      STATUS_URI_TOO_LONG
    );
    if (parsedLine.kind !== 'request' && parsedLine.kind !== 'loose-request') throw tooLong;
    fail(() => tooLong);
  }
  if (headEnd - start > limits.maxHeaderBytes) {
    fail(
      () =>
        new SipParseError(
          `header section of ${headEnd - start} bytes exceeds ${limits.maxHeaderBytes}`,
          STATUS_MESSAGE_TOO_LARGE
        )
    );
  }
  let message: SipMessage;
  switch (parsedLine.kind) {
    case 'request':
      message = new SipRequest(parsedLine.method, parsedLine.uri, parsedLine.version.toUpperCase());
      break;
    case 'status': {
      const response = new SipResponse(
        parsedLine.status,
        parsedLine.reason,
        parsedLine.version.toUpperCase()
      );
      if (response.version !== 'SIP/2.0') throw new SipParseError(`unsupported version ${response.version}`);
      message = response;
      break;
    }
    case 'loose-request':
      // Malformed request line (several spaces, trailing space, LWS in the URI, <URI>):
      // still answer 400 if the rest of the request lets us build a response (RFC 4475 §3.1.2.7-10).
      message = new SipRequest(parsedLine.method, '', 'SIP/2.0');
      fail(() => new SipParseError(`malformed Request-Line "${startLine.slice(0, 80)}"`));
      break;
    case 'bad':
      throw new SipParseError(`bad start line "${startLine.slice(0, 80)}"`);
  }

  readHeaders(message, lines, limits, fail);
  if (!options.cutShort) {
    readBody(message, data, end?.bodyStart, options, limits, fail);
    if (!end) fail(() => new SipParseError('no empty line after the headers'));
  }

  if (message instanceof SipRequest) {
    if (!error) {
      try {
        validateRequest(message);
      } catch (e) {
        fail(() => (e instanceof SipParseError ? e : new SipParseError(String(e))));
      }
    }
    return { kind: 'request', message, error };
  }
  if (error) throw error;
  validateCommon(message as SipResponse);
  return { kind: 'response', message: message as SipResponse };
}

/** Splits at LF, dropping a CR before it (§7: CRLF; bare LF tolerated). */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let from = 0;
  for (;;) {
    const lf = text.indexOf('\n', from);
    const stop = lf < 0 ? text.length : lf;
    lines.push(text.slice(from, stop > from && text.charCodeAt(stop - 1) === 0x0d ? stop - 1 : stop));
    if (lf < 0) return lines;
    from = lf + 1;
  }
}

type StartLine =
  | { kind: 'request'; method: string; uri: string; version: string }
  | { kind: 'status'; version: string; status: number; reason: string }
  | { kind: 'loose-request'; method: string }
  | { kind: 'bad' };

/**
 * Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP
 * Status-Code SP Reason-Phrase (§7.1, §7.2, §25.1). One pass over the line, no backtracking.
 */
function parseStartLine(line: string): StartLine {
  const firstSp = line.indexOf(' ');
  if (firstSp > 0 && isSipVersion(line.slice(0, firstSp))) {
    // Status-Code = 3DIGIT; a missing reason phrase is tolerated (RFC 4475 §3.1.2.19 noreason).
    const code = line.slice(firstSp + 1, firstSp + 4);
    const after = line.charCodeAt(firstSp + 4);
    if (isDigits(code, 3, 3) && (Number.isNaN(after) || after === 0x20)) {
      const reason = line.slice(firstSp + 5);
      if (reason.indexOf('\r') < 0)
        return { kind: 'status', version: line.slice(0, firstSp), status: Number(code), reason };
    }
  }
  if (firstSp > 0) {
    const secondSp = line.indexOf(' ', firstSp + 1);
    if (
      secondSp > firstSp + 1 &&
      line.indexOf(' ', secondSp + 1) < 0 &&
      isSipVersion(line.slice(secondSp + 1))
    ) {
      return {
        kind: 'request',
        method: line.slice(0, firstSp),
        uri: line.slice(firstSp + 1, secondSp),
        version: line.slice(secondSp + 1)
      };
    }
  }
  return looseRequestLine(line);
}

/** Method, whitespace, anything, whitespace, SIP-Version, optional trailing whitespace. */
function looseRequestLine(line: string): StartLine {
  const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
  let end = line.length;
  while (end > 0 && isSpace(line.charCodeAt(end - 1))) end--;
  let lastSpace = end - 1;
  while (lastSpace >= 0 && !isSpace(line.charCodeAt(lastSpace))) lastSpace--;
  let firstSpace = 0;
  while (firstSpace < line.length && !isSpace(line.charCodeAt(firstSpace))) firstSpace++;
  if (firstSpace === 0 || lastSpace <= firstSpace || !isSipVersion(line.slice(lastSpace + 1, end)))
    return { kind: 'bad' };
  const method = line.slice(0, firstSpace);
  return isToken(method) ? { kind: 'loose-request', method } : { kind: 'bad' };
}

function readHeaders(
  message: SipMessage,
  lines: string[],
  limits: SipMessageLimits,
  fail: (make: () => SipParseError) => void
): void {
  for (let i = 1; i < lines.length; i++) {
    let line = lines[i];
    // §7.3.1: a line starting with whitespace continues the previous header (folding).
    let length = line.length;
    while (i + 1 < lines.length && isWsp(lines[i + 1].charCodeAt(0))) {
      const next = lines[++i];
      length += next.length;
      if (length <= limits.maxLineBytes) line += ` ${next.trim()}`;
    }
    if (length > limits.maxLineBytes) {
      fail(
        () =>
          new SipParseError(
            `header line of ${length} characters exceeds ${limits.maxLineBytes}`,
            STATUS_MESSAGE_TOO_LARGE
          )
      );
      continue;
    }
    if (message.headers.length >= limits.maxHeaderCount) {
      fail(
        () => new SipParseError(`more than ${limits.maxHeaderCount} header fields`, STATUS_MESSAGE_TOO_LARGE)
      );
      return;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, trimWspEnd(line, colon)) : '';
    if (!isToken(name)) {
      fail(() => new SipParseError(`bad header line "${line.slice(0, 60)}"`));
      continue;
    }
    message.headers.push(headerField(name, line.slice(colon + 1).trim()));
  }
}

function readBody(
  message: SipMessage,
  data: Buffer,
  bodyStart: number | undefined,
  options: ParseOptions,
  limits: SipMessageLimits,
  fail: (make: () => SipParseError) => void
): void {
  if (bodyStart === undefined) return;
  const lengths = message.getAll('Content-Length');
  const available = data.length - bodyStart;
  if (lengths.length > 1) fail(() => new SipParseError('more than one Content-Length'));
  if (lengths.length === 0) {
    // §18.3: over a stream transport Content-Length is mandatory; on UDP the datagram ends the body.
    message.body = options.datagram ? data.subarray(bodyStart) : Buffer.alloc(0);
    if (message.body.length > limits.maxBodyBytes) fail(() => bodyTooLarge(message.body.length, limits));
    return;
  }
  const text = lengths[0];
  if (!isDigits(text, 1, 9)) {
    fail(() => new SipParseError(`bad Content-Length "${text.slice(0, 40)}"`));
    message.body = data.subarray(bodyStart);
    return;
  }
  const length = Number(text);
  if (length > limits.maxBodyBytes) fail(() => bodyTooLarge(length, limits));
  if (length > available) {
    fail(() => new SipParseError(`Content-Length ${length} exceeds the ${available} bytes received`));
    message.body = data.subarray(bodyStart);
    return;
  }
  message.body = data.subarray(bodyStart, bodyStart + length);
}

function bodyTooLarge(length: number, limits: SipMessageLimits): SipParseError {
  return new SipParseError(`body of ${length} bytes exceeds ${limits.maxBodyBytes}`, STATUS_ENTITY_TOO_LARGE);
}

/** Rules shared by requests and responses: mandatory headers and their grammar (§8.1.1). */
function validateCommon(message: SipMessage): void {
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    if (!message.has(name)) throw new SipParseError(`missing ${name} header`);
  }
  const seen = new Set<string>();
  for (const h of message.headers) {
    const key = h.key;
    if (SINGLE_VALUE_HEADERS.has(key)) {
      if (seen.has(key)) throw new SipParseError(`more than one ${h.name} header`);
      seen.add(key);
    }
  }
  if (parseViaList(message.getAll('Via')).length === 0) throw new SipParseError('empty Via');
  parseNameAddr(message.get('From') ?? '');
  parseNameAddr(message.get('To') ?? '');
  if (!isWord(message.callId)) throw new SipParseError('bad Call-ID');
  parseCSeq(message.get('CSeq') ?? '');
  const maxForwards = message.get('Max-Forwards');
  if (maxForwards !== undefined && (!isDigits(maxForwards, 1, 10) || Number(maxForwards) > 255)) {
    throw new SipParseError(`bad Max-Forwards "${maxForwards}"`);
  }
  const expires = message.get('Expires');
  if (expires !== undefined && (!isDigits(expires, 1, 10) || Number(expires) > 2 ** 32 - 1)) {
    throw new SipParseError(`bad Expires "${expires}"`);
  }
  const contacts = message.getAll('Contact');
  if (!(contacts.length === 1 && contacts[0] === '*')) parseNameAddrList(contacts);
  parseNameAddrList(message.getAll('Route'));
  parseNameAddrList(message.getAll('Record-Route'));
  // §20.17: rfc1123-date with "GMT" only (RFC 4475 §3.1.2.12).
  const date = message.get('Date');
  if (date !== undefined && !date.endsWith(' GMT')) throw new SipParseError(`bad Date "${date}"`);
  const contentType = message.get('Content-Type');
  if (contentType !== undefined && !isMediaType(contentType)) {
    throw new SipParseError(`bad Content-Type "${contentType.slice(0, 80)}"`);
  }
}

function validateRequest(request: SipRequest): void {
  if (!isToken(request.method)) throw new SipParseError(`bad method "${request.method}"`);
  if (isSipVersion(request.version) && request.version !== 'SIP/2.0') {
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

/** callid = word ["@" word] (§25.1): here, one run without whitespace (JavaScript's \\s). */
function isWord(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (isJsSpace(s.charCodeAt(i))) return false;
  return true;
}

function isJsSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** m-type SLASH m-subtype at the start of Content-Type (§20.15); parameters are not checked. */
function isMediaType(value: string): boolean {
  let i = 0;
  while (i < value.length && isWsp(value.charCodeAt(i))) i++;
  const typeStart = i;
  while (i < value.length && isMediaTokenChar(value.charCodeAt(i))) i++;
  if (i === typeStart || value[i] !== '/') return false;
  return isMediaTokenChar(value.charCodeAt(i + 1));
}

/** The token characters of RFC 2045 the old check allowed: §25.1 token plus "#$&^|". */
function isMediaTokenChar(c: number): boolean {
  return isTokenChar(c) || c === 0x23 || c === 0x24 || c === 0x26 || c === 0x5e || c === 0x7c;
}
