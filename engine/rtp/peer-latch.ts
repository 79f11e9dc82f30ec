/**
 * Whose RTP and RTCP a session takes, and where it sends (symmetric RTP, RFC 4961). A packet
 * from anyone else is a stranger's: the session drops it and counts it, and it never moves
 * where the call's audio goes.
 *
 * `strict` (the default): the peer's host is the address its SDP names (c=) or the address its
 * SIP request came from. The second covers a caller behind NAT (private c=, media from the NAT's
 * public address, like its signalling) and a multi-homed host whose SDP names one interface and
 * whose packets leave by another. A packet from the peer's host at exactly the SDP port latches
 * at once, and takes the latch back from any other port. Any other port on the peer's host (a
 * NAT's mapping) latches only after probation (latch-probation.ts: a few packets in a row, one
 * SSRC, consecutive sequence numbers), and its packets are dropped until then: another program
 * on the caller's host, or another device behind its NAT, cannot take the call with one packet
 * sent before the caller's first. One that serves its probation first keeps the call against the
 * caller's other ports until a re-INVITE; the caller's SDP port still takes it back. With SRTP, a
 * packet that authenticates proves it comes from the peer: until something has latched, it may
 * come from anywhere and latches at once.
 *
 * A caller known to be behind NAT (`peerBehindNat`) whose SDP names another host than its
 * signalling comes from names its private address there, which nothing sent from here reaches: a
 * packet sent there goes nowhere, or to whatever host has that address on the engine's own
 * network. Nothing is sent to it until its RTP has latched (Asterisk's `comedia`); then its
 * audio goes back where its audio comes from.
 *
 * `first-packet`: the first source from anywhere to serve its probation latches (the RTP-proxy
 * rule, for peers behind a proxy and NAT whose SDP and signalling both name other hosts); the
 * SDP's exact address and port latches at once. Either way, once latched, only `setRemote` (a
 * re-INVITE) moves the peer to another host.
 *
 * An SDP host that is neither the signalling host nor latched is a third party until it sends
 * (a split-media trunk, a multi-homed host), or a host the caller aimed the call's audio at: a
 * caller that ACKed, then sent nothing (recvonly) or RTCP from its own host, had the room streamed
 * at a host of its choosing for as long as it kept the call. Such a host gets RTP and RTCP for
 * UNHEARD_HOST_SEND_MS from when sending there began, and nothing more until an RTP packet or
 * report from it passes its checks; a peer that sends at all (RFC 3550 has a receiver report
 * within seconds) is never cut off, and a peer that waits for our first packet (comedia) gets it.
 * A host gets its window once a call: re-INVITEs that moved the call away and back had restarted
 * it, a flood for two re-INVITEs every 10 s. A host once heard stays heard for the call.
 *
 * A NAT that rebinds (its mapping expired or its state was lost) sends the caller's audio on from
 * another port of the same public address, with no re-INVITE. In either mode, once the latched
 * source has gone quiet, a source on its host may take over (`mayRebind`): the session lets it
 * through only with the latched stream's SSRC and sequence numbers that carry on from it, and it
 * still serves its probation. A stranger beside the caller would have to know both, and cannot
 * take a call whose caller is still sending. The RTCP latch starts over with the new mapping, and
 * the old mapping's reports (late ones, still queued) cannot take it back.
 */

import { isNullAddress, unmappedAddress } from '../../sip/index.js';
import { LatchProbation, type ProbationPacket } from './latch-probation.js';

/** How long an SDP host other than the signalling one is sent to before anything from it is heard. */
export const UNHEARD_HOST_SEND_MS = 10_000;
/** SDP hosts a call remembers (their window, or that they were heard); the oldest is forgotten past it. */
const HOSTS_REMEMBERED = 16;
/** A remembered host that was heard. */
const HEARD = Number.POSITIVE_INFINITY;

export const LATCHING_MODES = ['strict', 'first-packet'] as const;
export type LatchingMode = (typeof LATCHING_MODES)[number];

/**
 * The SDP peer, or none for c=0.0.0.0 or c=:: ("do not send to me"): neither RTP nor RTCP goes
 * there. Linux delivers a datagram sent to 0.0.0.0 to this host, so RTCP reached a local port.
 */
function negotiatedPeer(remote: NegotiatedPeer | undefined): NegotiatedPeer | undefined {
  return remote === undefined || isNullAddress(remote.address) ? undefined : { ...remote };
}

export interface PeerAddress {
  address: string;
  port: number;
}

export interface NegotiatedPeer extends PeerAddress {
  rtcpPort?: number;
  /** SDP a=rtcp's address, where it names one (RFC 3605); the RTP address otherwise. */
  rtcpAddress?: string;
}

/**
 * What a packet that passed the session's checks did: it came from the latched source, it
 * latched now, or its source is on probation and the packet is dropped.
 */
export type RtpLatchOutcome = 'latched' | 'latchedNow' | 'onProbation';

export class PeerLatch {
  readonly mode: LatchingMode;
  /** Packets are authenticated (SRTP) before they may latch. */
  authenticated = false;
  #signallingAddress: string | undefined;
  readonly #peerBehindNat: boolean;
  #remote: NegotiatedPeer | undefined;
  #rtp: PeerAddress | undefined;
  #rtcp: PeerAddress | undefined;
  /** The source latched before the peer moved (a re-INVITE to a new address): never latched again. */
  #left: PeerAddress | undefined;
  /**
   * The RTP source and the RTCP latch left behind when another source took the latch with no
   * re-INVITE (a NAT rebinding, or the SDP port taking it back): the old source's reports (late
   * ones, still queued in our socket) latch RTCP no more, or our reports would go to a dead port and
   * the new source's be dropped as a stranger's.
   */
  #rebindLeft: { rtp: PeerAddress; rtcp: PeerAddress | undefined } | undefined;
  readonly #probation = new LatchProbation();
  /** SDP host → when its window began, or HEARD: a packet from it passed its checks (see above). */
  readonly #hosts = new Map<string, number>();
  readonly #now: () => number;

  constructor(
    mode: LatchingMode = 'strict',
    remote?: NegotiatedPeer,
    signallingAddress?: string,
    peerBehindNat = false,
    now: () => number = () => performance.now()
  ) {
    if (mode !== 'strict' && mode !== 'first-packet')
      throw new TypeError(`latching mode "${String(mode)}" must be strict or first-packet`);
    this.mode = mode;
    this.#remote = negotiatedPeer(remote);
    this.#signallingAddress = signallingAddress && unmappedAddress(signallingAddress);
    this.#peerBehindNat = peerBehindNat;
    this.#now = now;
    this.#openWindow(this.#remote?.address);
  }

  /** Sending begins now (the caller's ACK came): the SDP host's window runs from here. */
  startSending(): void {
    const address = this.#remote?.address;
    if (address !== undefined && this.#hosts.get(address) !== HEARD) this.#hosts.set(address, this.#now());
  }

  /** `address` is the SDP host now: its window begins, unless it had one (or was heard) in this call. */
  #openWindow(address: string | undefined): void {
    if (address === undefined || this.#hosts.has(address)) return;
    if (this.#hosts.size >= HOSTS_REMEMBERED) this.#hosts.delete(this.#hosts.keys().next().value as string);
    this.#hosts.set(address, this.#now());
  }

  /** The negotiated (SDP) peer changed: forget what was latched. */
  setRemote(remote: NegotiatedPeer | undefined): void {
    const previous = this.#remote;
    const moved =
      previous === undefined ||
      remote === undefined ||
      previous.address !== remote.address ||
      previous.port !== remote.port;
    this.#left = moved ? this.#rtp : undefined;
    this.#rebindLeft = undefined;
    this.#remote = negotiatedPeer(remote);
    this.#openWindow(this.#remote?.address);
    this.#rtp = undefined;
    this.#rtcp = undefined;
    this.#probation.clear();
  }

  /**
   * The peer's signalling comes from `address` now (a caller behind NAT that changed networks):
   * its host is the peer's, the old one no longer. A source already latched stays latched until
   * the re-INVITE that comes with the move (setRemote), as any latch does.
   */
  setSignallingAddress(address: string): void {
    this.#signallingAddress = unmappedAddress(address);
  }

  get remote(): NegotiatedPeer | undefined {
    return this.#remote;
  }

  get latched(): PeerAddress | undefined {
    return this.#rtp;
  }

  get rtcpLatched(): PeerAddress | undefined {
    return this.#rtcp;
  }

  /** Where RTP goes: the latched source, else the SDP address (unless it is a NATed peer's private one). */
  get destination(): PeerAddress | undefined {
    const remote = this.#remote;
    if (this.#rtp !== undefined || remote === undefined) return this.#rtp;
    const privateAddress =
      this.#peerBehindNat &&
      this.#signallingAddress !== undefined &&
      remote.address !== this.#signallingAddress;
    return privateAddress || this.#unheardTooLong(remote) ? undefined : remote;
  }

  /** `remote`, not yet latched, is a third party's host that has sent nothing in its window. */
  #unheardTooLong(remote: NegotiatedPeer): boolean {
    return (
      this.#signallingAddress !== undefined &&
      remote.address !== this.#signallingAddress &&
      this.#now() - (this.#hosts.get(remote.address) ?? -Infinity) > UNHEARD_HOST_SEND_MS
    );
  }

  /** A packet from `host` passed its checks: from the SDP's host, it shows that host takes our media. */
  #heardFrom(host: string): void {
    if (host === this.#remote?.address) this.#hosts.set(host, HEARD);
  }

  #isPeerHost(host: string): boolean {
    return host === this.#remote?.address || host === this.#signallingAddress;
  }

  /** May an RTP packet from this source be looked at (before its checks and authentication)? */
  acceptsRtp(address: string, port: number): boolean {
    const host = unmappedAddress(address);
    const latched = this.#rtp;
    if (latched !== undefined && latched.port === port && latched.address === host) return true;
    const left = this.#left;
    if (latched === undefined && left !== undefined && left.port === port && left.address === host)
      return false;
    if (latched === undefined && (this.mode === 'first-packet' || this.authenticated)) return true;
    if (this.mode === 'first-packet' || !this.#isPeerHost(host)) return false;
    return latched === undefined || this.#remote?.port === port;
  }

  /**
   * May a source `acceptsRtp` refused be looked at as the latched peer's new NAT mapping: another
   * port on the latched source's host. The session decides the rest (the latched source's
   * silence, the packet's SSRC and sequence number).
   */
  mayRebind(address: string, port: number): boolean {
    const latched = this.#rtp;
    return latched !== undefined && latched.port !== port && latched.address === unmappedAddress(address);
  }

  /** Records a packet that passed every check (and authentication, with SRTP). */
  admitRtp(address: string, port: number, packet: ProbationPacket): RtpLatchOutcome {
    const host = unmappedAddress(address);
    const latched = this.#rtp;
    if (latched !== undefined && latched.address === host && latched.port === port) return 'latched';
    this.#heardFrom(host);
    if (!this.authenticated && !this.#isSdpSource(host, port) && !this.#probation.passes(host, port, packet))
      return 'onProbation';
    this.#left = undefined;
    this.#probation.clear();
    this.#rtp = { address: host, port };
    // The RTCP latch followed the source that left: the new one's reports latch again.
    if (latched !== undefined) {
      this.#rebindLeft = { rtp: latched, rtcp: this.#rtcp };
      this.#rtcp = undefined;
    }
    return 'latchedNow';
  }

  /** Latches at once: the SDP port on the peer's host (strict), the SDP address and port (first-packet). */
  #isSdpSource(host: string, port: number): boolean {
    const remote = this.#remote;
    if (remote === undefined || remote.port !== port) return false;
    return this.mode === 'strict' ? this.#isPeerHost(host) : host === remote.address;
  }

  /**
   * May an RTCP packet from this source be looked at: the latched RTCP source, else the RTP
   * peer's host. With `first-packet` and plain RTP, none before RTP has latched.
   */
  acceptsRtcp(address: string, port: number): boolean {
    const host = unmappedAddress(address);
    const rtcp = this.#rtcp;
    if (rtcp !== undefined) return rtcp.address === host && rtcp.port === port;
    const latched = this.#rtp?.address;
    if (latched !== undefined) return latched === host;
    if (this.authenticated) return true;
    if (this.mode === 'first-packet') return false;
    return this.#isPeerHost(host);
  }

  /** The source RTP latched to: the peer itself, whatever else it sends from there. */
  isLatchedRtp(address: string, port: number): boolean {
    const rtp = this.#rtp;
    return rtp !== undefined && rtp.port === port && rtp.address === unmappedAddress(address);
  }

  /**
   * A report that passed its checks, from a source `acceptsRtcp` let through: does it latch (or
   * come from the latched source)? A port the peer's RTCP is expected on latches at once: the
   * SDP's a=rtcp port or RTP port + 1, the latched RTP port + 1, or the RTP port itself
   * (rtcp-mux). Any other port on the peer's host (a NAT's mapping) latches only once RTP has,
   * with a report whose sender SSRC is the one its RTP carries: otherwise another program on the
   * caller's host, or another device behind its NAT, could take the call's RTCP with one report
   * sent first, receive our reports and keep a dead call alive with its own. With SRTP a report
   * that authenticates is the peer's. After a rebinding, the old mapping's ports latch no more.
   */
  admitRtcp(address: string, port: number, senderSsrc: number, rtpSsrc: number | undefined): boolean {
    const host = unmappedAddress(address);
    this.#heardFrom(host);
    const rtcp = this.#rtcp;
    if (rtcp !== undefined) return rtcp.address === host && rtcp.port === port;
    const rtp = this.#rtp;
    const nextToLatchedRtp = this.#isRtpPortOrNext(host, port, rtp);
    if (!nextToLatchedRtp && this.#leftByRebinding(host, port)) return false;
    const expected = this.authenticated || nextToLatchedRtp || this.#isSdpRtcpPort(host, port);
    if (!expected && (rtp === undefined || rtpSsrc === undefined || senderSsrc !== rtpSsrc)) return false;
    this.#rtcp = { address: host, port };
    return true;
  }

  /** The old mapping of a rebinding: its RTCP port, its RTP port (rtcp-mux) or the one after. */
  #leftByRebinding(host: string, port: number): boolean {
    const left = this.#rebindLeft;
    if (left === undefined) return false;
    const { rtp, rtcp } = left;
    if (rtcp !== undefined && rtcp.address === host && rtcp.port === port) return true;
    return this.#isRtpPortOrNext(host, port, rtp);
  }

  /** `port` on `host` is `rtp`'s port or the one after it (RTP's, or RTCP's by RFC 3550 §11). */
  #isRtpPortOrNext(host: string, port: number, rtp: PeerAddress | undefined): boolean {
    return rtp !== undefined && rtp.address === host && (port === rtp.port || port === rtp.port + 1);
  }

  /** The SDP's a=rtcp port, RTP port + 1, or the RTP port (rtcp-mux), on the peer's host. */
  #isSdpRtcpPort(host: string, port: number): boolean {
    const remote = this.#remote;
    if (remote === undefined) return false;
    const sdpHost = this.mode === 'strict' ? this.#isPeerHost(host) : host === remote.address;
    if (!sdpHost) return false;
    const sdpRtcpPort = remote.rtcpPort ?? remote.port + 1;
    return port === sdpRtcpPort || port === remote.port;
  }
}
