/**
 * A phone behind NAT names its private address in its Via and Contact, and no request sent
 * there reaches it: our BYE or re-INVITE of its call went to 192.168.x.y and was lost, so the
 * phone never heard the call end. Asterisk (`force_rport` with `rewrite_contact`), FreeSWITCH
 * (NAT detection) and Kamailio (`fix_nated_contact`) send such a dialog's requests to where the
 * INVITE came from instead, the NAT's mapping, which RFC 3581 answers already use.
 *
 * The test is narrow, so a call through a proxy is never taken for one behind NAT: the INVITE
 * has one Via (it came straight from the phone, nothing between), its sent-by is not the
 * address it came from (nor the port, over UDP: over a stream the phone's port is ephemeral),
 * and its Contact names the same host as that Via (the phone wrote its own address in both).
 * The Request-URI stays the Contact; only where the request is sent changes. Over TCP or TLS,
 * that is the connection the INVITE came on, or the one the phone connected again on.
 */
import type { SipRequest } from '../message/message.js';
import { parseNameAddr } from '../message/name-addr.js';
import { bareHost, isSipUri } from '../message/uri.js';
import { parseViaList, type Via } from '../message/via.js';
import type { MessageSource } from '../transport/transport.js';

/** Where to send the requests of the dialog `invite` sets up, when its sender is behind NAT; else undefined. */
export function natPeerOf(invite: SipRequest, source: MessageSource): MessageSource | undefined {
  if (source.protocol === 'ws') return undefined; // a WebSocket dialog has its flow already
  try {
    const via = singleVia(invite);
    if (via === undefined) return undefined;
    const contact = invite.getList('Contact')[0];
    if (contact === undefined) return undefined;
    const target = parseNameAddr(contact).parsedUri;
    if (!isSipUri(target) || bareHost(target.host) !== bareHost(via.host)) return undefined;
    return movedBy(via, source);
  } catch {
    return undefined; // unparsable: the dialog goes by its Contact, as before
  }
}

/**
 * Where a dialog already taken for NAT is reached now, when its in-dialog `request` came from a
 * new UDP mapping (the phone's router restarted or it changed networks), or over TCP or TLS on a
 * new connection (the old one dropped and the phone connected again, from a new mapping); else
 * undefined. The request still came straight from the phone (one Via) and still names an address
 * that is not its source. BYE and OPTIONS carry no Contact, so unlike `natPeerOf` none is asked for.
 */
export function movedNatPeer(
  request: SipRequest,
  source: MessageSource,
  current: MessageSource
): MessageSource | undefined {
  if (source.protocol === 'ws' || source.protocol !== current.protocol) return undefined;
  if (source.host === current.host && source.port === current.port) return undefined;
  try {
    const via = singleVia(request);
    return via === undefined ? undefined : movedBy(via, source);
  } catch {
    return undefined;
  }
}

function singleVia(request: SipRequest): Via | undefined {
  const vias = parseViaList(request.getList('Via'));
  return vias.length === 1 ? vias[0] : undefined;
}

/** `source`, when the phone's Via names another address (nor the port, over UDP). */
function movedBy(via: Via, source: MessageSource): MessageSource | undefined {
  const defaultPort = source.protocol === 'tls' ? 5061 : 5060;
  const moved =
    bareHost(via.host) !== source.host ||
    (source.protocol === 'udp' && (via.port ?? defaultPort) !== source.port);
  return moved ? { protocol: source.protocol, host: source.host, port: source.port } : undefined;
}
