/**
 * A room's announcement floor in the directory (a real temporary redis-server): one node sounds
 * at a time, a node refused is next in line, a dead holder's floor expires, and a node whose
 * directory does not answer plays without it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pino from 'pino';
import { RoomDirectory } from '../../engine/cluster/room-directory.js';
import { RoomFloor } from '../../engine/cluster/room-floor.js';
import { RedisServer } from '../support/redis-server.js';
import { hasPeer } from '../support/peers.js';
import { waitFor } from '../support/wait.js';

const haveRedis = hasPeer('redis-server');
const logger = pino({ level: 'silent' });

describe.skipIf(!haveRedis)('announcement floor', () => {
  let server: RedisServer;
  const directories: RoomDirectory[] = [];
  const floors: RoomFloor[] = [];

  async function node(nodeId: string): Promise<RoomDirectory> {
    const directory = new RoomDirectory({
      redis: server.socketPath,
      nodeId,
      leaseMs: 1500,
      logger,
      commandTimeoutMs: 500
    });
    directories.push(directory);
    expect(await directory.connect()).toBe(true);
    return directory;
  }

  function floorOf(directory: RoomDirectory, room: string, ttlMs = 600): RoomFloor {
    const floor = new RoomFloor({ directory, room, ttlMs, pollMs: 20, logger });
    floors.push(floor);
    return floor;
  }

  beforeAll(async () => {
    server = await RedisServer.start();
  });

  afterAll(async () => {
    for (const floor of floors) floor.close();
    await Promise.all(directories.map((d) => d.close()));
    await server?.stop();
  });

  it('gives the floor to one node at a time, and a refused node its turn before the holder sounds again', async () => {
    const [a, b] = await Promise.all([node('turn-a'), node('turn-b')]);
    expect(await a.takeFloor('turn', 5000)).toBe(true);
    expect(await a.takeFloor('turn', 5000)).toBe(true); // renewed
    expect(await b.takeFloor('turn', 5000)).toBe(false); // b is next in line
    await a.releaseFloor('turn');
    expect(await a.takeFloor('turn', 5000)).toBe(false); // b's turn first
    expect(await b.takeFloor('turn', 5000)).toBe(true);
    await b.releaseFloor('turn');
    expect(await a.takeFloor('turn', 5000)).toBe(true); // a was next
    await a.releaseFloor('turn');
    expect(await a.keysOf('turn')).toEqual([]);
  });

  it('plays on after the holder dies: its floor expires', async () => {
    const [a, b] = await Promise.all([node('dead-a'), node('dead-b')]);
    expect(await a.takeFloor('dead', 300)).toBe(true);
    // a dies: it never renews nor releases.
    const floor = floorOf(b, 'dead');
    const granted: boolean[] = [];
    expect(floor.take((afterOther) => granted.push(afterOther))).toBe(false);
    await waitFor(() => granted.length > 0, 10000);
    expect(granted).toEqual([true]);
    expect(floor.take(() => undefined)).toBe(true);
    floor.release();
  });

  it('waits while another node sounds, renews its own while it sounds, and releases it', async () => {
    const [a, b] = await Promise.all([node('wait-a'), node('wait-b')]);
    const floorA = floorOf(a, 'wait', 1000);
    const floorB = floorOf(b, 'wait', 1000);
    const grantedA: boolean[] = [];
    const grantedB: boolean[] = [];
    floorA.take((afterOther) => grantedA.push(afterOther));
    await waitFor(() => grantedA.length > 0, 10000);
    expect(grantedA).toEqual([false]);
    floorB.take((afterOther) => grantedB.push(afterOther));
    // Held past its expiry (1 s) by renewals: b keeps waiting.
    const heldSince = Date.now();
    await waitFor(() => Date.now() - heldSince > 2000);
    expect(grantedB).toEqual([]);
    floorA.release();
    await waitFor(() => grantedB.length > 0, 10000);
    expect(grantedB).toEqual([true]);
    floorB.release();
  });

  it('plays without the floor when the directory does not answer', async () => {
    const a = await node('down-a');
    const floor = floorOf(a, 'down');
    await server.crash();
    try {
      const granted: boolean[] = [];
      expect(floor.take((afterOther) => granted.push(afterOther))).toBe(false);
      await waitFor(() => granted.length > 0, 10000);
      expect(granted).toEqual([false]);
      floor.close();
      expect(floor.take(() => undefined)).toBe(true);
    } finally {
      await server.restart();
    }
  });
});
