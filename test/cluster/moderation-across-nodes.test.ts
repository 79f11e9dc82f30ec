/**
 * A moderator on one node of a cluster acts on a room whose parties are spread over two engine
 * processes: it mutes, unmutes and removes a party whose call is on the other node (by its
 * node id and channel id, as remote talker events name it), speaks to the whole room, records it
 * on each node, and ends the room everywhere.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { heard, peakToneDb, TONE_AMPLITUDE } from './support/levels.js';
import { loudestDbfs } from '../support/tone-analysis.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { waitFor, waitForAsync } from '../support/wait.js';
import { ClusterNode, roomConnected } from './support/cluster-nodes.js';

const HEARD_DB = -40;
const ABSENT_DB = -55;
const MUTE_HIGH_HZ = 880;

const haveRedis = hasPeer('redis-server');

describe.skipIf(!haveRedis)("a moderator's controls across two nodes", () => {
  let redis: RedisServer;
  let recordFolder: string;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  /** A phone calls `room` at `node` as `user`; resolves with it and its party's name in the cluster once it is in the room. */
  async function enter(
    node: ClusterNode,
    room: string,
    user: string,
    toneHz: number | null
  ): Promise<{ phone: TonePhone; channelId: string; party: { nodeId: string; party: string } }> {
    const phone = await TonePhone.create({ toneHz, user, amplitude: TONE_AMPLITUDE });
    phones.push(phone);
    await phone.call(node.uri(room));
    let channelId = '';
    await waitFor(() => {
      const event = node.eventsOf(user, room).find((e) => e.type === 'transfer');
      if (event?.type !== 'transfer' || event.state !== 'TRANSFERRED') return false;
      channelId = event.channelId;
      return true;
    }, 15000);
    return { phone, channelId, party: { nodeId: node.spec.nodeId, party: channelId } };
  }

  function retrieved(node: ClusterNode, room: string, user: string) {
    return node.eventsOf(user, room).find((e) => e.type === 'retrieved') as
      { state: string; transferCause: string } | undefined;
  }

  const connected = (room: string, parties: number): Promise<void> => roomConnected(nodes, room, parties);

  async function untilHeard(
    phone: TonePhone,
    check: (h: Awaited<ReturnType<typeof heard>>) => boolean
  ): Promise<void> {
    await waitForAsync(async () => check(await heard(phone, 600)), 15000);
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    recordFolder = await mkdtemp(join(tmpdir(), 'uasmedia-clusterrec-'));
    nodes = await ClusterNode.startEach(
      ['ma', 'mb'],
      { firstHost: 60, rtpBase: 22200, rtpPorts: 100 },
      redis.socketPath,
      { NODE_RECORD_FOLDER: recordFolder }
    );
  }, 60000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
    await rm(recordFolder, { recursive: true, force: true });
  }, 30000);

  it('mutes, holds, turns down and removes a party on the other node, named by node and channel id', async () => {
    const [a, b] = nodes;
    const alice = await enter(a, 'modx', 'alice', 440);
    const bob = await enter(b, 'modx', 'bob', 620);
    const carol = await enter(b, 'modx', 'carol', 980);
    await connected('modx', 3 + 2);
    await untilHeard(alice.phone, (h) => h(620) > HEARD_DB && h(980) > HEARD_DB);

    // Node a holds no call of bob's: it asks node b.
    expect((await a.moderate('modx', 'mute', bob.party)).error).toBeUndefined();
    await untilHeard(alice.phone, (h) => h.whole(620) < ABSENT_DB);
    const hc = await heard(carol.phone);
    expect(hc.whole(620), 'carol no longer hears bob').toBeLessThan(ABSENT_DB);
    expect(hc(440), 'carol hears alice').toBeGreaterThan(HEARD_DB);
    expect((await b.moderate('modx', 'mute', bob.channelId)).parties).toContain(`${bob.channelId} muted`);

    await a.moderate('modx', 'unmute', bob.party);
    await untilHeard(alice.phone, (h) => h(620) > HEARD_DB);

    // On hold bob hears nothing of the room, and the room nothing of him.
    expect((await a.moderate('modx', 'hold', bob.party)).error).toBeUndefined();
    await untilHeard(alice.phone, (h) => h.whole(620) < ABSENT_DB);
    await untilHeard(bob.phone, (h) => h.whole(440) < ABSENT_DB && h.whole(980) < ABSENT_DB);
    await a.moderate('modx', 'unhold', bob.party);
    await untilHeard(bob.phone, (h) => h(440) > HEARD_DB);
    await untilHeard(alice.phone, (h) => h(620) > HEARD_DB);

    // Twelve dB down, as the room hears him.
    const full = (await heard(alice.phone))(620);
    expect((await a.moderate('modx', 'talkVolume', bob.party, -12)).error).toBeUndefined();
    await untilHeard(alice.phone, (h) => h(620) < full - 9 && h(620) > full - 15);

    // And bob hears the room 12 dB down, alice as loud as before.
    const bobHeard = (await heard(bob.phone))(440);
    expect((await a.moderate('modx', 'listenVolume', bob.party, -12)).error).toBeUndefined();
    await untilHeard(bob.phone, (h) => h(440) < bobHeard - 9 && h(440) > bobHeard - 15);

    await a.moderate('modx', 'remove', carol.party);
    await waitFor(() => retrieved(b, 'modx', 'carol') !== undefined, 10000);
    expect(retrieved(b, 'modx', 'carol')).toMatchObject({ transferCause: 'NORMAL' });
    await untilHeard(alice.phone, (h) => h.whole(980) < ABSENT_DB);
    const hb = await heard(bob.phone);
    expect(hb.whole(980), 'bob no longer hears carol').toBeLessThan(ABSENT_DB);
    expect(hb(440), 'bob hears alice').toBeGreaterThan(HEARD_DB);
    expect(retrieved(b, 'modx', 'bob')).toBeUndefined();
  }, 60000);

  it("settles an ask on the other node's answer: refused there when its party has gone, unanswered by a node not in the room", async () => {
    const [a, b] = nodes;
    await enter(a, 'modans', 'ada', 440);
    const ben = await enter(b, 'modans', 'ben', 620);
    const cat = await enter(b, 'modans', 'cat', 980);
    await connected('modans', 3 + 2);
    expect((await a.moderate('modans', 'remove', cat.party)).error).toBeUndefined();
    // Node b applied the removal before node a's ask resolved: its party is gone when it returns.
    expect((await b.moderate('modans', 'roster')).parties).toEqual([ben.channelId]);
    // Asked again, node b answers that it has no such party, and node a's ask rejects so.
    expect((await a.moderate('modans', 'remove', cat.party)).error).toBe(
      `InvalidArgumentError ERR_INVALID_ARGUMENT: remove: room 'modans' has no party of channel '${cat.channelId}' there`
    );
    expect((await a.moderate('modans', 'mute', { nodeId: b.spec.nodeId, party: 'nobody' })).error).toMatch(
      /^InvalidArgumentError ERR_INVALID_ARGUMENT: mute: room 'modans' has no party of channel 'nobody'/
    );
    // A node that is not in the room (or not at all) never answers.
    expect((await a.moderate('modans', 'mute', { nodeId: 'node-zz', party: ben.channelId })).error).toMatch(
      /^EngineError ERR_CLUSTER_UNAVAILABLE: mute: node 'node-zz' did not answer in 3000 ms/
    );
    expect((await b.moderate('modans', 'roster')).parties).toEqual([ben.channelId]);
  }, 60000);

  it("lists every node's callers, whose entries are targets as they are", async () => {
    const [a, b] = nodes;
    const ann = await enter(a, 'modroster', 'ann', 440);
    const bea = await enter(b, 'modroster', 'bea', 620);
    const cy = await enter(b, 'modroster', 'cy', 980);
    await connected('modroster', 3 + 2);
    const rosterOf = async (node: ClusterNode): Promise<string[]> => {
      const reply = await node.moderate('modroster', 'roster');
      expect(reply.error).toBeUndefined();
      return (reply.roster ?? [])
        .map(
          (e) =>
            `${e.nodeId} ${e.party}${e.muted ? ' muted' : ''}${e.coaching ? ` coaching ${e.coaching}` : ''}` +
            (e.talkVolumeDb || e.listenVolumeDb ? ` volumes ${e.talkVolumeDb} ${e.listenVolumeDb}` : '')
        )
        .sort();
    };
    const expected = (mutedBea: boolean, withCy: boolean, beaVolumes = ''): string[] =>
      [
        `node-ma ${ann.channelId}`,
        `node-mb ${bea.channelId}${mutedBea ? ' muted' : ''}${beaVolumes}`,
        ...(withCy ? [`node-mb ${cy.channelId}`] : [])
      ].sort();
    await waitForAsync(async () => (await rosterOf(a)).join() === expected(false, true).join(), 15000);
    expect(await rosterOf(b)).toEqual(expected(false, true));

    const entries = (await a.moderate('modroster', 'roster')).roster ?? [];
    const entryOf = (channelId: string) => entries.find((e) => e.party === channelId)!;
    await a.moderate('modroster', 'mute', entryOf(bea.channelId));
    await waitForAsync(async () => (await rosterOf(a)).join() === expected(true, true).join(), 15000);
    // Node b's bea coaches cy: node a's roster says so.
    expect(
      (await b.moderate('modroster', 'coach', bea.channelId, undefined, cy.channelId)).error
    ).toBeUndefined();
    const coaching = `node-mb ${bea.channelId} muted coaching ${cy.channelId}`;
    await waitForAsync(async () => (await rosterOf(a)).includes(coaching), 15000);
    // Its volumes, set at node a's ask, too.
    expect((await a.moderate('modroster', 'listenVolume', entryOf(bea.channelId), -9)).error).toBeUndefined();
    await waitForAsync(async () => (await rosterOf(a)).includes(`${coaching} volumes 0 -9`), 15000);
    expect(await rosterOf(b)).toContain(`${coaching} volumes 0 -9`);
    await a.moderate('modroster', 'remove', entryOf(cy.channelId));
    await waitFor(() => retrieved(b, 'modroster', 'cy') !== undefined, 10000);
    await waitForAsync(
      async () => (await rosterOf(a)).join() === expected(true, false, ' volumes 0 -9').join(),
      15000
    );
    // Node a was told of node b's callers as they came and went (events are edges: a node that
    // enters later reads the roster).
    await waitForAsync(
      async () => (await a.status([])).presence.includes(`modroster left node-mb ${cy.channelId} removed`),
      15000
    );
    const aHeard = (await a.status([])).presence.filter((e) => e.startsWith('modroster '));
    expect(aHeard).toContain(`modroster joined node-mb ${bea.channelId}`);
    expect(aHeard).toContain(`modroster joined node-mb ${cy.channelId}`);
    expect(aHeard.filter((e) => e.includes(cy.channelId))).toEqual([
      `modroster joined node-mb ${cy.channelId}`,
      `modroster left node-mb ${cy.channelId} removed`
    ]);
    // A's own caller, named by its entry (its own node id).
    expect((await a.moderate('modroster', 'mute', entryOf(ann.channelId))).parties).toEqual([
      `${ann.channelId} muted`
    ]);
  }, 60000);

  it('a muted party hears its mute notes on its own node', async () => {
    const [a, b] = nodes;
    await enter(a, 'modnotes', 'dan', 440);
    const eve = await enter(b, 'modnotes', 'eve', null);
    await connected('modnotes', 2 + 2);
    await untilHeard(eve.phone, (h) => h(440) > HEARD_DB);
    const listening = eve.phone.listen(1500);
    await a.moderate('modnotes', 'mute', eve.party);
    expect(peakToneDb(await listening, MUTE_HIGH_HZ)).toBeGreaterThan(HEARD_DB);
  }, 60000);

  it("says a text from one node, heard on the other's phones", async () => {
    const [a, b] = nodes;
    await enter(a, 'modsayx', 'fred', null);
    const gina = await enter(b, 'modsayx', 'gina', null);
    await connected('modsayx', 2 + 2);
    gina.phone.clearReceived();
    expect((await a.moderate('modsayx', 'say', 'Five minutes left.')).error).toBeUndefined();
    await waitFor(() => gina.phone.receivedSamples >= 8000 * 2, 15000);
    expect(loudestDbfs(gina.phone.receivedPcm(), 8000)).toBeGreaterThan(-35);
  }, 60000);

  it("each node's recording of the room holds the parties of both", async () => {
    const [a, b] = nodes;
    await enter(a, 'modrec', 'mia', 440);
    await enter(b, 'modrec', 'ned', 620);
    await connected('modrec', 2 + 2);
    const [ra, rb] = await Promise.all([
      a.moderate('modrec', 'record', 'on-a.wav'),
      b.moderate('modrec', 'record', 'on-b.wav')
    ]);
    expect([ra.error, rb.error]).toEqual([undefined, undefined]);
    for (const file of ['on-a.wav', 'on-b.wav']) {
      const wav = new wavefile.WaveFile(await readFile(join(recordFolder, file)));
      const samples = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
      expect(samples.length).toBe(8000);
      expect(peakToneDb(samples, 440), `${file}: mia`).toBeGreaterThan(HEARD_DB);
      expect(peakToneDb(samples, 620), `${file}: ned`).toBeGreaterThan(HEARD_DB);
    }
  }, 60000);

  it('ends the room from one node: the parties on both are retrieved', async () => {
    const [a, b] = nodes;
    await enter(a, 'modend', 'hank', 440);
    await enter(b, 'modend', 'iris', 620);
    await enter(b, 'modend', 'jack', 980);
    await connected('modend', 3 + 2);
    const ended = await a.moderate('modend', 'end');
    expect(ended.error).toBeUndefined();
    expect(ended.parties).toEqual([]);
    // Each node's application hears of its own retrievals in its own time.
    const parties = [
      [a, 'hank'],
      [b, 'iris'],
      [b, 'jack']
    ] as const;
    await waitFor(
      () => parties.every(([node, user]) => retrieved(node, 'modend', user) !== undefined),
      15000
    );
    for (const [node, user] of parties)
      expect(retrieved(node, 'modend', user)).toMatchObject({ transferCause: 'NORMAL' });
    await waitForAsync(async () => (await b.status(['modend'])).rooms.modend === 0, 15000);
  }, 60000);

  it('with the directory down, an ask of another node fails with ERR_CLUSTER_UNAVAILABLE and the room goes on', async () => {
    const [a, b] = nodes;
    const kate = await enter(a, 'modout', 'kate', 440);
    const lou = await enter(b, 'modout', 'lou', 620);
    await connected('modout', 2 + 2);
    await redis.crash();
    try {
      const reply = await a.moderate('modout', 'mute', lou.party);
      expect(reply.error).toMatch(/^EngineError ERR_CLUSTER_UNAVAILABLE: mute: could not ask node 'node-mb'/);
      await untilHeard(kate.phone, (h) => h(620) > HEARD_DB);
      await untilHeard(lou.phone, (h) => h(440) > HEARD_DB);
      // A party of its own it still mutes.
      expect((await a.moderate('modout', 'mute', kate.channelId)).parties).toEqual([
        `${kate.channelId} muted`
      ]);
    } finally {
      await redis.restart();
    }
    await Promise.all([kate.phone.hangUp(), lou.phone.hangUp()]);
    for (const n of nodes)
      await waitForAsync(async () => (await n.status(['modout'])).rooms.modout === 0, 15000);
  }, 60000);
});
