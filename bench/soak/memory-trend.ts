/**
 * RSS over a soak, with the swings taken out that are not growth: the pages V8 holds for its heap
 * come and go by tens of MB from one sample to the next, so RSS less them is averaged over each
 * part of the run. A leak shows as parts that rise from first to last; a run that only warms up
 * (compiled code, allocator arenas) rises early and levels off.
 */
import type { SoakSample } from './protocol.js';

export interface MemoryTrend {
  /** Mean of RSS less the heap's held pages over each part of the run, in MB, first to last. */
  rssOutsideHeapMb: number[];
  /** Mean RSS over each part, in MB. */
  rssMb: number[];
}

export function memoryTrend(samples: readonly SoakSample[], parts: number): MemoryTrend {
  const count = Math.min(parts, samples.length);
  const rssOutsideHeapMb: number[] = [];
  const rssMb: number[] = [];
  for (let part = 0; part < count; part++) {
    const from = Math.floor((part * samples.length) / count);
    const to = Math.floor(((part + 1) * samples.length) / count);
    let outside = 0;
    let rss = 0;
    for (let i = from; i < to; i++) {
      outside += samples[i].rssBytes - samples[i].heapCommittedBytes;
      rss += samples[i].rssBytes;
    }
    rssOutsideHeapMb.push(outside / (to - from) / 2 ** 20);
    rssMb.push(rss / (to - from) / 2 ** 20);
  }
  return { rssOutsideHeapMb, rssMb };
}
