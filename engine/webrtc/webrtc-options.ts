/**
 * How the engine's WebRTC legs gather ICE candidates. Host candidates only by default (no
 * STUN server is contacted unless one is configured); an optional UDP port range, which
 * @roamhq/wrtc honours through its nonstandard `portRange` configuration.
 */
export interface WebRtcOptions {
  /** RTCIceServer entries (STUN/TURN); default none. */
  iceServers?: Array<{ urls: string | string[]; username?: string; credential?: string }>;
  /** UDP ports the peer connections bind (both inclusive). */
  portRange?: { min: number; max: number };
  /** Longest wait for ICE gathering before answering with the candidates found (default 3000). */
  iceGatheringTimeoutMs?: number;
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
  const timeout = options?.iceGatheringTimeoutMs;
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout < 0)) {
    throw new RangeError(`webrtc.iceGatheringTimeoutMs must be a non-negative number of ms, got ${timeout}`);
  }
}
