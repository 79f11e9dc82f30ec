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

export async function sendAnsweringChallenges(
  dialog: Dialog,
  request: SipRequest,
  credentials: ClientCredentials | undefined,
  send: (request: SipRequest) => Promise<SipResponse>,
  logger: SipLogger
): Promise<SipResponse> {
  let response = await send(request);
  if (!credentials) return response;
  const answers = new ChallengeAnswers(credentials);
  while (response.status === 401 || response.status === 407) {
    const next = dialog.createRequest(request.method);
    let authorizations: Array<[string, string]> | undefined;
    try {
      authorizations = answers.answer(response, {
        method: next.method,
        uri: next.uri,
        body: request.bodyText
      });
    } catch (error) {
      logger.warn({ callId: request.callId, err: String(error) }, 'cannot answer digest challenge');
      return response;
    }
    if (!authorizations) return response;
    for (const field of request.headers) if (!DIALOG_HEADERS.has(field.key)) next.headers.push({ ...field });
    for (const [header, value] of authorizations) next.add(header, value);
    next.body = request.body;
    response = await send(next);
  }
  return response;
}
