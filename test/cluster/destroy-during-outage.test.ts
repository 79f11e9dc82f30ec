/**
 * destroyOnExit while Redis is down: the boss on node b leaves while the directory is gone, and
 * Redis comes back empty (restarted without persistence). The parties on a and c must still be
 * retrieved once it is back, as they are at once when it answers, and the room must not be made
 * again from their sections in the emptied directory. Three engine processes on 127.0.0.30-32.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';
import { ClusterNode, callIntoRoom } from './support/cluster-nodes.js';

const LEASE_MS = 1500;
const PHONE_HOST = '127.0.0.39';

const haveRedis = hasPeer('redis-server');

describe.skipIf(!haveRedis)('destroyOnExit during a Redis outage', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  const call = (node: ClusterNode, room: string, user: string): Promise<TonePhone> =>
    callIntoRoom(node, room, user, PHONE_HOST, phones);
  const ownerOf = (room: string): Promise<string | null> => redis.get(`uasmedia:room:${room}:owner`);

  const retrieved = (node: ClusterNode, room: string, user: string) =>
    node.eventsOf(user, room).find((e) => e.type === 'retrieved');

  beforeEach(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(
      ['a', 'b', 'c'],
      { firstHost: 30, rtpBase: 59000, rtpPorts: 200 },
      redis.socketPath,
      { NODE_LEASE_MS: String(LEASE_MS) }
    );
  }, 60000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  it('retrieves every party on every node once Redis is back, even empty', async () => {
    await call(nodes[0], 'dx', 'alice');
    await waitForAsync(async () => (await ownerOf('dx'))?.startsWith('node-a ') === true);
    const boss = await call(nodes[1], 'dx', 'boss');
    await call(nodes[2], 'dx', 'carol');
    await waitForAsync(async () => (await nodes[0].status(['dx'])).rooms.dx === 3, 15000);

    await redis.crash();
    await boss.rfc4733Digit('#', 200);
    await waitFor(() => retrieved(nodes[1], 'dx', 'boss') !== undefined, 10000);
    // Longer than a lease without Redis: every node has tried it, and failed, several times.
    await sleep(LEASE_MS * 2);
    expect(retrieved(nodes[0], 'dx', 'alice'), 'no news can reach a while Redis is away').toBeUndefined();
    await redis.restart();

    await waitFor(
      () =>
        retrieved(nodes[0], 'dx', 'alice') !== undefined && retrieved(nodes[2], 'dx', 'carol') !== undefined,
      20000
    );
    expect(retrieved(nodes[0], 'dx', 'alice')?.transferCause).toBe(
      retrieved(nodes[1], 'dx', 'boss')?.transferCause
    );
    for (const node of nodes)
      await waitForAsync(async () => (await node.status(['dx'])).rooms.dx === 0, 10000);
    // Nobody made the room again in the emptied directory.
    await sleep(LEASE_MS);
    expect(await redis.keys('uasmedia:room:dx:*')).toEqual([]);
    for (const node of nodes) expect((await node.status(['dx'])).roles.dx).toBeUndefined();
  }, 90000);

  it('a new room of the same name made afterwards is not destroyed by the old one', async () => {
    await call(nodes[0], 'again', 'alice');
    const boss = await call(nodes[1], 'again', 'boss');
    await waitForAsync(async () => (await nodes[0].status(['again'])).rooms.again === 2, 15000);
    await boss.rfc4733Digit('#', 200);
    await waitFor(() => retrieved(nodes[0], 'again', 'alice') !== undefined, 10000);
    await call(nodes[2], 'again', 'dave');
    await call(nodes[0], 'again', 'erin');
    await waitForAsync(async () => (await nodes[2].status(['again'])).rooms.again >= 2, 15000);
    // Several periodic checks later both are still in the new room.
    await sleep(LEASE_MS * 2);
    expect(retrieved(nodes[2], 'again', 'dave')).toBeUndefined();
    expect(retrieved(nodes[0], 'again', 'erin')).toBeUndefined();
  }, 60000);
});
