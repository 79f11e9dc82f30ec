/**
 * Wrong digest answers are counted across the cluster (a real temporary redis-server): behind a
 * round-robin front each engine had counted its own, so N engines let a guesser make N times the
 * limit. A source's wrong answers split over two engines lock it on both; an account guessed from
 * many sources over both engines locks against new sources on both, and its phone still gets in.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { Engine, type UASCallChannel } from '../../engine/index.js';
import { RedisServer } from '../support/redis-server.js';
import { hasPeer } from '../support/peers.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { digestCaller } from '../support/digest-caller.js';
import { waitForAsync } from '../support/wait.js';

const haveRedis = hasPeer('redis-server');
const HOSTS = ['127.0.30.31', '127.0.30.32'];
const FAILURES = 3;
const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder', carol: 'cheshire' };

describe.skipIf(!haveRedis)('digest lockouts across the cluster', () => {
  let redis: RedisServer;
  const engines: Engine[] = [];
  const incoming: UASCallChannel[] = [];
  const peers: UdpTestPeer[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const [i, host] of HOSTS.entries()) {
      const engine = new Engine({
        sip: { host, port: 0, transports: ['udp'] },
        rtp: { minPort: 62600 + i * 50, maxPort: 62649 + i * 50 },
        access: {
          auth: {
            realm: 'uasmedia.test',
            algorithms: ['MD5'],
            credentials: (_realm, username) => PASSWORDS[username],
            lockout: { failures: FAILURES, windowSeconds: 600, lockSeconds: 600 },
            accountLockout: { failures: FAILURES, windowSeconds: 600, lockSeconds: 600 }
          }
        },
        overloadGuard: false,
        logLevel: 'silent',
        cluster: { redis: redis.socketPath, nodeId: `auth-${i}`, leaseMs: 1500 }
      });
      // Admitted calls ring: a raw peer that cannot do media sees 180 and no more.
      engine.on('call', (channel) => {
        incoming.push(channel);
        void channel.ring().catch(() => undefined);
      });
      engines.push(engine);
    }
    await Promise.all(engines.map((e) => e.start()));
  }, 60_000);

  afterEach(async () => {
    await Promise.all(incoming.splice(0).map((c) => c.hangUp().catch(() => undefined)));
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    await redis?.stop();
  }, 30_000);

  async function peer(host: string): Promise<UdpTestPeer> {
    const p = await new UdpTestPeer().open(host);
    peers.push(p);
    return p;
  }

  const callerOf = (host: string, node: number) =>
    digestCaller(host, engines[node].sipAddresses()[0].port, 'r1', HOSTS[node]);

  /** Answers a fresh challenge from `node` as `username` with `password`; the status the engine gives. */
  async function answer(
    from: UdpTestPeer,
    host: string,
    node: number,
    password: string,
    username = 'alice'
  ): Promise<number> {
    const call = callerOf(host, node);
    return (await call.answer(from, await call.challenge(from), password, { username })).status;
  }

  it('locks a source on both engines when its wrong answers split over them reach the limit', async () => {
    const guesser = await peer('127.0.30.33');
    expect(await answer(guesser, '127.0.30.33', 0, 'guess-1')).toBe(403);
    expect(await answer(guesser, '127.0.30.33', 1, 'guess-2')).toBe(403);
    expect(await answer(guesser, '127.0.30.33', 0, 'guess-3')).toBe(403);
    // Engine 1 saw one wrong answer of this source: its own count would admit the right one.
    await waitForAsync(async () => (await redis.keys('uasmedia:auth:source:127.0.30.33:lock')).length === 1);
    expect(await answer(guesser, '127.0.30.33', 1, 'wonderland')).toBe(403);
    expect(await answer(guesser, '127.0.30.33', 0, 'wonderland')).toBe(403);
    expect(incoming).toHaveLength(0);
    const lockouts = engines.map((e) => e.metrics.sipAuthLockouts.value);
    expect(lockouts[0] + lockouts[1]).toBe(1);
  }, 60_000);

  it('locks an account guessed from sources spread over both engines, not for its phone', async () => {
    const phone = await peer('127.0.30.34');
    expect(await answer(phone, '127.0.30.34', 1, 'builder', 'bob')).toBe(180);
    for (const [i, host] of ['127.0.30.41', '127.0.30.42', '127.0.30.43'].entries()) {
      const guesser = await peer(host);
      expect(await answer(guesser, host, i % 2, `guess-${i}`, 'bob')).toBe(403);
    }
    await waitForAsync(async () => (await redis.keys('uasmedia:auth:account:=bob:lock')).length === 1);
    const stranger = await peer('127.0.30.44');
    for (const node of [0, 1])
      expect(await answer(stranger, '127.0.30.44', node, 'builder', 'bob')).toBe(403);
    // Engine 1 knows the phone (it answered right there) and lets it in.
    expect(await answer(phone, '127.0.30.34', 1, 'builder', 'bob')).toBe(180);
    expect(incoming).toHaveLength(2);
  }, 60_000);

  it('decides on each engine alone while the directory does not answer', async () => {
    redis.freeze();
    try {
      // A right answer is admitted once the directory's answer times out: no call waits for it.
      const phone = await peer('127.0.30.35');
      expect(await answer(phone, '127.0.30.35', 0, 'cheshire', 'carol')).toBe(180);
      // A lock an engine learned from the directory stays with it: alice's, from the first test.
      const other = await peer('127.0.30.36');
      expect(await answer(other, '127.0.30.36', 1, 'wonderland')).toBe(403);
    } finally {
      redis.thaw();
    }
  }, 60_000);
});
