/**
 * A member node stopped (SIGSTOP) for a few leases and continued: the owner took it for dead
 * (its heartbeat lapsed), dropped its trunk leg and reported its caller gone ('nodeLost'), as it
 * should. Once it is back, its trunk leg re-joins and its caller is heard again, and the owner
 * must report that caller back in the room: before, it never did, so an application listing
 * the room from its events had a caller missing for the rest of the call.
 */
import { describe, it, beforeAll, afterAll } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitForAsync } from '../support/wait.js';
import { ClusterNode, callIntoRoom } from './support/cluster-nodes.js';

describe.skipIf(!hasPeer('redis-server'))('a member node paused and continued', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(
      ['a', 'b'],
      { network: '127.0.15', firstHost: 30, rtpBase: 45700, rtpPorts: 50 },
      redis.socketPath
    );
  }, 60000);

  afterAll(async () => {
    for (const node of nodes) node.resume();
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  it("the owner reports the member's caller back once the member is back in the room", async () => {
    const [a, b] = nodes;
    await callIntoRoom(a, 'back', 'alice', '127.0.15.32', phones);
    await callIntoRoom(b, 'back', 'bob', '127.0.15.33', phones);
    const bob = b.eventsOf('bob', 'back').find((e) => e.type === 'transfer');
    const channelId = bob && 'channelId' in bob ? bob.channelId : '';
    const joined = `back joined node-b ${channelId}`;
    const lost = `back left node-b ${channelId} nodeLost`;
    await waitForAsync(async () => (await a.status(['back'])).presence.includes(joined), 10000);
    b.pause();
    await waitForAsync(async () => (await a.status(['back'])).presence.includes(lost), 15000);
    await sleep(1000);
    b.resume();
    await waitForAsync(async () => {
      const presence = (await a.status(['back'])).presence;
      return presence.lastIndexOf(joined) > presence.indexOf(lost);
    }, 15000);
    // Alice and b's trunk leg again: b says its caller is back once its side of the leg is in the
    // room, which can be a moment before a has admitted its side.
    await waitForAsync(async () => (await a.status(['back'])).rooms.back === 2, 10000);
  }, 60000);
});
