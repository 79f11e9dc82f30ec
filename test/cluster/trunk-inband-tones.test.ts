/**
 * A trunk leg carries a node's mix, not a keypad, so it listens for no DTMF tones in its audio.
 * Two callers on one node whose voices (here tones of 697 and 1209 Hz) together make the pair
 * of the key '1' were heard by a third caller on the same node, as on one host, but not at all
 * by one on the other node: the trunk leg's detector there took the mix for a held key and kept
 * it out of the room, the whole node's section with it, as a key's tone is kept out. Both ends
 * of the leg: the pair on the owner, heard on the member, and the pair on the member, heard on
 * the owner.
 */
import { describe, it, expect } from 'vitest';
import { hasPeer } from '../support/peers.js';
import { waitForAsync } from '../support/wait.js';
import { callIntoRoom, roomConnected } from './support/cluster-nodes.js';
import { clusterPerDescribe } from './support/cluster-per-describe.js';
import { heard } from './support/levels.js';

const NETWORK = '127.0.2';
const HEARD_DB = -40;
/** ITU-T Q.23: the key '1' is 697 Hz with 1209 Hz. */
const LOW_HZ = 697;
const HIGH_HZ = 1209;

describe.skipIf(!hasPeer('redis-server'))("a trunk leg and its callers' tones", () => {
  const cluster = clusterPerDescribe(['a', 'b'], {
    firstHost: 40,
    rtpBase: 32400,
    rtpPorts: 200,
    network: NETWORK
  });
  const { phones } = cluster;

  for (const [pairOn, where] of [
    [0, 'owner'],
    [1, 'member']
  ] as const) {
    it(`a caller on the other node hears two callers on the ${where} whose tones make a key's pair`, async () => {
      const room = `pair${where}`;
      const [pairNode, listenerNode] =
        pairOn === 0 ? [cluster.nodes[0], cluster.nodes[1]] : [cluster.nodes[1], cluster.nodes[0]];
      // The first caller's node claims the room.
      const first = pairOn === 0 ? 'alice' : 'bob';
      const firstNode = pairOn === 0 ? pairNode : listenerNode;
      await callIntoRoom(firstNode, room, first, `${NETWORK}.50`, phones);
      await waitForAsync(async () => (await firstNode.status([room])).roles[room] === 'owner', 15000);
      const alice =
        pairOn === 0 ? phones[0] : await callIntoRoom(pairNode, room, 'alice', `${NETWORK}.51`, phones);
      const carol = await callIntoRoom(pairNode, room, 'carol', `${NETWORK}.52`, phones);
      const bob =
        pairOn === 0 ? await callIntoRoom(listenerNode, room, 'bob', `${NETWORK}.53`, phones) : phones[0];
      await roomConnected(cluster.nodes, room, 3 + 2);
      alice.toneHz = LOW_HZ;
      carol.toneHz = HIGH_HZ;
      const [bobHears, carolHears] = await Promise.all([heard(bob, 2000), heard(carol, 2000)]);
      console.log(
        `across the trunk: ${bobHears(LOW_HZ).toFixed(1)} / ${bobHears(HIGH_HZ).toFixed(1)} dB; on the same node: ${carolHears(LOW_HZ).toFixed(1)} dB`
      );
      expect(carolHears(LOW_HZ), 'carol hears alice on their node').toBeGreaterThan(HEARD_DB);
      expect(bobHears(LOW_HZ), 'bob hears alice across the trunk').toBeGreaterThan(HEARD_DB);
      expect(bobHears(HIGH_HZ), 'bob hears carol across the trunk').toBeGreaterThan(HEARD_DB);
    }, 60000);
  }
});
