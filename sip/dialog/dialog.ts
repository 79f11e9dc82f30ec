/**
 * A dialog (RFC 3261 §12): its id (Call-ID, local and remote tags), route set, remote
 * target and CSeq spaces, built from either side of the INVITE exchange, and the requests
 * sent within it (§12.2.1.1), toward a loose or a strict (RFC 2543) first router.
 */
import { SipRequest, type SipMessage } from '../message/message.js';
import { parseNameAddr, parseNameAddrList } from '../message/name-addr.js';
import { formatSipUri, isSipUri } from '../message/uri.js';

export interface DialogState {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From header value we send (with our tag). */
  localHeader: string;
  /** To header value we send (with the remote tag). */
  remoteHeader: string;
  remoteTarget: string;
  routeSet: string[];
  localSeq: number;
  remoteSeq?: number;
}

function contactUri(message: SipMessage): string | undefined {
  const contact = message.getList('Contact')[0];
  if (contact === undefined) return undefined;
  try {
    // Only a SIP URI can be a remote target we send requests to (§12.1.1).
    const addr = parseNameAddr(contact);
    return isSipUri(addr.parsedUri) ? addr.uri : undefined;
  } catch {
    return undefined;
  }
}

export class Dialog {
  confirmed = false;
  constructor(readonly state: DialogState) {}

  get id(): string {
    return dialogId(this.state.callId, this.state.localTag, this.state.remoteTag);
  }

  /** §12.1.1: the UAS side, from the INVITE it received. */
  static asUas(invite: SipRequest, localTag: string): Dialog {
    const remoteTag = invite.fromTag ?? '';
    return new Dialog({
      callId: invite.callId,
      localTag,
      remoteTag,
      localHeader: `${invite.get('To') ?? ''};tag=${localTag}`,
      remoteHeader: invite.get('From') ?? '',
      remoteTarget: contactUri(invite) ?? invite.from.uri,
      routeSet: parseNameAddrList(invite.getAll('Record-Route')).map((r) => `<${r.uri}>`),
      localSeq: Math.floor(Math.random() * 10_000) + 1,
      remoteSeq: invite.cseq.seq
    });
  }

  /** §12.1.2: the UAC side, from the INVITE sent and the 2xx (or 1xx with tag) received. */
  static asUac(invite: SipRequest, response: SipMessage): Dialog {
    return new Dialog({
      callId: invite.callId,
      localTag: invite.fromTag ?? '',
      remoteTag: response.toTag ?? '',
      localHeader: invite.get('From') ?? '',
      remoteHeader: response.get('To') ?? '',
      remoteTarget: contactUri(response) ?? invite.uri,
      routeSet: parseNameAddrList(response.getAll('Record-Route'))
        .map((r) => `<${r.uri}>`)
        .reverse(),
      localSeq: invite.cseq.seq
    });
  }

  /** §12.2.1.1: a new request within the dialog (ACK reuses the INVITE's number). */
  createRequest(method: string, cseq?: number): SipRequest {
    const seq = cseq ?? ++this.state.localSeq;
    const { remoteTarget, routeSet } = this.state;
    const strictRouter = routeSet.length > 0 ? strictRouterUri(routeSet[0]) : undefined;
    // §12.2.1.1: a first route without `lr` is a strict router. It takes the request by its
    // Request-URI and the remote target goes last in the Route set; §8.1.2 sends it there.
    const request = new SipRequest(method, strictRouter ?? remoteTarget);
    const routes = strictRouter ? [...routeSet.slice(1), `<${remoteTarget}>`] : routeSet;
    for (const route of routes) request.add('Route', route);
    request.strictRouted = strictRouter !== undefined;
    request.add('Max-Forwards', '70');
    request.add('From', this.state.localHeader);
    request.add('To', this.state.remoteHeader);
    request.add('Call-ID', this.state.callId);
    request.add('CSeq', `${seq} ${method}`);
    return request;
  }

  /**
   * §12.2.2: a request whose CSeq is lower than the last one seen is out of order (500).
   * ACK and CANCEL carry the INVITE's number and are not checked.
   */
  acceptRemoteSeq(request: SipRequest): boolean {
    if (request.method === 'ACK' || request.method === 'CANCEL') return true;
    const seq = request.cseq.seq;
    if (this.state.remoteSeq !== undefined && seq <= this.state.remoteSeq) return false;
    this.state.remoteSeq = seq;
    return true;
  }

  /** §12.2: a target refresh (re-INVITE or its 2xx) may change the remote target. */
  refreshTarget(message: SipMessage): void {
    const uri = contactUri(message);
    if (uri) this.state.remoteTarget = uri;
  }
}

/** The Request-URI a route-set entry becomes when it is a strict router (no `lr`), else undefined. */
function strictRouterUri(route: string): string | undefined {
  const uri = parseNameAddr(route).parsedUri;
  if (!isSipUri(uri) || uri.params.has('lr')) return undefined;
  // §12.2.1.1: without the parameters a Request-URI may not carry (§19.1.1: method, headers).
  const params = new Map(uri.params);
  params.delete('method');
  return formatSipUri({ ...uri, params, headers: new Map() });
}

export function dialogId(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}|${localTag}|${remoteTag}`;
}
