/**
 * Browser peer connections each source holds, open or being answered (waiting for its turn
 * included). Without a share per source one address took every peer connection the process
 * holds: one WebSocket sending INVITEs in waves of 60 held all 156 within 17 s (an answer that
 * never connects lasts about 23 s, one whose ICE connects for as long as its sender likes), and
 * every other browser's call got 503. A source is an IPv4 address or an IPv6 /64, the caller's
 * as a trusted proxy in front names it (as for the call ceilings, sip/admission/source-key.ts).
 */
import { sourceKey } from '../../sip/index.js';
import { WebRtcBusyError } from './peer-connection-gate.js';

/** The default share of one source: a quarter of what the process holds, at least one. */
export function defaultMaxPeerConnectionsPerSource(maxPeerConnections: number): number {
  return Math.max(1, Math.floor(maxPeerConnections / 4));
}

export class PeerConnectionsPerSource {
  readonly #held = new Map<string, number>();

  /** Peer connections `source` holds now (tests, leak checks). */
  heldBy(source: string): number {
    return this.#held.get(sourceKey(source)) ?? 0;
  }

  /**
   * Counts one more peer connection for `source` and returns its release (idempotent). Throws
   * `WebRtcBusyError` (scope 'source') when the source already holds `most`.
   */
  take(source: string, most: number): () => void {
    const key = sourceKey(source);
    const held = this.#held.get(key) ?? 0;
    if (held >= most)
      throw new WebRtcBusyError(
        `${source} holds ${held} browser peer connections, its most (webrtc.maxPeerConnectionsPerSource)`,
        'source'
      );
    this.#held.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#held.get(key) ?? 1) - 1;
      if (left > 0) this.#held.set(key, left);
      else this.#held.delete(key);
    };
  }
}
