/**
 * Two engine processes started with one cluster node id: the lease names the node id, so each
 * took the other's room lease for its own (two owners of one room, measured: the callers on the
 * twin heard nobody and nobody heard them) and the id's trunk address flipped between them with
 * every heartbeat. The second to start is refused (InvalidArgumentError on `cluster.nodeId`)
 * and leaves the first one's heartbeat alone; a node started again after a crash, whose dead
 * predecessor's heartbeat is still in Redis, starts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, InvalidArgumentError } from '../../engine/index.js';
import { hasPeer } from '../support/peers.js';
import { RedisServer } from '../support/redis-server.js';

const LEASE_MS = 900;

describe.skipIf(!hasPeer('redis-server'))('a cluster node id used twice', () => {
  let redis: RedisServer;
  const engines: Engine[] = [];

  function member(host: string, rtpBase: number, nodeId: string): Engine {
    const engine = new Engine({
      sip: { host, port: 0, transports: ['udp'] },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 49 },
      logLevel: 'silent',
      cluster: { redis: redis.socketPath, nodeId, leaseMs: LEASE_MS }
    });
    engines.push(engine);
    return engine;
  }

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(engines.map((engine) => engine.stop()));
    await redis?.stop();
  });

  it('refuses a second running member with the same node id, and leaves the first one beating', async () => {
    const first = member('127.0.15.20', 45500, 'twin');
    await first.start();
    const firstAddress = `127.0.15.20:${first.sipAddresses()[0].port}`;
    const second = member('127.0.15.21', 45550, 'twin');
    const refused = await second.start().then(
      () => undefined,
      (error: unknown) => error
    );
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect((refused as Error).message).toContain(firstAddress);
    expect(second.running).toBe(false);
    // The refused one removed no heartbeat but its own: the first one's is there, naming it.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS / 3 + 100));
    expect(JSON.parse((await redis.get('uasmedia:node:twin')) ?? '{}').trunkAddress).toBe(firstAddress);
    expect(first.running).toBe(true);
  }, 20000);

  it('starts a node again while its dead predecessor’s heartbeat is still in Redis', async () => {
    const client = redis.client();
    const stale = {
      nodeId: 'phoenix',
      atMs: Date.now(),
      incarnation: 'dead-one',
      trunkAddress: '127.0.15.22:5999',
      load: 0
    };
    await client.set('uasmedia:node:phoenix', JSON.stringify(stale), 'PX', 10 * LEASE_MS);
    client.disconnect();
    const reborn = member('127.0.15.23', 45600, 'phoenix');
    await reborn.start();
    expect(reborn.running).toBe(true);
  }, 20000);
});
