/**
 * The checks a UAS applies to a new request before acting on it (RFC 3261 §8.2.1-§8.2.3):
 * Request-URI scheme, method, required extensions, body type and encoding, Accept. Each
 * returns the response owed, or undefined when the request may proceed.
 */
import type { SipRequest } from './message/message.js';
import { ACCEPTED_BODY_TYPES, readSessionBody } from './message/session-body.js';
import { isSipUri, parseUri } from './message/uri.js';

export interface Rejection {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
}

/** Methods this UA implements (§20.5 Allow). */
export const ALLOWED_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO'];
/** Methods we know but do not implement: 405 with Allow (§8.2.1); anything else is 501. */
const KNOWN_UNSUPPORTED = new Set([
  'REGISTER',
  'SUBSCRIBE',
  'NOTIFY',
  'MESSAGE',
  'REFER',
  'PRACK',
  'UPDATE',
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
  if (request.method !== 'INVITE') return undefined;
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
