/**
 * Channel ids: `ch-<process tag>-<n>`. The counter keeps them apart within a process (every engine
 * in it shares it); the tag, 48 random bits drawn once per process, keeps them apart across
 * restarts and the nodes of a cluster, so an application may keep them as a cloud API's call ids
 * are kept (a record of calls, keyed by them). Before, `ch1` came back after every restart and on
 * every node.
 */
import { randomBytes } from 'node:crypto';

const PROCESS_TAG = randomBytes(6).toString('hex');
let next = 1;

export function nextChannelId(): string {
  return `ch-${PROCESS_TAG}-${next++}`;
}
