/**
 * The answer to an UPDATE in an early dialog (RFC 3311 §5.2), before the call is answered: one
 * without a body (a caller's or callee's identity update, say) is taken with 200; an offer cannot
 * be, since without reliable provisional responses (RFC 3262, which we do not support) the
 * INVITE's own offer and answer are not complete until the 2xx. The callee that received that
 * offer answers 500 with a Retry-After of 0-10 s; the caller that made it, 491. An INVITE there,
 * a second INVITE transaction while the first is unanswered, gets the same (RFC 3261 §14.2).
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { createResponse } from '../message/responses.js';
import { sessionDescriptionOf } from '../message/session-body.js';

export function earlyUpdateResponse(
  request: SipRequest,
  side: 'uas' | 'uac',
  random: () => number = Math.random
): SipResponse {
  if (request.method === 'UPDATE' && (sessionDescriptionOf(request) ?? '').length === 0)
    return createResponse(request, 200);
  if (side === 'uac') return createResponse(request, 491);
  const response = createResponse(request, 500, 'Offer Pending');
  response.add('Retry-After', String(Math.floor(random() * 11)));
  return response;
}
