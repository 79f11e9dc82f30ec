/**
 * RFC 7118 §5: a WebSocket client's Via sent-by and Contact hosts are usually `*.invalid`
 * names nobody can resolve; requests to that client (BYE, INFO) must go over the connection
 * its messages came on. This tells the WebSocket transport which names live on a connection.
 */
import type { SipRequest } from '../message/message.js';
import { parseNameAddr } from '../message/name-addr.js';
import { bareHost, isSipUri } from '../message/uri.js';
import type { MessageSource, SipTransport } from './transport.js';

export function learnWebSocketRoutes(
  request: SipRequest,
  source: MessageSource,
  transport: SipTransport | undefined
): void {
  if (!transport?.learnRoute) return;
  try {
    transport.learnRoute(bareHost(request.topVia.host), source);
    const contact = request.get('Contact');
    if (contact === undefined || contact.trim() === '*') return;
    const uri = parseNameAddr(contact).parsedUri;
    if (isSipUri(uri)) transport.learnRoute(bareHost(uri.host), source);
  } catch {
    // A malformed Via or Contact is the parser's to report; it teaches us no route.
  }
}
