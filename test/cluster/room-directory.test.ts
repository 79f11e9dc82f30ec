/**
 * The room directory against a real temporary redis-server: leases with fencing epochs,
 * renewal by the owner only, membership that empties the room's keys, heartbeats, pub/sub
 * room events, and a Redis that stops answering.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pino from 'pino';
import { RoomDirectory, type ClaimResult, type RoomEvent } from '../../engine/cluster/room-directory.js';
import { RedisServer } from '../support/redis-server.js';
import { hasPeer } from '../support/peers.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';

const haveRedis = hasPeer('redis-server');
const logger = pino({ level: 'silent' });

/** A claim's answer for a room that was not destroyed. */
function live(result: ClaimResult): Extract<ClaimResult, { destroyed: false }> {
  if (result.destroyed) throw new Error(`instance ${result.instance} was destroyed`);
  return result;
}

describe.skipIf(!haveRedis)('room directory in Redis', () => {
  let server: RedisServer;
  const directories: RoomDirectory[] = [];

  async function node(nodeId: string, leaseMs = 2000): Promise<RoomDirectory> {
    const directory = new RoomDirectory({
      redis: server.socketPath,
      nodeId,
      leaseMs,
      logger,
      commandTimeoutMs: 500
    });
    directories.push(directory);
    expect(await directory.connect()).toBe(true);
    return directory;
  }

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(directories.map((d) => d.close()));
    await server?.stop();
  });

  it('lets exactly one of many concurrent claimers own a room', async () => {
    const nodes = await Promise.all(['a', 'b', 'c', 'd'].map((id) => node(`race-${id}`)));
    const results = await Promise.all(nodes.map(async (n) => live(await n.claim('race', 'i-race'))));
    expect(results.filter((r) => r.claimed)).toHaveLength(1);
    const owner = results.find((r) => r.claimed)!.owner;
    for (const r of results) expect(r.owner).toEqual(owner);
  });

  it('renews only for the owner and hands the room on with a higher epoch when the lease lapses', async () => {
    const a = await node('lapse-a', 300);
    const b = await node('lapse-b', 300);
    const first = live(await a.claim('lapse', 'i-lapse'));
    expect(first.claimed).toBe(true);
    expect(await b.renew('lapse', first.owner.epoch)).toBe(false); // b does not hold the lease
    expect(await a.renew('lapse', first.owner.epoch)).toBe(true);
    expect(live(await b.claim('lapse', 'i-lapse')).claimed).toBe(false);
    await new Promise((r) => setTimeout(r, 450)); // a stops renewing (it died)
    const second = live(await b.claim('lapse', 'i-lapse'));
    expect(second.claimed).toBe(true);
    expect(second.owner.nodeId).toBe('lapse-b');
    expect(second.owner.epoch).toBeGreaterThan(first.owner.epoch);
    expect(await a.renew('lapse', first.owner.epoch)).toBe(false); // the stale owner cannot renew
  });

  it('never hands out an epoch below one a claimer has seen, though Redis restarted empty', async () => {
    const a = await node('empty-a', 300);
    const b = await node('empty-b', 300);
    const first = live(await a.claim('empty', 'i-empty'));
    live(await b.claim('empty', 'i-empty')); // b sees a's epoch as a member
    const raw = server.client();
    await raw.flushall(); // what a restart without persistence leaves
    raw.disconnect();
    const second = live(await b.claim('empty', 'i-empty'));
    expect(second.claimed).toBe(true);
    // A trunk leg tagged with the stale owner's epoch must stay refused (fencing).
    expect(second.owner.epoch).toBeGreaterThan(first.owner.epoch);
  });

  it('releases the lease on leave so another node claims at once, and removes every key after the last member', async () => {
    const a = await node('leave-a');
    const b = await node('leave-b');
    const claimA = live(await a.claim('leaving', 'i-leaving'));
    live(await b.claim('leaving', 'i-leaving'));
    await a.markStarted('leaving');
    expect(await a.leave('leaving', claimA.owner.epoch)).toBe(false); // b is still a member
    const claimB = live(await b.claim('leaving', 'i-leaving'));
    expect(claimB.claimed).toBe(true);
    expect(claimB.started).toBe(true);
    expect(claimB.owner.epoch).toBeGreaterThan(claimA.owner.epoch);
    expect(await b.leave('leaving', claimB.owner.epoch)).toBe(true);
    expect(await server.keys('uasmedia:room:leaving:*')).toEqual([]);
  });

  it('keeps one instance of a room across owners, and a destroyed instance is never made again while a new one is', async () => {
    const a = await node('inst-a');
    const b = await node('inst-b');
    const c = await node('inst-c');
    const first = live(await a.claim('doomed', 'from-a'));
    expect(first.instance).toBe('from-a');
    expect(live(await b.claim('doomed', 'from-b')).instance).toBe('from-a'); // b joins a's room
    const seenByB: RoomEvent[] = [];
    b.on('roomEvent', (e) => seenByB.push(e));
    b.watch('doomed');
    await sleep(100);
    await c.markDestroyed('doomed', 'from-a', 5000);
    expect(await server.keys('uasmedia:room:doomed:*')).toEqual([]); // that life of the room is over
    await waitFor(() => seenByB.length > 0);
    expect(seenByB[0]).toEqual({ room: 'doomed', type: 'destroyed', nodeId: 'inst-c', instance: 'from-a' });
    // A section of the destroyed instance (it missed the event) does not make the room again.
    expect(await b.claim('doomed', 'from-a')).toEqual({ destroyed: true, instance: 'from-a' });
    expect(await server.keys('uasmedia:room:doomed:*')).toEqual([]);
    // A new room of the same name is untouched by a late notice of the old one.
    const fresh = live(await c.claim('doomed', 'fresh'));
    expect(fresh).toMatchObject({ claimed: true, instance: 'fresh' });
    await a.markDestroyed('doomed', 'from-a', 5000);
    expect(live(await c.claim('doomed', 'fresh')).owner).toEqual(fresh.owner);
  });

  it('publishes heartbeats with trunk address and load, which expire', async () => {
    const a = await node('beat-a');
    await a.heartbeat({ trunkAddress: '127.0.0.2:5070', load: 3 }, 300);
    const beat = await a.node('beat-a');
    expect(beat).toMatchObject({ nodeId: 'beat-a', trunkAddress: '127.0.0.2:5070', load: 3 });
    await sleep(400);
    expect(await a.node('beat-a')).toBeUndefined();
  });

  it("delivers a room's events to the other nodes watching that room only", async () => {
    const a = await node('events-a');
    const b = await node('events-b');
    const seenByA: RoomEvent[] = [];
    const seenByB: RoomEvent[] = [];
    const c = await node('events-c');
    const seenByC: RoomEvent[] = [];
    a.on('roomEvent', (e) => seenByA.push(e));
    b.on('roomEvent', (e) => seenByB.push(e));
    c.on('roomEvent', (e) => seenByC.push(e));
    a.watch('ev');
    b.watch('ev');
    c.watch('elsewhere');
    // The subscriber connects in the background: publish until it is listening.
    await waitForAsync(async () => {
      await a.publish({ room: 'ev', type: 'started', nodeId: 'events-a' });
      await sleep(50);
      return seenByB.length > 0;
    });
    expect(seenByB[0]).toEqual({ room: 'ev', type: 'started', nodeId: 'events-a' });
    expect(seenByA).toEqual([]);
    expect(seenByC).toEqual([]); // c holds no section of 'ev'
  });

  it('drops a room event of a type it does not know, an inherited property name included', async () => {
    const a = await node('types-a');
    const b = await node('types-b');
    const seenByB: RoomEvent[] = [];
    b.on('roomEvent', (e) => seenByB.push(e));
    b.watch('types');
    await waitForAsync(async () => {
      await a.publish({ room: 'types', type: 'started', nodeId: 'types-a' });
      await sleep(50);
      return seenByB.length > 0;
    });
    seenByB.length = 0;
    for (const type of ['constructor', 'toString', 'ended', 42])
      await a.publish({ room: 'types', type, nodeId: 'types-a' } as unknown as RoomEvent);
    await a.publish({ room: 'types', type: 'destroyed', nodeId: 'types-a' });
    await waitFor(() => seenByB.length > 0);
    await sleep(50);
    expect(seenByB).toEqual([{ room: 'types', type: 'destroyed', nodeId: 'types-a' }]);
  });

  it("lists each member's callers, leaves out what is not a caller list, and forgets a list emptied", async () => {
    const a = await node('roster-a');
    const b = await node('roster-b');
    live(await a.claim('roster', 'i-roster'));
    live(await b.claim('roster', 'i-roster'));
    await a.setCallers('roster', [
      { party: 'ch1', muted: false, held: false, talkVolumeDb: -6, listenVolumeDb: 3, coaching: 'ch4' }
    ]);
    // b writes no volumes, as a node of an older version: its callers' are 0 dB.
    await b.setCallers('roster', [
      { party: 'ch1', muted: true, held: false },
      { party: 'ch2', muted: false, held: true }
    ]);
    const sorted = async () =>
      (await a.roster('roster')).sort((x, y) =>
        `${x.nodeId}${x.party}`.localeCompare(`${y.nodeId}${y.party}`)
      );
    expect(await sorted()).toEqual([
      {
        nodeId: 'roster-a',
        party: 'ch1',
        muted: false,
        held: false,
        talkVolumeDb: -6,
        listenVolumeDb: 3,
        coaching: 'ch4'
      },
      { nodeId: 'roster-b', party: 'ch1', muted: true, held: false, talkVolumeDb: 0, listenVolumeDb: 0 },
      { nodeId: 'roster-b', party: 'ch2', muted: false, held: true, talkVolumeDb: 0, listenVolumeDb: 0 }
    ]);
    // Whatever else b's key holds is no caller.
    const client = server.client();
    try {
      await client.set(
        'uasmedia:room:roster:callers:roster-b',
        '[{"party":7},null,"x",{"party":"ch3","muted":false,"held":false},{"party":"ch5","muted":false,"held":false,"coaching":5},{"party":"ch6","muted":false,"held":false,"talkVolumeDb":"loud"}]'
      );
      expect((await sorted()).map((e) => `${e.nodeId} ${e.party}`)).toEqual(['roster-a ch1', 'roster-b ch3']);
      await client.set('uasmedia:room:roster:callers:roster-b', '{not json');
      expect((await sorted()).map((e) => `${e.nodeId} ${e.party}`)).toEqual(['roster-a ch1']);
    } finally {
      client.disconnect();
    }
    await a.setCallers('roster', []);
    expect(await server.keys('uasmedia:room:roster:callers:*')).toEqual([
      'uasmedia:room:roster:callers:roster-b'
    ]);
  });

  it('fails fast instead of hanging while Redis is paused, and works again after', async () => {
    const a = await node('pause-a');
    await server.pause(1500);
    await expect(a.claim('paused', 'i-paused')).rejects.toThrow(/timed out/i);
    await waitForAsync(() =>
      a.claim('paused', 'i-paused').then(
        () => true,
        () => false
      )
    );
    expect((await a.owner('paused'))?.nodeId).toBe('pause-a');
  });
});
