/**
 * A room's section keeps track of which of its parties are trunk legs (other nodes' callers)
 * and which are local callers. Trunk legs come and go with the other nodes' callers while the
 * room lives on: the section must forget each one when it ends, or a long-lived room grows by
 * one entry per caller that ever joined it from another node.
 *
 * Two engines in this process share a temporary redis-server: alice keeps the room alive on
 * `owner`, and callers come and go one after another on `member`, each bringing a trunk leg.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { Engine, ConferenceLifetimeControl, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { waitFor, waitForAsync } from '../support/wait.js';

const haveRedis = hasPeer('redis-server');

/** Every caller joins the room its request URI names; a `wait...` caller does not start it. */
function clusterEngine(nodeId: string, redisSocket: string, minPort: number): Engine {
  const engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort, maxPort: minPort + 49 },
    logLevel: 'warn',
    cluster: { redis: redisSocket, nodeId, leaseMs: 1500 }
  });
  engine.on('call', async (channel: UASCallChannel) => {
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    const room = /sip:([a-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? '';
    await channel.answer();
    await channel.transferToConferenceRoom(engine.createChannel(), room, {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: !user.startsWith('wait') })
    });
  });
  return engine;
}

describe.skipIf(!haveRedis)('trunk legs of a long-lived room', () => {
  let redis: RedisServer;
  let owner: Engine;
  let member: Engine;
  const phones: TonePhone[] = [];

  const size = (engine: Engine, room: string): number => engine.rooms.get(room)?.size ?? 0;

  async function caller(engine: Engine, room: string, user: string): Promise<TonePhone> {
    const phone = await TonePhone.create({ toneHz: null, user });
    phones.push(phone);
    await phone.call(`sip:${room}@127.0.0.1:${engine.sipAddresses()[0].port}`);
    return phone;
  }

  /** Until every trunk leg of the owner has ended (its channel is back to IDLE). */
  async function ownerTrunksEnded(): Promise<void> {
    await waitForAsync(async () => /^uasmedia_cluster_trunk_legs 0$/m.test(await owner.metrics.metrics()));
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    owner = clusterEngine('owner', redis.socketPath, 55700);
    member = clusterEngine('member', redis.socketPath, 55750);
    await Promise.all([owner.start(), member.start()]);
  }, 30000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all([member?.stop(), owner?.stop()]);
    await redis?.stop();
    expect(owner.rtpPortsInUse + member.rtpPortsInUse).toBe(0);
  }, 30000);

  it('forgets each trunk leg when it ends: after callers come and go on another node, only the live one is counted', async () => {
    const room = 'lasting';
    await caller(owner, room, 'alice');
    await waitFor(() => owner.cluster?.roleIn(room) === 'owner' && owner.rooms.get(room)?.started === true);
    expect(owner.cluster?.trunkLegsIn(room)).toBe(0);

    const rounds = 4;
    for (let i = 1; i <= rounds; i++) {
      const phone = await caller(member, room, `guest${i}`);
      // alice and the guest's trunk leg on the owner; the guest and the same leg on the member.
      await waitFor(() => size(owner, room) === 2 && size(member, room) === 2);
      await phone.hangUp();
      await waitFor(() => size(owner, room) === 1 && member.rooms.get(room) === undefined);
      await ownerTrunksEnded();
    }
    expect(owner.cluster?.trunkLegsIn(room), `trunk legs remembered after ${rounds} came and went`).toBe(0);

    const last = await caller(member, room, 'last');
    await waitFor(() => size(owner, room) === 2 && size(member, room) === 2);
    expect(owner.cluster?.trunkLegsIn(room)).toBe(1);
    expect(member.cluster?.trunkLegsIn(room)).toBe(1);
    await last.hangUp();
    await waitFor(() => size(owner, room) === 1);
    await ownerTrunksEnded();
    expect(owner.cluster?.trunkLegsIn(room)).toBe(0);
  }, 60000);

  it('forgets a trunk leg that ended while its party was still waiting for the room to start', async () => {
    const room = 'unstarted';
    await caller(owner, room, 'waitalice');
    await waitFor(() => owner.cluster?.roleIn(room) === 'owner');
    const phone = await caller(member, room, 'waitguest');
    // The trunk leg's party waits on the owner beside alice: the room has not started.
    await waitFor(() => size(owner, room) === 2 && owner.cluster?.trunkLegsIn(room) === 1);
    expect(owner.rooms.get(room)?.started).toBe(false);
    await phone.hangUp();
    await waitFor(() => size(owner, room) === 1 && member.rooms.get(room) === undefined);
    await ownerTrunksEnded();
    expect(owner.cluster?.trunkLegsIn(room)).toBe(0);
  }, 60000);
});
