/**
 * Jitter buffer, trace-driven: for seeded network traces (clean, moderate and heavy jitter,
 * random loss, Gilbert-Elliott burst loss, reordering with duplicates) the added delay
 * (arrival to playout), the late-loss (packets that arrived but were too late to play) and
 * the share of frames concealed, plus the cost of one push + pop per 20 ms frame.
 */
import Benchmark from 'benchmark';
import type { BenchReport } from '../report.js';
import { JitterBuffer } from '../../engine/rtp/jitter-buffer.js';
import { playTrace } from '../../test/support/rtp-playout.js';
import { generateTrace } from '../../test/support/rtp-trace.js';
import type { TraceOptions } from '../../test/support/rtp-trace.js';

const PACKETS = 3000; // 60 s per trace

const TRACES: Record<string, TraceOptions> = {
  clean: { seed: 1, packets: PACKETS },
  'jitter-10ms': { seed: 2, packets: PACKETS, jitterMeanMs: 10 },
  'jitter-30ms': { seed: 3, packets: PACKETS, jitterMeanMs: 30 },
  'loss-5pct': { seed: 4, packets: PACKETS, jitterMeanMs: 5, lossRate: 0.05 },
  'burst-loss': { seed: 5, packets: PACKETS, jitterMeanMs: 5, burst: { enter: 0.02, leave: 0.25 } },
  'reorder-5pct': { seed: 6, packets: PACKETS, jitterMeanMs: 5, reorderRate: 0.05, duplicateRate: 0.02 }
};

function nsPerFrame(): number {
  const jb = new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160 });
  const payload = new Uint8Array(160);
  const out = new Uint8Array(160);
  const packet = {
    sequenceNumber: 0,
    timestamp: 0,
    ssrc: 1,
    marker: false,
    payloadOffset: 0,
    payloadLength: 160,
    arrivalMs: 0
  };
  let i = 0;
  const bench = new Benchmark(
    'push+pop',
    () => {
      packet.sequenceNumber = i & 0xffff;
      packet.timestamp = (i * 160) >>> 0;
      packet.arrivalMs = i * 20;
      jb.push(packet, payload);
      jb.pop(out, i * 20 + 45);
      i++;
    },
    { maxTime: 1 }
  );
  bench.run();
  return 1e9 / bench.hz;
}

export async function run(report: BenchReport): Promise<void> {
  const ns = nsPerFrame();
  for (const [name, options] of Object.entries(TRACES)) {
    const { sent, arrivals } = generateTrace(options);
    const r = playTrace(arrivals, sent);
    const s = r.buffer.stats();
    report.add({
      suite: 'jitter-buffer',
      name,
      nsPerFrame: ns,
      extra: {
        addedDelayMs: r.addedDelayMs,
        lateLossPct: r.lateLossPct,
        concealedPct: (100 * r.lost) / Math.max(1, r.activeTicks),
        networkLossPct: (100 * (sent - new Set(arrivals.map((a) => a.index)).size)) / sent,
        finalTargetMs: s.targetDelayMs
      }
    });
  }
}
