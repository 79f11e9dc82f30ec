/** Messages between the soak orchestrator and its engine process (over the fork IPC channel). */
import type { ResourceCounts } from '../../engine/index.js';
import type { ResidentByKind } from './memory-map.js';

export interface SoakSample {
  resources: ResourceCounts;
  rssBytes: number;
  heapUsedBytes: number;
  /** The part of the heap that is machine code (V8's code spaces): it grows as functions get optimized. */
  codeSpaceBytes: number;
  /** What V8 holds from the system for its heap (heapTotal): RSS that the used heap does not explain. */
  heapCommittedBytes: number;
  externalBytes: number;
  /** RSS by kind of mapping (memory-map.ts), where Linux's /proc/self/smaps is there to read. */
  resident?: ResidentByKind;
  /** How calls ended, by cause, and anything else counted. */
  outcomes: Record<string, number>;
  ticks: number;
  lateTicks: number;
}

export type ToSoakEngine =
  { type: 'sample'; id: number; fullGc: boolean; heapSnapshotPath?: string } | { type: 'stop' };

export type FromSoakEngine =
  { type: 'ready'; port: number } | { type: 'sample'; id: number; sample: SoakSample };
