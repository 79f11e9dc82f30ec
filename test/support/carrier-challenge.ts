/** A carrier's digest challenge to a request of ours in a call, and the check of our answer to it. */
import { verifyAuthorization } from '../../sip/auth/digest.js';
import { SipRequest, type AnySipMessage, type SipResponse } from '../../sip/message/message.js';
import { responseTo } from './sip-messages.js';

/** The trunk account the tests' carriers know. */
export const TRUNK_CREDENTIALS = { username: 'trunkuser', password: 's3cret' };

/** A 401 or 407 to `request` in the carrier's realm; `stale` says only its nonce had expired. */
export function carrierChallenge(request: SipRequest, status: 401 | 407, stale = false): SipResponse {
  const response = responseTo(request, status);
  const header = status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  response.add(
    header,
    `Digest realm="carrier.example", nonce="bye-nonce", qop="auth", algorithm=MD5${stale ? ', stale=true' : ''}`
  );
  return response;
}

/** Whether `request` answers carrierChallenge's `status` with TRUNK_CREDENTIALS. */
export function answersCarrierChallenge(request: SipRequest, status: 401 | 407): boolean {
  const header = status === 407 ? 'Proxy-Authorization' : 'Authorization';
  return verifyAuthorization(request.get(header) ?? '', {
    ...TRUNK_CREDENTIALS,
    method: request.method,
    realm: 'carrier.example',
    nonce: 'bye-nonce',
    uri: request.uri
  }).ok;
}

/** A request of `method` with a CSeq above `after` (not a retransmission of one seen). */
export const isRequest =
  (method: string, after = 0) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipRequest && m.method === method && m.cseq.seq > after;
