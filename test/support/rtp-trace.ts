/**
 * Seeded network traces for the jitter buffer: a sender emitting one packet per frame, and a
 * network that delays, loses (randomly or in Gilbert-Elliott bursts), duplicates and reorders
 * them. The same seed always gives the same trace, so tests and the bench are reproducible.
 */
import { mulberry32 as seededRandom } from './prng.js';
export { seededRandom };

export interface TracePacket {
  /** Index of the frame in the sent stream (0, 1, 2 ...). */
  index: number;
  sequenceNumber: number;
  timestamp: number;
  arrivalMs: number;
  marker: boolean;
}

export interface TraceOptions {
  seed: number;
  packets: number;
  frameMs?: number;
  samplesPerFrame?: number;
  initialSequence?: number;
  initialTimestamp?: number;
  /** Fixed path delay. */
  baseDelayMs?: number;
  /** Mean of an exponential extra delay (heavy-ish tail, like real queues). */
  jitterMeanMs?: number;
  /** Independent random loss probability. */
  lossRate?: number;
  /** Gilbert-Elliott burst loss: P(good→bad), P(bad→good); every packet in the bad state is lost. */
  burst?: { enter: number; leave: number };
  /** Probability a packet is held back and arrives after the next one(s). */
  reorderRate?: number;
  /** Probability a packet arrives twice. */
  duplicateRate?: number;
}

/** The packets that arrive, sorted by arrival time. */
export function generateTrace(opts: TraceOptions): { sent: number; arrivals: TracePacket[] } {
  const rnd = seededRandom(opts.seed);
  const frameMs = opts.frameMs ?? 20;
  const spf = opts.samplesPerFrame ?? 160;
  const seq0 = opts.initialSequence ?? 1000;
  const ts0 = opts.initialTimestamp ?? 123456;
  const base = opts.baseDelayMs ?? 30;
  const arrivals: TracePacket[] = [];
  let bad = false;
  for (let i = 0; i < opts.packets; i++) {
    if (opts.burst) bad = bad ? rnd() >= opts.burst.leave : rnd() < opts.burst.enter;
    if (bad) continue;
    if (opts.lossRate !== undefined && rnd() < opts.lossRate) continue;
    let delay = base;
    if (opts.jitterMeanMs) delay += -Math.log(1 - rnd()) * opts.jitterMeanMs;
    if (opts.reorderRate !== undefined && rnd() < opts.reorderRate) delay += frameMs * (1 + rnd() * 1.5);
    const packet: TracePacket = {
      index: i,
      sequenceNumber: (seq0 + i) & 0xffff,
      timestamp: (ts0 + i * spf) >>> 0,
      arrivalMs: i * frameMs + delay,
      marker: i === 0
    };
    arrivals.push(packet);
    if (opts.duplicateRate !== undefined && rnd() < opts.duplicateRate)
      arrivals.push({ ...packet, arrivalMs: packet.arrivalMs + rnd() * 10 });
  }
  arrivals.sort((a, b) => a.arrivalMs - b.arrivalMs);
  return { sent: opts.packets, arrivals };
}
