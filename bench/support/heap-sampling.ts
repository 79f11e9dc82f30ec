/**
 * Bytes a function allocates per call, from V8's sampling heap profiler (which scales its samples
 * to an estimate of all allocations): heap growth between collections is too noisy for the few
 * bytes a frame should cost. Only allocations made inside the calls count: the profiler's own
 * promises and the microtasks that settle them, about 2 bytes per participant-frame of
 * `npm run bench -- media-path`, are not the function's.
 */
import { Session } from 'node:inspector/promises';

interface SamplingNode {
  selfSize: number;
  callFrame: { url: string; functionName: string };
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
    measuredCalls(fn, calls);
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
      profile: { head: SamplingNode };
    };
    let bytes = 0;
    const walk = (node: SamplingNode, inside: boolean): void => {
      if (inside && counts(node.callFrame.url)) bytes += node.selfSize;
      for (const child of node.children)
        walk(child, inside || node.callFrame.functionName === measuredCalls.name);
    };
    walk(profile.head, false);
    return bytes / calls;
  } finally {
    session.disconnect();
  }
}

/** The frame every counted allocation is made under (by its name in the sampled stacks). */
function measuredCalls(fn: () => void, calls: number): void {
  for (let i = 0; i < calls; i++) fn();
}
