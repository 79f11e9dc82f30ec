/**
 * Transaction matching keys (RFC 3261 §17.1.3 for responses, §17.2.3 for requests,
 * including the RFC 2543 fallback for branches without the magic cookie).
 */
import type { SipRequest, SipResponse } from '../message/message.js';
import { BRANCH_MAGIC_COOKIE, viaBranch } from '../message/via.js';
import { sourceKeyOf, type MessageSource } from '../transport/transport.js';

/**
 * A WebSocket connection a request came on, as part of its transaction key: a client is reached
 * only over its connection (RFC 7118 §5), so the same branch from anywhere else is another
 * transaction. Without it a stranger's copy of a client's CANCEL, sent first over UDP, made the
 * client's own CANCEL look like a retransmission of it. Other transports: nothing (a UDP client
 * may come back from another port, a TCP one over a new connection).
 */
export function flowOfRequest(source: MessageSource): string {
  return source.protocol === 'ws' ? `|${sourceKeyOf(source)}` : '';
}

/** Key of the server transaction a request belongs to; ACK maps to its INVITE (§17.2.3). */
export function serverTransactionKey(request: SipRequest, flow: string, asMethod = request.method): string {
  const via = request.topVia;
  const method = asMethod === 'ACK' ? 'INVITE' : asMethod;
  const sentBy = `${via.host}:${via.port ?? ''}`;
  const branch = viaBranch(via);
  if (branch && branch.startsWith(BRANCH_MAGIC_COOKIE)) return `${branch}|${sentBy}|${method}${flow}`;
  // RFC 2543 matching: Request-URI, From tag, Call-ID, CSeq number, top Via (To tag left out
  // so that the ACK, which carries our tag, still finds its INVITE).
  return `2543|${request.uri}|${request.fromTag ?? ''}|${request.callId}|${request.cseq.seq}|${sentBy}|${method}${flow}`;
}

/** Key of the server transaction a CANCEL targets: the INVITE with the same branch (§9.2). */
export function cancelledInviteKey(cancel: SipRequest, flow: string): string {
  return serverTransactionKey(cancel, flow, 'INVITE');
}

/** Key of the client transaction a response belongs to: top Via branch + CSeq method. */
export function clientTransactionKey(message: SipRequest | SipResponse): string {
  return `${viaBranch(message.topVia) ?? ''}|${message.cseq.method}`;
}
