/**
 * Pool of RTP/RTCP UDP port pairs (RFC 3550 §11: RTP on an even port, RTCP on the next odd
 * one) within a configured range. `allocate` really binds both sockets, so a port taken by
 * another process is found at once (EADDRINUSE) and the next pair is tried; a released pair is
 * reusable; an exhausted range rejects with `PortPoolExhaustedError`.
 *
 * Pairs are handed out in random order: in turn, a caller that saw its own call's port knew the
 * next calls' ones, and with `first-packet` latching four packets sprayed at them, before each
 * caller's first, took those calls (their audio, and their place in the room).
 */
import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { MediaAddressType } from '../../sip/index.js';
import { PortPoolExhaustedError } from './errors.js';
import { ClosedError } from '../errors.js';
import { isWildcardAddress } from './advertised-address.js';

export interface RtpPortPair {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtpSocket: dgram.Socket;
  readonly rtcpSocket: dgram.Socket;
  /** The address families the sockets can send to: IPv4, IPv6, or both when bound to :: (dual stack). */
  readonly mediaFamilies: readonly MediaAddressType[];
  /** Who may send media to these ports (the engine's RTP allow/deny lists), if anyone is refused. */
  readonly sourcePolicy?: RtpSourcePolicy;
  /** Closes both sockets and returns the pair to the pool; idempotent. */
  release(): void;
}

export interface RtpSourcePolicy {
  allows(address: string): boolean;
  /** Counts one packet dropped for its source. */
  refused(): void;
}

/**
 * A released pair rests this long while others are free: packets still on their way to the call
 * that had it must not reach, or latch, the next one.
 */
const REST_MS = 5000;

export interface RtpPortPoolOptions {
  host: string;
  minPort: number;
  maxPort: number;
  sourcePolicy?: RtpSourcePolicy;
}

function bind(socket: dgram.Socket, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.bind({ port, address: host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

type Lookup = (
  address: string,
  family: unknown,
  callback: (error: Error | null, address: string, family: number) => void
) => void;

/**
 * RTP is sent to IP literals from SDP, 50 times a second per call. Node's default lookup runs
 * dns.lookup and a nextTick for each of them; answering literals at once saves ~15 % of the CPU a
 * packet costs (measured: 5.6 → 4.7 µs per packet sent and received on loopback). Hostnames
 * still go through dns.lookup.
 *
 * Each socket has its own. A socket bound to :: takes IPv4 too (dual stack) and reaches an IPv4
 * peer by its IPv4-mapped address: given the bare IPv4 address its send fails (EINVAL) and the
 * peer hears nothing. The mapped form of the socket's last peer is kept, not made per packet.
 */
function literalLookup(): Lookup {
  let lastIpv4 = '';
  let lastMapped = '';
  return (address, family, callback) => {
    if (family === 6 && isIP(address) === 4) {
      if (address !== lastIpv4) {
        lastIpv4 = address;
        lastMapped = `::ffff:${address}`;
      }
      callback(null, lastMapped, 6);
      return;
    }
    resolveLiteral(address, family, callback);
  };
}

function resolveLiteral(
  address: string,
  family: unknown,
  callback: (error: Error | null, address: string, family: number) => void
): void {
  const literal = isIP(address);
  if (literal !== 0) {
    callback(null, address, literal);
    return;
  }
  dnsLookup(address, { family: family === 6 ? 6 : 4 }, (error, resolved, resolvedFamily) =>
    callback(error, resolved, resolvedFamily)
  );
}

function closeQuietly(socket: dgram.Socket): void {
  try {
    socket.close();
  } catch {
    // already closed (ERR_SOCKET_DGRAM_NOT_RUNNING)
  }
}

/** What a socket bound to `host` can send to: a udp4 socket IPv4 only, a udp6 one IPv6, both if bound to ::. */
function mediaFamiliesOf(host: string): readonly MediaAddressType[] {
  if (!isIPv6(host)) return IPV4_ONLY;
  return isWildcardAddress(host) ? DUAL_STACK : IPV6_ONLY;
}

const IPV4_ONLY: readonly MediaAddressType[] = ['IP4'];
const IPV6_ONLY: readonly MediaAddressType[] = ['IP6'];
const DUAL_STACK: readonly MediaAddressType[] = ['IP4', 'IP6'];

/** Throws RangeError unless `minPort`-`maxPort` holds an even/odd RTP/RTCP pair within 1-65535. */
export function checkRtpPortRange(minPort: number, maxPort: number): void {
  const minEven = minPort + (minPort % 2);
  if (
    !Number.isInteger(minPort) ||
    !Number.isInteger(maxPort) ||
    minEven + 1 > maxPort ||
    minPort < 1 ||
    maxPort > 65535
  ) {
    throw new RangeError(
      `RTP port range ${minPort}-${maxPort} must hold at least one even/odd pair within 1-65535`
    );
  }
}

export class RtpPortPool {
  readonly host: string;
  /** The address families its sockets can send to (RtpPortPair.mediaFamilies). */
  readonly mediaFamilies: readonly MediaAddressType[];
  readonly minPort: number;
  readonly maxPort: number;
  readonly #sourcePolicy: RtpSourcePolicy | undefined;
  /** RTP ports currently handed out. */
  readonly #inUse = new Map<number, RtpPortPair>();
  /** RTP ports being bound right now (not yet handed out). */
  readonly #binding = new Set<number>();
  /**
   * By pair index, when it was released (performance.now()); -Infinity when never or handed out
   * again. An array sized once: a Map's entry per released pair was a heap object kept per call.
   */
  readonly #releasedAt: Float64Array;
  #closed = false;

  constructor(opts: RtpPortPoolOptions) {
    checkRtpPortRange(opts.minPort, opts.maxPort);
    const minEven = opts.minPort + (opts.minPort % 2);
    this.host = opts.host;
    this.mediaFamilies = mediaFamiliesOf(this.host);
    this.minPort = minEven;
    this.maxPort = opts.maxPort;
    this.#sourcePolicy = opts.sourcePolicy;
    this.#releasedAt = new Float64Array(this.pairCount).fill(-Infinity);
  }

  get inUse(): number {
    return this.#inUse.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pairCount(): number {
    return Math.floor((this.maxPort - this.minPort + 1) / 2);
  }

  /** Whether a pair is neither handed out nor being bound (another program may still hold it). */
  get hasFreePair(): boolean {
    return this.#inUse.size + this.#binding.size < this.pairCount;
  }

  /**
   * Binds a free pair chosen at random, one that has rested if any has. Rejects with
   * PortPoolExhaustedError when none can be bound.
   */
  async allocate(): Promise<RtpPortPair> {
    if (this.#closed) throw new ClosedError('RTP port pool');
    const pairs = this.pairCount;
    const start = randomInt(pairs);
    const restedSince = performance.now() - REST_MS;
    for (let tried = 0; tried < 2 * pairs; tried++) {
      const rtpPort = this.minPort + 2 * ((start + tried) % pairs);
      if (this.#inUse.has(rtpPort) || this.#binding.has(rtpPort)) continue;
      // First time round only pairs that have rested; the second takes any free one.
      if (tried < pairs && this.#releasedAt[this.#indexOf(rtpPort)] > restedSince) continue;
      const pair = await this.#bindPair(rtpPort);
      if (pair !== undefined) return pair;
    }
    throw new PortPoolExhaustedError(this.minPort, this.maxPort, this.#inUse.size);
  }

  /**
   * Binds one socket on the pool's host at any port and closes it: an address this machine does
   * not have fails here, once, instead of in every call's answer.
   */
  async checkHost(): Promise<void> {
    const socket = dgram.createSocket({ type: isIPv6(this.host) ? 'udp6' : 'udp4' });
    try {
      await bind(socket, 0, this.host);
    } finally {
      closeQuietly(socket);
    }
  }

  /** Binds the pair at `rtpPort`; undefined when another program holds either port. */
  async #bindPair(rtpPort: number): Promise<RtpPortPair | undefined> {
    const type = isIPv6(this.host) ? 'udp6' : 'udp4';
    // Reserve before the first await so concurrent allocations never pick the same pair.
    this.#binding.add(rtpPort);
    const rtpSocket = dgram.createSocket({
      type,
      lookup: literalLookup() as dgram.SocketOptions['lookup']
    });
    const rtcpSocket = dgram.createSocket({
      type,
      lookup: literalLookup() as dgram.SocketOptions['lookup']
    });
    try {
      await bind(rtpSocket, rtpPort, this.host);
      await bind(rtcpSocket, rtpPort + 1, this.host);
    } catch (error) {
      closeQuietly(rtpSocket);
      closeQuietly(rtcpSocket);
      this.#binding.delete(rtpPort);
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES') return undefined;
      throw error;
    }
    this.#binding.delete(rtpPort);
    if (this.#closed) {
      closeQuietly(rtpSocket);
      closeQuietly(rtcpSocket);
      throw new ClosedError('RTP port pool');
    }
    const pair = this.#makePair(rtpPort, rtpSocket, rtcpSocket);
    this.#inUse.set(rtpPort, pair);
    this.#releasedAt[this.#indexOf(rtpPort)] = -Infinity;
    return pair;
  }

  #indexOf(rtpPort: number): number {
    return (rtpPort - this.minPort) >> 1;
  }

  #makePair(rtpPort: number, rtpSocket: dgram.Socket, rtcpSocket: dgram.Socket): RtpPortPair {
    let released = false;
    // A socket error after binding must not become an uncaught 'error' event.
    rtpSocket.on('error', () => undefined);
    rtcpSocket.on('error', () => undefined);
    return {
      rtpPort,
      rtcpPort: rtpPort + 1,
      rtpSocket,
      rtcpSocket,
      mediaFamilies: this.mediaFamilies,
      sourcePolicy: this.#sourcePolicy,
      release: () => {
        if (released) return;
        released = true;
        closeQuietly(rtpSocket);
        closeQuietly(rtcpSocket);
        this.#inUse.delete(rtpPort);
        if (!this.#closed) this.#releasedAt[this.#indexOf(rtpPort)] = performance.now();
      }
    };
  }

  /** Releases every pair still handed out and refuses further allocations; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const pair of [...this.#inUse.values()]) pair.release();
    this.#inUse.clear();
  }
}
