/**
 * Whose RTP and RTCP a session takes, and where it sends (symmetric RTP, RFC 4961). A packet
 * from anyone else is a stranger's: the session drops it and counts it, and it never moves
 * where the call's audio goes.
 *
 * `strict` (the default): only the address the SDP named (c=) is the peer. Its first packet
 * that passes the session's checks (and, with SRTP, authenticates) latches the source port,
 * since phones may send from a port other than the one they receive on; a packet from exactly
 * the SDP address and port takes the latch back, so a host sharing the peer's address cannot
 * keep it. `first-packet`: the first valid packet from anywhere latches (the RTP-proxy rule,
 * for peers behind NAT whose SDP names a private address); with SRTP only a packet that
 * authenticates can be first. Either way only `setRemote` (a re-INVITE) moves the peer again.
 */

export type LatchingMode = 'strict' | 'first-packet';

export interface PeerAddress {
  address: string;
  port: number;
}

export interface NegotiatedPeer extends PeerAddress {
  rtcpPort?: number;
}

function bare(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

export class PeerLatch {
  readonly mode: LatchingMode;
  #remote: NegotiatedPeer | undefined;
  #rtp: PeerAddress | undefined;
  #rtcp: PeerAddress | undefined;

  constructor(mode: LatchingMode = 'strict', remote?: NegotiatedPeer) {
    if (mode !== 'strict' && mode !== 'first-packet') throw new TypeError(`latching mode "${String(mode)}" must be strict or first-packet`);
    this.mode = mode;
    this.#remote = remote && { ...remote };
  }

  /** The negotiated (SDP) peer changed: forget what was latched. */
  setRemote(remote: NegotiatedPeer | undefined): void {
    this.#remote = remote && { ...remote };
    this.#rtp = undefined;
    this.#rtcp = undefined;
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

  /** Where RTP goes: the latched source, else the SDP address. */
  get destination(): PeerAddress | undefined {
    return this.#rtp ?? this.#remote;
  }

  /** May an RTP packet from this source be looked at (before its checks and authentication)? */
  acceptsRtp(address: string, port: number): boolean {
    const latched = this.#rtp;
    if (latched !== undefined && latched.port === port && latched.address === bare(address)) return true;
    const remote = this.#remote;
    if (this.mode === 'first-packet') return latched === undefined;
    if (remote === undefined || remote.address !== bare(address)) return false;
    return latched === undefined || remote.port === port;
  }

  /** Records a packet that passed every check; true when the latch moved to it. */
  latchRtp(address: string, port: number): boolean {
    const host = bare(address);
    const latched = this.#rtp;
    if (latched !== undefined && latched.address === host && latched.port === port) return false;
    this.#rtp = { address: host, port };
    return true;
  }

  /** RTCP comes from the RTP peer's address; its port latches on the first report. */
  acceptsRtcp(address: string, port: number): boolean {
    const host = bare(address);
    const rtcp = this.#rtcp;
    if (rtcp !== undefined) return rtcp.address === host && rtcp.port === port;
    const peer = this.#rtp?.address ?? (this.mode === 'strict' ? this.#remote?.address : undefined);
    return peer === undefined ? this.mode === 'first-packet' : peer === host;
  }

  latchRtcp(address: string, port: number): void {
    this.#rtcp ??= { address: bare(address), port };
  }
}
