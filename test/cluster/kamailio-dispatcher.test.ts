/**
 * Kamailio's dispatcher in front of three engines (the repository's configuration): six callers
 * dialling one SIP address land on all three engines and meet in one conference.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { peakToneDb, wholeToneDb, TONE_AMPLITUDE } from './support/levels.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { Kamailio } from '../support/kamailio-dispatcher.js';
import { sleep, waitFor } from '../support/wait.js';
import { ClusterNode } from './support/cluster-nodes.js';

const TONES = [440, 620, 980, 1300, 1700, 2100] as const;
const USERS = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'] as const;
const HEARD_DB = -40;
const ABSENT_DB = -55;

const havePeers = hasPeer('redis-server') && hasPeer('kamailio');

describe.skipIf(!havePeers)('Kamailio in front of the cluster', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  let kamailio: Kamailio;
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    nodes = await ClusterNode.startEach(['a', 'b', 'c'], { firstHost: 12, rtpBase: 50000 }, redis.socketPath);
    kamailio = await Kamailio.start(
      '127.0.0.11',
      nodes.map((n) => `${n.spec.host}:${n.sipPort}`)
    );
  }, 60000);

  afterAll(async () => {
    await Promise.all(phones.map((p) => p.close()));
    await kamailio?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 60000);

  it('spreads six callers of one address over the three engines, and they are in one conference', async () => {
    for (let i = 0; i < USERS.length; i++) {
      const p = await TonePhone.create({ toneHz: TONES[i], user: USERS[i], amplitude: TONE_AMPLITUDE });
      phones.push(p);
      await p.call(kamailio.uri('bigroom'));
    }
    const nodeOf = (user: string): number =>
      nodes.findIndex((n) =>
        n.eventsOf(user, 'bigroom').some((e) => e.type === 'transfer' && e.state === 'TRANSFERRED')
      );
    await waitFor(() => USERS.every((u) => nodeOf(u) >= 0), 20000);
    const placement = USERS.map((u) => nodeOf(u));
    console.log(
      'callers landed on nodes',
      placement.map((n, i) => `${USERS[i]}→${nodes[n].spec.nodeId}`).join(' ')
    );
    expect(new Set(placement).size).toBe(3);
    await sleep(500);
    phones.forEach((p) => p.clearReceived());
    await sleep(1200);
    phones.forEach((p, me) => {
      const pcm = p.receivedPcm();
      TONES.forEach((f, other) => {
        if (other === me)
          expect(wholeToneDb(pcm, f), `${USERS[me]} does not hear itself`).toBeLessThan(ABSENT_DB);
        else expect(peakToneDb(pcm, f), `${USERS[me]} hears ${USERS[other]}`).toBeGreaterThan(HEARD_DB);
      });
    });
    await Promise.all(phones.map((p) => p.hangUp()));
  }, 90000);

  it('with dispatch by room, puts every caller of a room on one engine (no trunk leg) and rooms on several', async () => {
    const byRoom = await Kamailio.start(
      '127.0.0.11',
      nodes.map((n) => `${n.spec.host}:${n.sipPort}`),
      3
    );
    try {
      const rooms = ['red', 'green', 'blue', 'amber', 'violet', 'cyan'];
      const callers = await Promise.all(
        rooms.flatMap((room) =>
          [0, 1].map((k) =>
            TonePhone.create({ toneHz: 440, user: `${room}caller${k}` }).then((p) => ({ p, room }))
          )
        )
      );
      phones.push(...callers.map((c) => c.p));
      await Promise.all(callers.map(({ p, room }) => p.call(byRoom.uri(room))));
      const nodeOf = (user: string, room: string): number =>
        nodes.findIndex((n) =>
          n.eventsOf(user, room).some((e) => e.type === 'transfer' && e.state === 'TRANSFERRED')
        );
      await waitFor(
        () =>
          rooms.every((room) => nodeOf(`${room}caller0`, room) >= 0 && nodeOf(`${room}caller1`, room) >= 0),
        20000
      );
      for (const room of rooms)
        expect(nodeOf(`${room}caller0`, room), room).toBe(nodeOf(`${room}caller1`, room));
      expect(new Set(rooms.map((room) => nodeOf(`${room}caller0`, room))).size).toBeGreaterThan(1);
      // Each room exists on its engine only, with its two callers and no trunk leg.
      for (const room of rooms) {
        const sizes = await Promise.all(nodes.map(async (n) => (await n.status([room])).rooms[room]));
        expect(
          sizes.filter((size) => size > 0),
          room
        ).toEqual([2]);
      }
    } finally {
      await Promise.all(phones.splice(0).map((p) => p.close()));
      await byRoom.stop();
    }
  }, 90000);
});
