/**
 * A member node killed with SIGKILL sends no BYE for its trunk leg. The owner must drop that leg
 * once the node's heartbeat lapses (as a SIP trunk marks a peer down on a failed OPTIONS
 * qualify), not at the RTP inactivity timeout, here set to 120 s so only that check can end it:
 * no ghost party in the room, and when the real callers leave the owner frees the room (its
 * keys, ports, slots and channels) at once; and a party that was talking there stops talking for
 * the others, though its node never says so. Three engine processes on 127.0.0.33-35.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { waitForAsync } from '../support/wait.js';
import { ClusterNode, callIntoRoom } from './support/cluster-nodes.js';
import { TONE_AMPLITUDE } from './support/levels.js';

const LEASE_MS = 1500;
const PHONE_HOST = '127.0.0.39';
/** Far beyond every wait below: the RTP timeout never ends the dead node's leg in this test. */
const RTP_INACTIVITY_S = 120;

const haveRedis = hasPeer('redis-server');

describe.skipIf(!haveRedis)('a member killed without a goodbye', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  const call = (node: ClusterNode, room: string, user: string): Promise<TonePhone> =>
    callIntoRoom(node, room, user, PHONE_HOST, phones);
  const ownerOf = (room: string): Promise<string | null> => redis.get(`uasmedia:room:${room}:owner`);

  beforeEach(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(
      ['a', 'b', 'c'],
      { firstHost: 33, rtpBase: 59600, rtpPorts: 100 },
      redis.socketPath,
      { NODE_LEASE_MS: String(LEASE_MS), NODE_RTP_INACTIVITY_S: String(RTP_INACTIVITY_S) }
    );
  }, 60000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  it("the owner drops the dead member's trunk leg and frees the room when the callers leave", async () => {
    const [a, b, c] = nodes;
    const idle = (await a.status([])).resources;
    const alice = await call(a, 'k', 'alice');
    await waitForAsync(async () => (await ownerOf('k'))?.startsWith('node-a ') === true);
    const bob = await call(b, 'k', 'bob');
    const carol = await call(c, 'k', 'carol');
    await waitForAsync(async () => (await a.status(['k'])).rooms.k === 3, 15000); // alice + two trunk legs

    await b.kill();
    const killedAt = Date.now();
    bob.ended = true; // its node is gone: no BYE to wait for
    // Only the owner's heartbeat check can take the dead leg out within this wait.
    await waitForAsync(async () => (await a.status(['k'])).rooms.k === 2, 60000);
    console.log(`the dead member's leg was dropped ${Date.now() - killedAt} ms after the kill`);
    expect(/^uasmedia_cluster_trunk_legs 1$/m.test((await a.status([])).metrics)).toBe(true);

    await Promise.all([alice.hangUp(), carol.hangUp()]);
    await waitForAsync(async () => (await redis.keys('uasmedia:room:k:*')).length === 0, 30000);
    await waitForAsync(async () => {
      const now = (await a.status(['k'])).resources;
      return (
        now.rooms === idle.rooms &&
        now.rtpPortPairs === idle.rtpPortPairs &&
        now.partySlots === idle.partySlots &&
        now.roomSlots === idle.roomSlots &&
        now.channels === idle.channels
      );
    }, 30000);
    console.log(`the owner was idle ${Date.now() - killedAt} ms after the kill`);
    expect((await a.status(['k'])).roles.k).toBeUndefined();
  }, 120000);

  it('a party talking on the killed member stops talking for the owner and the other members', async () => {
    const [a, b, c] = nodes;
    await call(a, 't', 'alice');
    await waitForAsync(async () => (await ownerOf('t'))?.startsWith('node-a ') === true);
    const bob = await TonePhone.create({
      toneHz: 620,
      amplitude: TONE_AMPLITUDE,
      user: 'bob',
      host: PHONE_HOST
    });
    phones.push(bob);
    await bob.call(b.uri('t'));
    await call(c, 't', 'carol');
    const heardOnAAndC = async (event: string): Promise<boolean> =>
      (await a.status([])).talking.includes(event) && (await c.status([])).talking.includes(event);
    await waitForAsync(() => heardOnAAndC('t talking node-b'), 15000);

    await b.kill();
    bob.ended = true;
    // Node b will never say bob stopped: its heartbeat lapsing must.
    await waitForAsync(() => heardOnAAndC('t stoppedTalking node-b'), 30000);
    // Nor that he left: on node a, whose application saw him come, he leaves as the node is lost.
    const bobOnA = (await a.status([])).presence.filter((e) => e.startsWith('t ') && e.includes(' node-b '));
    expect(bobOnA).toHaveLength(2);
    expect(bobOnA[0]).toMatch(/^t joined node-b \S+$/);
    expect(bobOnA[1]).toBe(`${bobOnA[0].replace(' joined ', ' left ')} nodeLost`);
  }, 60000);
});
