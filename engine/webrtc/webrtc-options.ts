/**
 * How the engine's WebRTC legs gather ICE candidates. Host candidates only by default (no
 * STUN server is contacted unless one is configured); an optional UDP port range, which
 * @roamhq/wrtc honours through its nonstandard `portRange` configuration.
 */
import { isIP } from 'node:net';

export interface WebRtcOptions {
  /** RTCIceServer entries (STUN/TURN); default none. */
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /** UDP ports the peer connections bind (both inclusive). */
  portRange?: { min: number; max: number };
  /** Longest wait for ICE gathering before answering with the candidates found (default 3000). */
  iceGatheringTimeoutMs?: number;
  /**
   * The SIP transports a WebRTC offer is taken over; default `['ws']` (WebSocket, with or
   * without TLS), where browsers are. Over any other an offer gets 488 before a peer connection
   * exists: its ICE checks go to the addresses the offer names, and a UDP source can be forged,
   * so one datagram would have the engine send STUN to 32 addresses of a stranger's choosing.
   * Add 'udp', 'tcp' or 'tls' for WebRTC endpoints behind an SBC or proxy.
   */
  transports?: WebRtcTransport[];
  /**
   * The public address of a host behind 1:1 NAT: each answer also names every UDP host candidate
   * there, same port (advertised-candidates.ts). Default `rtp.advertisedAddress`.
   */
  advertisedAddress?: string;
  /**
   * Browser peer connections the process holds at most; past it a browser's call gets 503 with
   * Retry-After. Default: what half the process's open-file limit leaves room for, 64 descriptors
   * each (156 at a limit of 20,000); see peer-connection-gate.ts.
   */
  maxPeerConnections?: number;
  /**
   * Browser peer connections one source (an IPv4 address or an IPv6 /64; the caller a trusted
   * proxy in front names) holds at most, open or being answered; past it its call gets 486 Busy
   * Here. Default a quarter of `maxPeerConnections` (39 of 156), at least 1: one address could
   * otherwise take them all and shut every other browser out. Raise it for an office of
   * browsers behind one NAT, or a front that does not name its callers.
   */
  maxPeerConnectionsPerSource?: number;
}

/** Every SIP transport a WebRTC offer may be taken over. */
export const WEBRTC_TRANSPORTS = ['ws', 'udp', 'tcp', 'tls'] as const;
export type WebRtcTransport = (typeof WEBRTC_TRANSPORTS)[number];

/** The transports a WebRTC offer is taken over (`WebRtcOptions.transports`). */
export function webRtcTransports(options: WebRtcOptions | undefined): ReadonlyArray<string> {
  return options?.transports ?? ['ws'];
}

export function checkWebRtcOptions(options: WebRtcOptions | undefined): void {
  const range = options?.portRange;
  if (range) {
    const ok = (p: number): boolean => Number.isInteger(p) && p >= 1024 && p <= 65535;
    if (!ok(range.min) || !ok(range.max) || range.min > range.max) {
      throw new RangeError(
        `webrtc.portRange must be integers 1024-65535 with min <= max, got ${range.min}-${range.max}`
      );
    }
  }
  const transports: unknown = options?.transports;
  if (transports !== undefined) {
    if (!Array.isArray(transports) || transports.some((t) => !isWebRtcTransport(t)))
      throw new RangeError(
        `webrtc.transports must be a list of ${WEBRTC_TRANSPORTS.map((t) => `'${t}'`).join(', ')}`
      );
  }
  const advertised = options?.advertisedAddress;
  if (advertised !== undefined && (typeof advertised !== 'string' || isIP(advertised) === 0))
    throw new RangeError(
      `webrtc.advertisedAddress must be an IPv4 or IPv6 address, got '${String(advertised)}'`
    );
  for (const key of ['maxPeerConnections', 'maxPeerConnectionsPerSource'] as const) {
    const most = options?.[key];
    if (most !== undefined && !(Number.isInteger(most) && most >= 1))
      throw new RangeError(`webrtc.${key} must be a positive integer, got ${String(most)}`);
  }
  const timeout = options?.iceGatheringTimeoutMs;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
    throw new RangeError(`webrtc.iceGatheringTimeoutMs must be a non-negative number of ms, got ${timeout}`);
  }
}

export function isWebRtcTransport(value: unknown): value is WebRtcTransport {
  return (WEBRTC_TRANSPORTS as readonly unknown[]).includes(value);
}
