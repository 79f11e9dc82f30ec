/**
 * A room's wrong PINs are counted across the cluster (a real temporary redis-server): behind a
 * round-robin front each engine had counted its own, so N engines took N times the limit. Two
 * engines serving the meet-me with a limit of 2, then the directory's count on its own, then an
 * engine whose directory does not answer, which counts on its own.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pino from 'pino';
import { Engine } from '../../engine/index.js';
import { meetMeInviteFilter, serveMeetMe } from '../../engine/app/meet-me.js';
import { parseRoomPins, PinLockout } from '../../engine/app/room-pins.js';
import { RoomDirectory } from '../../engine/cluster/room-directory.js';
import { RedisServer } from '../support/redis-server.js';
import { hasPeer } from '../support/peers.js';
import { TonePhone } from '../support/tone-phone.js';
import { keyIn, promptEnded } from '../support/prompt-caller.js';
import { waitFor, waitForAsync } from '../support/wait.js';

const haveRedis = hasPeer('redis-server');
const HOSTS = ['127.0.30.11', '127.0.30.12'];
const PHONE_HOST = '127.0.30.13';

describe.skipIf(!haveRedis)('room PIN lockout across the cluster', () => {
  let redis: RedisServer;
  const engines: Engine[] = [];
  const phones: TonePhone[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const [i, host] of HOSTS.entries()) {
      const engine = new Engine({
        sip: { host, port: 0, transports: ['udp'] },
        rtp: { minPort: 60000 + i * 50, maxPort: 60049 + i * 50 },
        inviteFilter: meetMeInviteFilter,
        logLevel: 'silent',
        cluster: { redis: redis.socketPath, nodeId: `pin-${i}`, leaseMs: 1500 }
      });
      serveMeetMe(engine, {
        roomPins: parseRoomPins('vault=4711,safe=4711'),
        pinLockout: new PinLockout({ wrongTries: 2, windowMs: 600_000, lockMs: 600_000 })
      });
      engines.push(engine);
    }
    await Promise.all(engines.map((e) => e.start()));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(phones.map((p) => p.close()));
    redis?.thaw();
    await Promise.all(engines.map((e) => e.stop()));
    await redis?.stop();
  }, 30_000);

  async function call(node: number, room: string, user: string): Promise<TonePhone> {
    const phone = await TonePhone.create({ toneHz: null, user, host: PHONE_HOST });
    phones.push(phone);
    await phone.call(`sip:${room}@${HOSTS[node]}:${engines[node].sipAddresses()[0].port}`);
    return phone;
  }

  it('locks the room on both engines when wrong PINs split over them reach the shared limit', async () => {
    const first = await call(0, 'vault', 'first');
    await promptEnded(first);
    await keyIn(first, '0000#');
    await promptEnded(first); // "That PIN is not right": counted
    await first.hangUp();

    const second = await call(1, 'vault', 'second');
    await promptEnded(second);
    await keyIn(second, '0001#');
    // The second wrong PIN of the room, on the other engine, locks it: the call ends there.
    await waitFor(() => second.ended, 30_000);

    // The first engine sees the lock: its next caller is turned away before any PIN.
    const member = await call(0, 'vault', 'member');
    await waitFor(() => member.ended, 30_000);
    expect(engines.some((e) => e.rooms.has('vault'))).toBe(false);
  }, 120_000);

  it('counts on each engine alone while the directory does not answer: guesses stay bounded', async () => {
    redis.freeze();
    const guesser = await call(0, 'safe', 'guesser');
    await promptEnded(guesser);
    await keyIn(guesser, '0000#');
    await promptEnded(guesser); // counted here; the directory's count timed out
    await keyIn(guesser, '0001#');
    await waitFor(() => guesser.ended, 30_000);
    redis.thaw();
    expect(engines[0].rooms.has('safe')).toBe(false);
  }, 120_000);
});

describe.skipIf(!haveRedis)('the directory PIN count', () => {
  let redis: RedisServer;
  const directories: RoomDirectory[] = [];
  const logger = pino({ level: 'silent' });

  beforeAll(async () => {
    redis = await RedisServer.start();
    for (const nodeId of ['count-a', 'count-b']) {
      const directory = new RoomDirectory({ redis: redis.socketPath, nodeId, leaseMs: 1500, logger });
      directories.push(directory);
      expect(await directory.connect()).toBe(true);
    }
  });

  afterAll(async () => {
    await Promise.all(directories.map((d) => d.close()));
    await redis?.stop();
  });

  it('counts in one window for every node, locks once, counts nothing while locked, and keeps no key past the lock', async () => {
    const [a, b] = directories;
    const limits = { failures: 3, windowMs: 600_000, lockMs: 300 };
    expect(await a.wrongPin('room', limits)).toBe('counted');
    expect(await b.wrongPin('room', limits)).toBe('counted');
    const client = redis.client();
    const pttl = await client.pttl('uasmedia:pin:room:wrong');
    client.disconnect();
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(600_000);
    expect(await a.pinLocked('room')).toBe(false);
    expect(await a.wrongPin('room', limits)).toBe('lockedNow');
    expect(await b.pinLocked('room')).toBe(true);
    expect(await b.wrongPin('room', limits)).toBe('locked');
    expect(await b.pinLocked('other')).toBe(false);
    await waitForAsync(async () => !(await a.pinLocked('room')), 10_000);
    expect(await redis.keys('uasmedia:pin:*')).toEqual([]);
    expect(await a.wrongPin('room', limits)).toBe('counted'); // counting starts afresh
  });
});
