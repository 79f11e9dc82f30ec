/**
 * A Redis and the cluster nodes of one describe block, as most cluster tests want them: started
 * before its tests, stopped after them, and the phones a test puts in `phones` closed after it.
 * Registers its own vitest hooks; call it in the describe's body.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { RedisServer } from '../../support/redis-server.js';
import type { TonePhone } from '../../support/tone-phone.js';
import { ClusterNode } from './cluster-nodes.js';

export interface ClusterUnderTest {
  /** Set once the describe's tests begin. */
  redis: RedisServer;
  nodes: ClusterNode[];
  phones: TonePhone[];
}

export function clusterPerDescribe(
  ids: string[],
  layout: Parameters<typeof ClusterNode.startEach>[1],
  env: Record<string, string> = {}
): ClusterUnderTest {
  const cluster = { nodes: [], phones: [] } as unknown as ClusterUnderTest;
  beforeAll(async () => {
    cluster.redis = await RedisServer.start();
    cluster.nodes = await ClusterNode.startEach(ids, layout, cluster.redis.socketPath, env);
  }, 60000);
  afterEach(async () => {
    await Promise.all(cluster.phones.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await Promise.all(cluster.nodes.map((n) => n.stop()));
    await cluster.redis?.stop();
  }, 30000);
  return cluster;
}
