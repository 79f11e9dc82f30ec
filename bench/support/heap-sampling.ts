/**
 * Bytes a function allocates per call, from V8's sampling heap profiler (which scales its samples
 * to an estimate of all allocations): heap growth between collections is too noisy for the few
 * bytes a frame should cost.
 */
import { Session } from 'node:inspector/promises';

interface SamplingNode {
  selfSize: number;
  callFrame: { url: string };
  children: SamplingNode[];
}

/** `counts(url)`: which allocations to count, by the script of the function that made them (default: all but the profiler's own). */
export async function bytesPerCall(
  fn: () => void,
  calls: number,
  counts: (url: string) => boolean = () => true
): Promise<number> {
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 128,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true
    });
    for (let i = 0; i < calls; i++) fn();
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
      profile: { head: SamplingNode };
    };
    let bytes = 0;
    const walk = (node: SamplingNode): void => {
      const url = node.callFrame.url;
      if (!url.startsWith('node:inspector') && counts(url)) bytes += node.selfSize;
      node.children.forEach(walk);
    };
    walk(profile.head);
    return bytes / calls;
  } finally {
    session.disconnect();
  }
}
