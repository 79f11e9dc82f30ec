/**
 * Two RtpSessions talking over loopback on a 20 ms tick, for tests of who is heard and answered:
 * each frame's payload starts with its index, so the receiver can tell whose frame it played.
 */
import type { RtpSession } from '../../engine/rtp/rtp-session.js';
import { sleep } from './wait.js';

/** The options of a PCMU session these tests exchange frames with: no RTCP, a 40 ms jitter buffer start. */
export const PCMU_SESSION = {
  payloadType: 0,
  clockRateHz: 8000,
  samplesPerFrame: 160,
  rtcpIntervalMs: 0,
  jitter: { startDelayMs: 40 }
} as const;

/** A packet buffer for RtpSession.sendFrame: 12 bytes for the header, then a 160-byte payload starting with `index`. */
export function indexedFrame(index: number): Buffer {
  const p = Buffer.alloc(12 + 160, 0xff);
  p.writeUInt32BE(index, 12);
  return p;
}

export interface ExchangeOptions {
  /** Ticks to run at least. */
  ticks: number;
  /** A sends frames from this index on (default 0); B's are 100 000 on. */
  from?: number;
  /** Then on until each side has heard this many frames (at most 500 ticks, so a loaded machine only makes it slower). */
  untilHeard?: number;
  onTick?: (i: number) => void;
}

/** Each tick A and B send a frame, B plays one and A reads one: B's played indices and how many frames A heard. */
export async function exchangeFrames(
  a: RtpSession,
  b: RtpSession,
  { ticks, from = 0, untilHeard, onTick }: ExchangeOptions
): Promise<{ played: number[]; aGot: number }> {
  const played: number[] = [];
  const target = new Uint8Array(1280);
  let aGot = 0;
  const limit = untilHeard === undefined ? ticks : Math.max(ticks, 500);
  for (let i = 0; i < limit; i++) {
    if (untilHeard !== undefined && i >= ticks && played.length >= untilHeard && aGot >= untilHeard) break;
    a.sendFrame(indexedFrame(from + i), 160);
    b.sendFrame(indexedFrame(100_000 + i), 160);
    onTick?.(i);
    await sleep(20);
    if (b.readFrame(target) === 160) played.push(new DataView(target.buffer).getUint32(0));
    if (a.readFrame(target) === 160) aGot++;
  }
  return { played, aGot };
}
