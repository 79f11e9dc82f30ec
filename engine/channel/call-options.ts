/**
 * The options of `UASCallChannel.call` that are written into the INVITE: the From URI and display
 * name, the application's own headers, the transport and the digest credentials. They often carry
 * a user's input (a name typed into a form), so each is checked before anything is placed. A CR or
 * LF in any of them ended its header line and began another of the caller's choosing (RFC 3261
 * §7.3.1: a header field ends at CRLF); and a value of the wrong type failed the call later as
 * `Cause.FAILED`, or went out as it was (`From: <hello world>`).
 */
import { isSipUri, isToken, parseUri } from '../../sip/index.js';
import { describe } from '../dtmf/dtmf-digit.js';
import { InvalidArgumentError } from '../errors.js';
import type { OutgoingCallOptions } from './sip-call.js';

const TRANSPORTS: ReadonlyArray<string> = ['udp', 'tcp', 'tls'];

/**
 * Headers the SIP stack writes itself and finds its transaction and dialog by (§8.1.1), long
 * and compact (§7.3.3) forms; the From URI and display name have options of their own.
 */
const STACK_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'v',
  'from',
  'f',
  'to',
  't',
  'call-id',
  'i',
  'cseq',
  'content-length',
  'l',
  'content-type',
  'c'
]);

/** A control character other than HTAB: none may stand in a header field (§25.1 TEXT-UTF8, LWS). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Throws TypeError or InvalidArgumentError unless every option that goes into the INVITE can. */
export function checkCallOptions(options: OutgoingCallOptions): void {
  const { from, displayName, headers, transport, auth } = options;
  if (from !== undefined && !isSipUriText(text('from', from)))
    throw new InvalidArgumentError(
      'from',
      `call: from must be a SIP URI (sip:user@host), got '${from.slice(0, 200)}'`
    );
  if (displayName !== undefined) text('displayName', displayName);
  if (transport !== undefined && !TRANSPORTS.includes(transport as string))
    throw new InvalidArgumentError(
      'transport',
      `call: transport must be one of ${TRANSPORTS.join(', ')}, got ${describe(transport)} ${String(transport).slice(0, 20)}`
    );
  if (auth !== undefined) {
    text('auth.username', auth.username);
    if (typeof auth.password !== 'string')
      throw new TypeError(`call: auth.password must be a string, got ${describe(auth.password)}`);
    if (auth.realm !== undefined) text('auth.realm', auth.realm);
  }
  if (headers === undefined) return;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers))
    throw new TypeError(
      `call: headers must be an object of header names and values, got ${describe(headers)}`
    );
  for (const [name, value] of Object.entries(headers)) {
    if (!isToken(name))
      throw new InvalidArgumentError(
        'headers',
        `call: header name '${name.slice(0, 64)}' is not a SIP token`
      );
    if (STACK_HEADERS.has(name.toLowerCase()))
      throw new InvalidArgumentError(
        'headers',
        `call: header ${name} is the SIP stack's own; it cannot be given`
      );
    text(`headers.${name}`, value);
  }
}

/** `value` as a string without control characters; TypeError or InvalidArgumentError naming `name`. */
function text(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`call: ${name} must be a string, got ${describe(value)}`);
  if (CONTROL.test(value))
    throw new InvalidArgumentError(
      name,
      `call: ${name} must not contain a line break or another control character (it would end its header line)`
    );
  return value;
}

function isSipUriText(value: string): boolean {
  try {
    return isSipUri(parseUri(value));
  } catch {
    return false;
  }
}
