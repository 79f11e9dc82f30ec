/**
 * Redis stopped (SIGSTOP) for more than a lease under a running room, then continued: its clock ran
 * on, so every lease and heartbeat expired at once, and the nodes' heartbeats during the stall
 * had failed. A node that looked before the others had beaten again took them for dead: the
 * owner dropped their trunk legs and reported their callers gone ('nodeLost'), never to come
 * back, and the room was cut for 2 s (measured with three nodes). A missing heartbeat now proves
 * a death only once the directory has held this node's own heartbeat for a lease.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitForAsync } from '../support/wait.js';
import { ClusterNode, callIntoRoom } from './support/cluster-nodes.js';

const LEASE_MS = 6000;

describe.skipIf(!hasPeer('redis-server'))('Redis stalled under a running room', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(
      ['a', 'b', 'c'],
      { network: '127.0.15', firstHost: 40, rtpBase: 45800, rtpPorts: 50 },
      redis.socketPath,
      { NODE_LEASE_MS: String(LEASE_MS) }
    );
  }, 60000);

  afterAll(async () => {
    redis?.thaw();
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  it('takes no live node for dead once Redis is back', async () => {
    const [a, b, c] = nodes;
    await callIntoRoom(a, 'stall', 'alice', '127.0.15.44', phones);
    await callIntoRoom(b, 'stall', 'bob', '127.0.15.45', phones);
    await callIntoRoom(c, 'stall', 'carol', '127.0.15.46', phones);
    const bob = b.eventsOf('bob', 'stall').find((e) => e.type === 'transfer');
    const channelId = bob && 'channelId' in bob ? bob.channelId : '';
    await waitForAsync(
      async () => (await a.status(['stall'])).presence.includes(`stall joined node-b ${channelId}`),
      10000
    );
    redis.freeze();
    await sleep(LEASE_MS + 4000);
    redis.thaw();
    // Every node has beaten again, and the room is whole (one owner, one trunk leg into it).
    await sleep(LEASE_MS);
    await waitForAsync(async () => {
      const sizes = await Promise.all(nodes.map(async (n) => (await n.status(['stall'])).rooms.stall));
      return sizes.reduce((x, y) => x + y) === 7; // three callers, two trunk legs on both ends
    }, 10000);
    for (const node of nodes)
      expect((await node.status(['stall'])).presence.filter((e) => e.endsWith(' nodeLost'))).toEqual([]);
  }, 60000);
});
