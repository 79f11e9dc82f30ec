/**
 * The checks a UAS applies to a new request before acting on it (RFC 3261 §8.2.1-§8.2.3):
 * Request-URI scheme, method, required extensions, body type and encoding, Accept. Each
 * returns the response owed, or undefined when the request may proceed.
 */
import type { SipRequest } from './message/message.js';
import { ACCEPTED_BODY_TYPES, readSessionBody } from './message/session-body.js';
import { isSipUri, parseUri } from './message/uri.js';
import { parseNameAddr } from './message/name-addr.js';
import { parseSessionExpires, type SessionTimerConfig } from './session/session-timer.js';

export interface Rejection {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
}

/** Methods this UA implements (§20.5 Allow). */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE'];
/** Methods we know but do not implement: 405 with Allow (§8.2.1); anything else is 501. */
const KNOWN_UNSUPPORTED = new Set([
  'REGISTER',
  'SUBSCRIBE',
  'NOTIFY',
  'MESSAGE',
  'REFER',
  'PRACK',
  'PUBLISH'
]);
const SDP = 'application/sdp';

/** §8.2.2.1 and §8.2.1: answered statelessly, before any transaction exists. */
export function checkUriAndMethod(request: SipRequest): Rejection | undefined {
  if (!isSipUri(parseUri(request.uri))) return { status: 416 };
  if (!ALLOWED_METHODS.includes(request.method)) {
    const headers = { Allow: ALLOWED_METHODS.join(', ') };
    return { status: KNOWN_UNSUPPORTED.has(request.method) ? 405 : 501, headers };
  }
  return undefined;
}

/**
 * §11.2: what a 200 to OPTIONS says of us, in a dialog (a trunk's keep-alive) or outside one:
 * the methods, the bodies, and RFC 4028 session timers unless they are turned off.
 */
export function capabilityHeaders(sessionTimer: boolean): Record<string, string> {
  return {
    Allow: ALLOWED_METHODS.join(', '),
    Accept: ACCEPTED_BODY_TYPES,
    Supported: sessionTimer ? 'timer' : ''
  };
}

/** Option tags a request may Require of us. */
const SUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set(['timer']);

/** §8.2.2.3 and §8.2.3 (CANCEL is exempt from Require, §8.2.2.3). */
export function checkExtensionsAndBody(request: SipRequest): Rejection | undefined {
  // Session timers (RFC 4028, `timer`) are the one extension we support; any other Require is
  // answered 420 listing what we lack.
  const unsupported = request
    .getList('Require')
    .filter((tag) => !SUPPORTED_EXTENSIONS.has(tag.toLowerCase()));
  if (unsupported.length > 0 && request.method !== 'CANCEL')
    return { status: 420, headers: { Unsupported: unsupported.join(', ') } };
  // The methods whose body is a session description we read (RFC 3311 §5.2 for UPDATE).
  if (request.method !== 'INVITE' && request.method !== 'UPDATE') return undefined;
  const body = readSessionBody(request);
  if (body.kind === 'refused')
    return body.status === 415
      ? { status: 415, headers: { Accept: ACCEPTED_BODY_TYPES } }
      : { status: 400, reason: `Bad Body: ${body.why}` };
  const encoding = request.get('Content-Encoding');
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity')
    return { status: 415, headers: { 'Accept-Encoding': 'identity' } };
  // RFC 4475 §3.3.15: an Accept that excludes SDP leaves nothing we could answer with.
  if (request.has('Accept')) {
    const accepted = request.getList('Accept').map((a) => a.split(';')[0].trim().toLowerCase());
    if (!accepted.some((a) => a === SDP || a === 'application/*' || a === '*/*'))
      return { status: 406, headers: { Accept: SDP } };
  }
  return undefined;
}

/**
 * §8.1.1.8: a request that can set up a dialog (an INVITE outside one) names its remote target, the
 * URI every later request of the dialog goes to, in one Contact with a SIP or SIPS URI. Several,
 * `*` (REGISTER's alone, §10.2.2) or another scheme name none: 400. No Contact at all is RFC 2543's
 * INVITE, which RFC 4475 §3.4.1 asks a backwards-compatible element to take: its From URI is the
 * target then (dialog.ts).
 */
export function checkDialogContact(request: SipRequest): Rejection | undefined {
  const contacts = request.getList('Contact');
  if (contacts.length === 0) return undefined;
  if (contacts.length > 1) return { status: 400, reason: 'Bad Contact: one is allowed' };
  try {
    if (isSipUri(parseNameAddr(contacts[0]).parsedUri)) return undefined;
  } catch {
    // A Contact that does not parse names no target either.
  }
  return { status: 400, reason: 'Bad Contact: a SIP or SIPS URI is required' };
}

/**
 * RFC 4028 §8.1: a new INVITE whose Session-Expires is below our Min-SE is refused with 422 on
 * receipt. Left to answer(), the application had the call (and may have sent 180) and the
 * caller's retry with our Min-SE came as a second call.
 */
export function checkSessionInterval(
  request: SipRequest,
  sessionTimer: SessionTimerConfig | undefined
): Rejection | undefined {
  const asked = sessionTimer && parseSessionExpires(request);
  if (!sessionTimer || !asked || asked.seconds >= sessionTimer.minSeSeconds) return undefined;
  return {
    status: 422,
    reason: 'Session Interval Too Small',
    headers: { 'Min-SE': String(sessionTimer.minSeSeconds) }
  };
}
