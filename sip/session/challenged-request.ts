/**
 * A request of a dialog we placed that a proxy or the callee challenges (401/407) is sent again
 * as the dialog's next request, with our answers (RFC 3261 §22.2: CSeq incremented, as for any
 * new request). A carrier that challenges every request challenges our BYE too: unanswered, the
 * call stayed up, and billed, at its end.
 */
import { ChallengeAnswers, type ClientCredentials } from '../auth/challenge-answers.js';
import type { Dialog } from '../dialog/dialog.js';
import type { SipRequest, SipResponse } from '../message/message.js';
import type { SipLogger } from './session-host.js';

/** What Dialog.createRequest writes, and what each retry writes anew. */
const DIALOG_HEADERS = new Set([
  'via',
  'route',
  'max-forwards',
  'from',
  'to',
  'call-id',
  'cseq',
  'authorization',
  'proxy-authorization'
]);

/**
 * `request` again as the dialog's next request, answering the challenge in `response` (a 401 or
 * 407) and those before it; undefined for any other response, without credentials, or once a
 * realm has been answered as often as it may be.
 */
export function authorizedRetry(
  dialog: Dialog,
  request: SipRequest,
  response: SipResponse,
  answers: ChallengeAnswers | undefined,
  logger: SipLogger
): SipRequest | undefined {
  if (!answers || (response.status !== 401 && response.status !== 407)) return undefined;
  const next = dialog.createRequest(request.method);
  let authorizations: Array<[string, string]> | undefined;
  try {
    authorizations = answers.answer(response, { method: next.method, uri: next.uri, body: request.bodyText });
  } catch (error) {
    logger.warn({ callId: request.callId, err: String(error) }, 'cannot answer digest challenge');
    return undefined;
  }
  if (!authorizations) return undefined;
  for (const field of request.headers) if (!DIALOG_HEADERS.has(field.key)) next.headers.push({ ...field });
  for (const [header, value] of authorizations) next.add(header, value);
  next.body = request.body;
  return next;
}

/** Sends a request of the dialog, and again with our answers while it is challenged. */
export async function sendAnsweringChallenges(
  dialog: Dialog,
  request: SipRequest,
  credentials: ClientCredentials | undefined,
  send: (request: SipRequest) => Promise<SipResponse>,
  logger: SipLogger
): Promise<SipResponse> {
  const answers = credentials && new ChallengeAnswers(credentials);
  let sent = request;
  let response = await send(sent);
  for (
    let retry = authorizedRetry(dialog, sent, response, answers, logger);
    retry;
    retry = authorizedRetry(dialog, sent, response, answers, logger)
  ) {
    sent = retry;
    response = await send(sent);
  }
  return response;
}
