/**
 * SDP text → `SessionDescription` (RFC 4566 §5). Liberal where real peers differ harmlessly
 * (bare LF line ends, trailing blanks, empty `s=`, session lines in unusual order, a missing
 * `t=`), strict where a mistake would change meaning: every problem is an `SdpParseError`
 * naming the line, never an uncaught exception.
 */

import { SdpParseError } from './errors.js';
import type {
  MediaDescription,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpOrigin,
  SessionDescription
} from './session-description.js';

/** More lines than any sane offer holds; stops a hostile body from costing unbounded work. */
const MAX_LINES = 4096;

const LINE = /^([a-z])=(.*)$/;
const DIGITS = /^[0-9]+$/;
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;

/** Letters that may only appear before the first `m=` (RFC 4566 §5 ordering). */
const SESSION_ONLY = new Set(['v', 'o', 's', 'u', 'e', 'p', 't', 'r', 'z']);
/** Every letter RFC 4566 defines; others make the whole description invalid (§5). */
const KNOWN = new Set(['v', 'o', 's', 'i', 'u', 'e', 'p', 'c', 'b', 't', 'r', 'z', 'k', 'a', 'm']);

export function parseSdp(text: string): SessionDescription {
  if (typeof text !== 'string') throw new SdpParseError('session description must be a string');
  // Trailing blank lines are harmless; trailing blanks on the last line are trimmed below anyway.
  const content = text.trimEnd();
  if (content === '') throw new SdpParseError('empty session description');
  // Counted before splitting, so a body of 10^5 line breaks is refused without 10^5 strings.
  if (lineBreaks(content) >= MAX_LINES) throw new SdpParseError(`more than ${MAX_LINES} lines`);
  const lines = content.split(/\r\n|\n|\r/);

  const first = LINE.exec(lines[0].trimEnd());
  if (first === null || first[1] !== 'v') throw new SdpParseError('must start with "v="', 1);
  if (first[2].trim() !== '0') throw new SdpParseError(`unsupported version "${first[2]}", expected 0`, 1);

  let origin: SdpOrigin | undefined;
  let sessionName: string | undefined;
  const desc: Omit<SessionDescription, 'origin' | 'sessionName'> = {
    version: 0,
    emails: [],
    phones: [],
    bandwidths: [],
    timings: [],
    attributes: [],
    media: []
  };
  let current: MediaDescription | undefined;

  for (let index = 1; index < lines.length; index++) {
    const lineNumber = index + 1;
    const raw = lines[index].trimEnd();
    if (raw === '') continue; // stray blank line: harmless, skip
    const match = LINE.exec(raw);
    if (match === null)
      throw new SdpParseError(`expected "<letter>=<value>", got "${clip(raw)}"`, lineNumber);
    const [, type, value] = match;
    if (!KNOWN.has(type)) throw new SdpParseError(`unknown line type "${type}="`, lineNumber);
    if (current !== undefined && SESSION_ONLY.has(type)) {
      throw new SdpParseError(`"${type}=" is a session-level line but appears after "m="`, lineNumber);
    }

    switch (type) {
      case 'v':
        throw new SdpParseError('duplicate "v="', lineNumber);
      case 'o':
        if (origin !== undefined) throw new SdpParseError('duplicate "o="', lineNumber);
        origin = parseOrigin(value, lineNumber);
        break;
      case 's':
        if (sessionName !== undefined) throw new SdpParseError('duplicate "s="', lineNumber);
        sessionName = value;
        break;
      case 'i':
        if (current) current.title = value;
        else desc.information = value;
        break;
      case 'u':
        desc.uri = value;
        break;
      case 'e':
        desc.emails.push(value);
        break;
      case 'p':
        desc.phones.push(value);
        break;
      case 'c': {
        const connection = parseConnection(value, lineNumber);
        if (current) current.connections.push(connection);
        else if (desc.connection !== undefined)
          throw new SdpParseError('duplicate session-level "c="', lineNumber);
        else desc.connection = connection;
        break;
      }
      case 'b':
        (current ? current.bandwidths : desc.bandwidths).push(parseBandwidth(value, lineNumber));
        break;
      case 't': {
        const fields = value.trim().split(/\s+/);
        if (fields.length !== 2 || !fields.every((f) => DIGITS.test(f))) {
          throw new SdpParseError(`"t=" needs two decimal times, got "${clip(value)}"`, lineNumber);
        }
        desc.timings.push({ startTime: fields[0], stopTime: fields[1], repeats: [] });
        break;
      }
      case 'r': {
        const timing = desc.timings[desc.timings.length - 1];
        if (timing === undefined) throw new SdpParseError('"r=" without a preceding "t="', lineNumber);
        timing.repeats.push(value);
        break;
      }
      case 'z':
        desc.timeZones = value;
        break;
      case 'k':
        if (current) current.encryptionKey = value;
        else desc.encryptionKey = value;
        break;
      case 'a':
        (current ? current.attributes : desc.attributes).push(parseAttribute(value, lineNumber));
        break;
      case 'm':
        current = parseMedia(value, lineNumber);
        desc.media.push(current);
        break;
    }
  }

  if (origin === undefined) throw new SdpParseError('missing "o=" line');
  // RFC 4566 §5.3 forbids an empty s=, but peers send one (RFC 5118 §4.8 does): accept it.
  if (sessionName === undefined) throw new SdpParseError('missing "s=" line');
  // A missing t= is tolerated as "t=0 0" (permanent session), which is all SIP uses.
  if (desc.timings.length === 0) desc.timings.push({ startTime: '0', stopTime: '0', repeats: [] });
  return { ...desc, origin, sessionName };
}

/** Line ends as the split below counts them: CRLF, LF or a lone CR. */
function lineBreaks(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a) count++;
    else if (c === 0x0d) {
      count++;
      if (text.charCodeAt(i + 1) === 0x0a) i++;
    }
  }
  return count;
}

function clip(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function parseOrigin(value: string, line: number): SdpOrigin {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 6) throw new SdpParseError(`"o=" needs 6 fields, got ${fields.length}`, line);
  const [username, sessionId, sessionVersion, netType, addressType, address] = fields;
  if (!DIGITS.test(sessionVersion)) {
    throw new SdpParseError(`"o=" session version "${clip(sessionVersion)}" is not a number`, line);
  }
  return { username, sessionId, sessionVersion, netType, addressType, address };
}

function parseConnection(value: string, line: number): SdpConnection {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 3) throw new SdpParseError(`"c=" needs 3 fields, got "${clip(value)}"`, line);
  const [netType, addressType, spec] = fields;
  const parts = spec.split('/');
  const address = parts[0];
  if (address === '') throw new SdpParseError('"c=" has an empty address', line);
  const numbers = parts.slice(1).map((part) => {
    if (!DIGITS.test(part))
      throw new SdpParseError(`"c=" address suffix "${clip(part)}" is not a number`, line);
    return Number(part);
  });
  const connection: SdpConnection = { netType, addressType, address };
  // RFC 4566 §5.7: IP4 multicast is addr/ttl[/count]; IP6 has no TTL, only addr[/count].
  if (addressType.toUpperCase() === 'IP6') {
    if (numbers.length > 1) throw new SdpParseError('"c=" IP6 address takes at most one "/count"', line);
    if (numbers.length === 1) connection.addressCount = numbers[0];
  } else {
    if (numbers.length > 2) throw new SdpParseError('"c=" address takes at most "/ttl/count"', line);
    if (numbers.length >= 1) connection.ttl = numbers[0];
    if (numbers.length === 2) connection.addressCount = numbers[1];
  }
  return connection;
}

function parseBandwidth(value: string, line: number): SdpBandwidth {
  const colon = value.indexOf(':');
  const type = value.slice(0, colon).trim();
  const amount = value.slice(colon + 1).trim();
  if (colon <= 0 || !TOKEN.test(type) || !DIGITS.test(amount)) {
    throw new SdpParseError(`"b=" must be "<type>:<number>", got "${clip(value)}"`, line);
  }
  return { type, value: Number(amount) };
}

function parseAttribute(value: string, line: number): SdpAttribute {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value.trim() : value.slice(0, colon);
  if (!TOKEN.test(name)) throw new SdpParseError(`bad attribute name in "a=${clip(value)}"`, line);
  return colon < 0 ? { name } : { name, value: value.slice(colon + 1) };
}

function parseMedia(value: string, line: number): MediaDescription {
  const fields = value.trim().split(/\s+/);
  if (fields.length < 3)
    throw new SdpParseError(`"m=" needs "<media> <port> <proto> <fmt>...", got "${clip(value)}"`, line);
  const [media, portSpec, protocol, ...formats] = fields;
  if (!TOKEN.test(media)) throw new SdpParseError(`bad media type "${clip(media)}"`, line);
  const [portText, countText, extra] = portSpec.split('/');
  if (!DIGITS.test(portText) || Number(portText) > 65535 || extra !== undefined) {
    throw new SdpParseError(`bad "m=" port "${clip(portSpec)}"`, line);
  }
  const port = Number(portText);
  const description: MediaDescription = {
    media,
    port,
    protocol,
    formats,
    connections: [],
    bandwidths: [],
    attributes: []
  };
  if (countText !== undefined) {
    if (!DIGITS.test(countText) || Number(countText) < 1)
      throw new SdpParseError(`bad "m=" port count "${clip(portSpec)}"`, line);
    description.portCount = Number(countText);
  }
  // RFC 4566 §5.14 requires at least one format; a rejected stream (port 0) without one is let through.
  if (formats.length === 0 && port !== 0) throw new SdpParseError('"m=" lists no formats', line);
  return description;
}
