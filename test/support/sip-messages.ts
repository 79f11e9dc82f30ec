/** Builds SIP messages for tests from a compact description (parsed by the real parser). */
import { parseMessage } from '../../sip/message/parser.js';
import { SipResponse, type SipRequest } from '../../sip/message/message.js';

export function request(
  method: string,
  opts: {
    /** The Request-URI (default sip:alice@127.0.0.1). */
    uri?: string;
    branch?: string;
    cseq?: number;
    callId?: string;
    toTag?: string;
    body?: string;
    extra?: string[];
  } = {}
): SipRequest {
  const body = opts.body ?? '';
  const lines = [
    `${method} ${opts.uri ?? 'sip:alice@127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=${opts.branch ?? 'z9hG4bK-test-1'};rport`,
    'Max-Forwards: 70',
    'From: <sip:bob@127.0.0.1>;tag=from1',
    `To: <sip:alice@127.0.0.1>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    `Call-ID: ${opts.callId ?? 'call-1@test'}`,
    `CSeq: ${opts.cseq ?? 1} ${method}`,
    ...(opts.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body
  ];
  const parsed = parseMessage(Buffer.from(lines.join('\r\n')), { datagram: true });
  if (parsed.kind !== 'request' || parsed.error)
    throw new Error(
      `bad test request: ${parsed.kind === 'invalid' ? parsed.error.message : parsed.error?.message}`
    );
  return parsed.message;
}

/** An INVITE to `uri`, with the Authorization header field `authorization` if given (a digest answer). */
export function inviteAnswering(uri: string, authorization?: string): SipRequest {
  return request('INVITE', { uri, extra: authorization ? [`Authorization: ${authorization}`] : [] });
}

/** A response to `req` copying Via/From/To/Call-ID/CSeq (§8.2.6.2). */
export function responseTo(req: SipRequest, status: number, toTag?: string): SipResponse {
  const res = new SipResponse(status, status === 200 ? 'OK' : 'Test');
  for (const v of req.getAll('Via')) res.add('Via', v);
  res.add('From', req.get('From') ?? '');
  res.add('To', toTag ? `${req.get('To')};tag=${toTag}` : (req.get('To') ?? ''));
  res.add('Call-ID', req.callId);
  res.add('CSeq', req.get('CSeq') ?? '');
  return res;
}

/** A callee's 200 OK to `invite` from the UAS whose To tag is `toTag`, with its Contact and SDP answer. */
export function okWithAnswer(invite: SipRequest, toTag: string, contact: string, sdp: string): SipResponse {
  const ok = responseTo(invite, 200, toTag);
  ok.add('Contact', `<${contact}>`);
  ok.add('Content-Type', 'application/sdp');
  ok.body = Buffer.from(sdp);
  return ok;
}
