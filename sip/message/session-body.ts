/**
 * The session description a message carries, read from its body the way RFC 5621 has a UA read
 * bodies: application/sdp on its own, or the SDP part of a multipart body. Trunks that speak SIP-I
 * or SIP-T (RFC 3204) send their SDP beside an ISUP part in multipart/mixed.
 *
 * A part the engine does not use (another type, another disposition, an encoding it does not
 * decode) is skipped when its Content-Disposition says `handling=optional` and makes the whole body
 * unsupported (415) otherwise: RFC 3261 §20.11 has `handling` default to `required`. In
 * multipart/alternative one understood alternative is enough, and the last one wins (RFC 2046
 * §5.1.4: alternatives come in increasing order of preference).
 *
 * Linear in the body's length (native searches for a delimiter of at most 72 bytes, one pass over
 * each part's headers) and bounded: MAX_BODY_PARTS parts per multipart, MAX_BODY_NESTING levels,
 * MAX_PART_HEADERS header lines per part. Past a bound, or when a multipart does not parse, the
 * body is refused with 400.
 */
import { SipParseError } from '../errors.js';
import { Scanner } from './scanner.js';

export type SessionBody =
  | { kind: 'sdp'; sdp: string }
  /** No body, or none of it is a session description (an offerless INVITE, say). */
  | { kind: 'none' }
  | { kind: 'refused'; status: 400 | 415; why: string };

/** What `Accept` lists in a 415, and in the answer to OPTIONS (RFC 5621 §4.3: multipart support is announced there). */
export const ACCEPTED_BODY_TYPES = 'application/sdp, multipart/mixed, multipart/alternative';

export const MAX_BODY_PARTS = 16;
export const MAX_BODY_NESTING = 3;
export const MAX_PART_HEADERS = 32;

const NONE: SessionBody = { kind: 'none' };
const LF = 0x0a;
const CR = 0x0d;
const MAX_BOUNDARY_LENGTH = 70; // RFC 2046 §5.1.1

interface EntityHeaders {
  contentType: string | undefined;
  disposition: string | undefined;
  transferEncoding: string | undefined;
}

/** The message's session description, or why its body is refused. */
export function readSessionBody(message: {
  get(name: string): string | undefined;
  body: Buffer;
}): SessionBody {
  if (message.body.length === 0) return NONE;
  const headers: EntityHeaders = {
    contentType: message.get('Content-Type'),
    disposition: message.get('Content-Disposition'),
    transferEncoding: undefined
  };
  return readEntity(headers, message.body, 0);
}

/** The SDP text of a message's body; undefined where it has none or is refused (an ACK, a response). */
export function sessionDescriptionOf(message: {
  get(name: string): string | undefined;
  body: Buffer;
}): string | undefined {
  const body = readSessionBody(message);
  return body.kind === 'sdp' ? body.sdp : undefined;
}

function readEntity(headers: EntityHeaders, content: Buffer, depth: number): SessionBody {
  const media = parseMediaType(headers.contentType);
  const disposition = parseDisposition(headers.disposition);
  if (media?.type === 'multipart') {
    if (depth >= MAX_BODY_NESTING) return refused(400, `multipart nested deeper than ${MAX_BODY_NESTING}`);
    return readMultipart(media, content, depth + 1);
  }
  const encoding = headers.transferEncoding?.trim().toLowerCase();
  const plainBytes =
    encoding === undefined || encoding === '7bit' || encoding === '8bit' || encoding === 'binary';
  const isSdp = media?.type === 'application' && media.subtype === 'sdp';
  if (isSdp && plainBytes && (disposition.type === undefined || disposition.type === 'session'))
    return { kind: 'sdp', sdp: content.toString('utf8') };
  if (disposition.optional) return NONE;
  const what = headers.contentType?.split(';')[0].trim() || 'a body without Content-Type';
  return refused(
    415,
    `${what}${disposition.type ? ` (${disposition.type})` : ''} is required and not understood`
  );
}

function readMultipart(media: MediaType, content: Buffer, depth: number): SessionBody {
  const boundary = media.boundary;
  if (boundary === undefined) return refused(400, `multipart/${media.subtype} without a boundary`);
  const parts = splitParts(content, boundary);
  if (typeof parts === 'string') return refused(400, parts);
  const alternative = media.subtype === 'alternative';
  let sdp: string | undefined;
  let firstRefusal: SessionBody | undefined;
  for (const part of parts) {
    const entity = splitPartHeaders(part);
    if (typeof entity === 'string') return refused(400, entity);
    const read = readEntity(entity.headers, entity.content, depth);
    if (read.kind === 'sdp') {
      if (sdp === undefined || alternative) sdp = read.sdp;
    } else if (read.kind === 'refused') {
      if (read.status === 400 || !alternative) return read;
      firstRefusal ??= read;
    }
  }
  if (sdp !== undefined) return { kind: 'sdp', sdp };
  return firstRefusal ?? NONE;
}

/**
 * The parts between the delimiters `--boundary` (at the start of the body or of a line) and the
 * close delimiter `--boundary--`; the line break before a delimiter belongs to it (RFC 2046
 * §5.1.1). Bare LF line ends are taken as CRLF. A string says why the body does not parse.
 */
function splitParts(body: Buffer, boundary: string): Buffer[] | string {
  const dash = Buffer.from(`--${boundary}`, 'utf8');
  const lineDash = Buffer.from(`\n--${boundary}`, 'utf8');
  let at = 0;
  if (!body.subarray(0, dash.length).equals(dash)) {
    const found = body.indexOf(lineDash);
    if (found < 0) return 'no multipart delimiter';
    at = found + 1; // past the LF ending the preamble
  }
  const parts: Buffer[] = [];
  for (;;) {
    let i = at + dash.length;
    if (body[i] === 0x2d && body[i + 1] === 0x2d) return parts; // the close delimiter; the epilogue is ignored
    while (body[i] === 0x20 || body[i] === 0x09) i++; // transport padding
    if (body[i] === CR) i++;
    if (body[i] !== LF) return 'a multipart delimiter line with more after the boundary';
    const start = i + 1;
    const next = body.indexOf(lineDash, i);
    if (next < 0) return 'no multipart close delimiter';
    let end = next > start && body[next - 1] === CR ? next - 1 : next;
    if (end < start) end = start;
    if (parts.length === MAX_BODY_PARTS) return `more than ${MAX_BODY_PARTS} body parts`;
    parts.push(body.subarray(start, end));
    at = next + 1;
  }
}

/** A part's MIME headers (up to its first empty line) and its content. */
function splitPartHeaders(part: Buffer): { headers: EntityHeaders; content: Buffer } | string {
  const headers: EntityHeaders = {
    contentType: undefined,
    disposition: undefined,
    transferEncoding: undefined
  };
  let lines = 0;
  let at = 0;
  let last: keyof EntityHeaders | undefined;
  let sawHeader = false;
  for (;;) {
    const lf = part.indexOf(LF, at);
    if (lf < 0) {
      if (part.length === 0) return { headers, content: part };
      return 'a body part whose headers do not end';
    }
    const end = lf > at && part[lf - 1] === CR ? lf - 1 : lf;
    if (end === at) return { headers, content: part.subarray(lf + 1) };
    if (++lines > MAX_PART_HEADERS) return `a body part with more than ${MAX_PART_HEADERS} header lines`;
    const line = part.toString('utf8', at, end);
    at = lf + 1;
    if (line[0] === ' ' || line[0] === '\t') {
      if (!sawHeader) return 'a body part starting with a folded line';
      if (last !== undefined) headers[last] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return 'a body part header without a colon';
    sawHeader = true;
    const key = entityHeaderKey(line.slice(0, colon).trim().toLowerCase());
    // The first of a repeated header counts; its folded lines follow it, a repeat's are dropped.
    last = key !== undefined && headers[key] === undefined ? key : undefined;
    if (last !== undefined) headers[last] = line.slice(colon + 1).trim();
  }
}

function entityHeaderKey(name: string): keyof EntityHeaders | undefined {
  if (name === 'content-type') return 'contentType';
  if (name === 'content-disposition') return 'disposition';
  if (name === 'content-transfer-encoding') return 'transferEncoding';
  return undefined;
}

interface MediaType {
  type: string;
  subtype: string;
  boundary: string | undefined;
}

/** type "/" subtype *(";" parameter), lower-cased; undefined when absent or malformed. */
function parseMediaType(value: string | undefined): MediaType | undefined {
  if (value === undefined) return undefined;
  try {
    const scanner = new Scanner(value);
    const type = scanner.token('media type').toLowerCase();
    scanner.expect('/', 'in a media type');
    const subtype = scanner.token('media subtype').toLowerCase();
    const raw = scanner.params().get('boundary') ?? undefined;
    const boundary = raw?.startsWith('"') ? new Scanner(raw).quoted() : raw;
    const usable = boundary !== undefined && boundary.length > 0 && boundary.length <= MAX_BOUNDARY_LENGTH;
    return { type, subtype, boundary: usable ? boundary : undefined };
  } catch (error) {
    if (error instanceof SipParseError) return undefined;
    throw error;
  }
}

/** disp-type and whether `handling=optional` (RFC 3261 §20.11); an unreadable header counts as required. */
function parseDisposition(value: string | undefined): { type: string | undefined; optional: boolean } {
  if (value === undefined) return { type: undefined, optional: false };
  try {
    const scanner = new Scanner(value);
    const type = scanner.token('disposition type').toLowerCase();
    const handling = scanner.params().get('handling');
    return { type, optional: handling?.toLowerCase() === 'optional' };
  } catch (error) {
    if (error instanceof SipParseError) return { type: value.trim().toLowerCase(), optional: false };
    throw error;
  }
}

function refused(status: 400 | 415, why: string): SessionBody {
  return { kind: 'refused', status, why };
}
