/**
 * What the engine holds right now, counted where it is held: descriptors from the kernel's own
 * table, ports from the pool, slots from the DSP core, channels and rooms from their registries,
 * timers from Node's list of active resources, workers from the prompt service. A long run is
 * healthy when these come back to where they started; `engine.resources()`, the Prometheus
 * gauges and the soak script all read this one snapshot.
 */
import { readdirSync } from 'node:fs';

export interface ResourceCounts {
  /** Open file descriptors of the whole process (workers share the table); -1 where /proc is missing. */
  openDescriptors: number;
  /** RTP/RTCP UDP port pairs bound for calls. */
  rtpPortPairs: number;
  /** DSP party slots (one per call with media). */
  partySlots: number;
  /** DSP room slots (one per conference, one per call while it is on its own). */
  roomSlots: number;
  /** Channels with a call: a caller in a conference is two, its own and its transfer's leg (`otherCall`). */
  channels: number;
  /** Conference rooms. */
  rooms: number;
  /** Active, referenced timers of the process (Node's `Timeout` resources). */
  timers: number;
  /** Speech synthesis worker threads. */
  workers: number;
  /** Speech and prompt-file requests waiting for a worker or in one's hands. */
  speechPending: number;
}

export const RESOURCE_NAMES: ReadonlyArray<keyof ResourceCounts> = [
  'openDescriptors',
  'rtpPortPairs',
  'partySlots',
  'roomSlots',
  'channels',
  'rooms',
  'timers',
  'workers',
  'speechPending'
];

export function countOpenDescriptors(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

export function countActiveTimers(): number {
  let n = 0;
  for (const kind of process.getActiveResourcesInfo()) if (kind === 'Timeout') n++;
  return n;
}
