/**
 * Transaction matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests,
 * including the RFC 2543 fallback for branches without the magic cookie).
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_MAGIC_COOKIE, viaBranch } from '../message/via.js';

/** Key of the server transaction a request belongs to; ACK maps to its INVITE (§17.2.3). */
export function serverTransactionKey(request: SipRequest, asMethod = request.method): string {
  const via = request.topVia;
  const method = asMethod === 'ACK' ? 'INVITE' : asMethod;
  const sentBy = `${via.host}:${via.port ?? ''}`;
  const branch = viaBranch(via);
  if (branch && branch.startsWith(BRANCH_MAGIC_COOKIE)) return `${branch}|${sentBy}|${method}`;
  // RFC 2543 matching: Request-URI, From tag, Call-ID, CSeq number, top Via (To tag left out
  // so that the ACK, which carries our tag, still finds its INVITE).
  return `2543|${request.uri}|${request.fromTag ?? ''}|${request.callId}|${request.cseq.seq}|${sentBy}|${method}`;
}

/** Key of the server transaction a CANCEL targets: the INVITE with the same branch (§9.2). */
export function cancelledInviteKey(cancel: SipRequest): string {
  return serverTransactionKey(cancel, 'INVITE');
}

/** Key of the client transaction a response belongs to: top Via branch + CSeq method. */
export function clientTransactionKey(message: SipRequest | SipResponse): string {
  return `${viaBranch(message.topVia) ?? ''}|${message.cseq.method}`;
}
