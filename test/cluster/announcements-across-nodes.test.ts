/**
 * A room's announcements take turns across the cluster as they do on one engine: what two cluster.nodes
 * say to the room at once is heard one after the other, never over each other; and a node that
 * dies while it announces keeps the others' announcements waiting only until its floor expires.
 */
import { describe, it, expect } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { sleep, waitFor } from '../support/wait.js';
import { callIntoRoom, roomConnected } from './support/cluster-nodes.js';
import { clusterPerDescribe } from './support/cluster-per-describe.js';

const NETWORK = '127.0.5';
const PHONE_HOST = `${NETWORK}.90`;
const TEXT = 'The meeting will end in five minutes.';

/** Milliseconds of `pcm` (8 kHz) in 20 ms frames louder than -40 dBFS: how long speech was heard. */
function loudMs(pcm: Int16Array): number {
  const frame = 160;
  let ms = 0;
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let energy = 0;
    for (let j = i; j < i + frame; j++) energy += pcm[j] * pcm[j];
    if (10 * Math.log10(energy / frame / 32768 / 32768 + 1e-12) > -40) ms += 20;
  }
  return ms;
}

const haveRedis = hasPeer('redis-server');

describe.skipIf(!haveRedis)("a room's announcements across two cluster.nodes", () => {
  const cluster = clusterPerDescribe(['aa', 'ab'], {
    firstHost: 71,
    rtpBase: 35000,
    rtpPorts: 100,
    network: NETWORK
  });
  const { phones } = cluster;

  /** What `phone` hears while `act` runs, and a second after (the trunk's way across). */
  async function heardDuring(phone: TonePhone, act: () => Promise<unknown>): Promise<Int16Array> {
    phone.clearReceived();
    await act();
    await sleep(1000);
    return phone.receivedPcm();
  }

  it('plays what two cluster.nodes say at once one after the other, to the parties of both', async () => {
    const [a, b] = cluster.nodes;
    const ann = await callIntoRoom(a, 'annsay', 'ann', PHONE_HOST, phones);
    const bea = await callIntoRoom(b, 'annsay', 'bea', PHONE_HOST, phones);
    await roomConnected(cluster.nodes, 'annsay', 2 + 2);

    // One node alone: how long the text is heard.
    const alone = loudMs(await heardDuring(bea, () => a.moderate('annsay', 'say', TEXT)));
    expect(alone).toBeGreaterThan(500);

    ann.clearReceived();
    bea.clearReceived();
    const replies = await Promise.all([a.moderate('annsay', 'say', TEXT), b.moderate('annsay', 'say', TEXT)]);
    await sleep(1000);
    const [annHeard, beaHeard] = [ann.receivedPcm(), bea.receivedPcm()];
    console.log(
      `one say: ${alone} ms heard; two at once: ann ${loudMs(annHeard)} ms, bea ${loudMs(beaHeard)} ms`
    );
    expect(replies.map((r) => r.error)).toEqual([undefined, undefined]);
    // Over each other, the two are heard about as long as one; one after the other, twice as long.
    for (const [who, pcm] of [
      ['ann', annHeard],
      ['bea', beaHeard]
    ] as const)
      expect(loudMs(pcm), `${who} heard both (one alone: ${alone} ms)`).toBeGreaterThan(alone * 1.6);
  }, 60000);

  it("plays on when the node announcing dies: the others' wait ends when its floor expires", async () => {
    const [a, b] = cluster.nodes;
    const cid = await callIntoRoom(a, 'anndie', 'cid', PHONE_HOST, phones);
    const dee = await callIntoRoom(b, 'anndie', 'dee', PHONE_HOST, phones);
    await roomConnected(cluster.nodes, 'anndie', 2 + 2);
    dee.clearReceived();
    const long = `${TEXT} ${TEXT} ${TEXT}`;
    void a.moderate('anndie', 'say', long);
    // Node a is speaking (its floor is taken): node b's say waits for it, and node a dies.
    await waitFor(() => loudMs(dee.receivedPcm()) > 200, 15000);
    const said = b.moderate('anndie', 'say', TEXT);
    await sleep(200);
    await a.kill();
    await cid.vanish();
    expect((await said).error).toBeUndefined();
    dee.clearReceived();
    await sleep(500);
    // Node b's room goes on after its say: nothing is left queued there.
    const replay = await heardDuring(dee, () => b.moderate('anndie', 'say', 'Still here.'));
    expect(loudMs(replay)).toBeGreaterThan(200);
  }, 60000);
});
