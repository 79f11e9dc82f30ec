/**
 * A cluster whose engines require digest authentication of every caller (`access.auth`): the
 * members' trunk legs carry no credentials but a signed trunk tag, which admits them. Before,
 * they were challenged, never got in, and a room split into one conference per node.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { peakToneDb, TONE_AMPLITUDE } from './support/levels.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';
import { ClusterNode } from './support/cluster-nodes.js';

const PASSWORD = 'cluster-test-password';

describe.skipIf(!hasPeer('redis-server'))('a cluster behind digest authentication', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(['a', 'b'], { firstHost: 20, rtpBase: 53000 }, redis.socketPath, {
      NODE_AUTH_PASSWORD: PASSWORD
    });
  }, 60000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  async function phone(toneHz: number, user: string, password = PASSWORD): Promise<TonePhone> {
    const p = await TonePhone.create({
      toneHz,
      user,
      amplitude: TONE_AMPLITUDE,
      auth: { username: user, password }
    });
    phones.push(p);
    return p;
  }

  const transferred = (node: ClusterNode, room: string, user: string): Promise<void> =>
    waitFor(
      () => node.eventsOf(user, room).some((e) => e.type === 'transfer' && e.state === 'TRANSFERRED'),
      15000
    );

  it('admits the signed trunk leg without credentials; the two callers hear each other', async () => {
    const alice = await phone(440, 'alice');
    const bob = await phone(980, 'bob');
    await alice.call(nodes[0].uri('locked'));
    await transferred(nodes[0], 'locked', 'alice');
    await bob.call(nodes[1].uri('locked'));
    await transferred(nodes[1], 'locked', 'bob');
    // alice and node-b's trunk leg in node-a's room: one conference, not one per node
    await waitForAsync(async () => (await nodes[0].status(['locked'])).rooms.locked === 2, 15000);
    await sleep(600);
    alice.clearReceived();
    bob.clearReceived();
    await sleep(1200);
    expect(peakToneDb(alice.receivedPcm(), 980)).toBeGreaterThan(-40);
    expect(peakToneDb(bob.receivedPcm(), 440)).toBeGreaterThan(-40);
    await Promise.all([alice.hangUp(), bob.hangUp()]);
    await waitForAsync(async () => (await redis.keys('uasmedia:room:locked:*')).length === 0, 15000);
  }, 60000);

  it('still refuses a caller with a wrong password', async () => {
    const mallory = await phone(440, 'mallory', 'wrong');
    await expect(mallory.call(nodes[0].uri('locked2'))).rejects.toThrow();
    expect(nodes[0].eventsOf('mallory', 'locked2')).toEqual([]);
  }, 30000);
});
