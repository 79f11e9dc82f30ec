/**
 * A lockout must not show itself: while a source (or an account) is locked, its answers on
 * live nonces get a wrong answer's 403 whatever the password, and anything else gets what it
 * gets unlocked. The lock was read before the nonce, so an answer on a nonce that was not one
 * of ours for the source got 403 when locked and 401 when not, and a second answer on one nonce
 * 403 where a wrong answer's second gets 401: one probe that costs no guess told a guesser to
 * wait the lock out, instead of taking its right guess for a wrong one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, type UASCallChannel } from '../../engine/index.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { digestCaller } from '../support/digest-caller.js';

const HOST = '127.0.27.90';
const engines: Engine[] = [];
const incoming: UASCallChannel[] = [];
const peers: UdpTestPeer[] = [];

async function engineWith(lockouts: object, rtp: { minPort: number; maxPort: number }): Promise<number> {
  const engine = new Engine({
    sip: { host: HOST, port: 0, transports: ['udp'] },
    rtp,
    access: {
      auth: {
        realm: 'uasmedia.test',
        algorithms: ['MD5'],
        credentials: (_realm, username) => (username === 'alice' ? 'wonderland' : undefined),
        ...lockouts
      }
    },
    logLevel: 'silent',
    overloadGuard: false
  });
  engine.on('call', (channel) => {
    incoming.push(channel);
    void channel.ring().catch(() => undefined);
  });
  engines.push(engine);
  await engine.start();
  return engine.sipAddresses()[0].port;
}

let sourceLocking: number;
let accountLocking: number;
beforeAll(async () => {
  sourceLocking = await engineWith(
    { lockout: { failures: 2, windowSeconds: 600, lockSeconds: 600 }, accountLockout: false },
    { minPort: 57900, maxPort: 57949 }
  );
  accountLocking = await engineWith(
    { lockout: false, accountLockout: { failures: 2, windowSeconds: 600, lockSeconds: 600 } },
    { minPort: 57950, maxPort: 57999 }
  );
});

afterEach(async () => {
  await Promise.all(incoming.splice(0).map((c) => c.hangUp().catch(() => undefined)));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  for (const engine of engines) await engine.stop();
});

async function caller(host: string, port: number) {
  const peer = await new UdpTestPeer().open(host);
  peers.push(peer);
  const call = digestCaller(host, port, 'r1', HOST);
  return {
    challenge: () => call.challenge(peer),
    answer: (challenge: string, password: string, nc = 1) =>
      call.answer(peer, challenge, password, { nc }).then((r) => r.status)
  };
}

describe('a digest lockout seen from outside', () => {
  it('a locked source gets 401 for an answer on a nonce not its own, and a wrong answer’s 401 on a spent one', async () => {
    const guesser = await caller('127.0.27.91', sourceLocking);
    for (const guess of ['guess-1', 'guess-2'])
      expect(await guesser.answer(await guesser.challenge(), guess)).toBe(403);
    const elsewhere = await (await caller('127.0.27.92', sourceLocking)).challenge();
    expect(await guesser.answer(elsewhere, 'anything')).toBe(401);

    const challenge = await guesser.challenge();
    expect(await guesser.answer(challenge, 'wonderland')).toBe(403);
    // Spent as a wrong answer's nonce is: asked again.
    expect(await guesser.answer(challenge, 'wonderland', 2)).toBe(401);
    expect(incoming).toHaveLength(0);
  });

  it('a locked account answers a source it does not know as an unlocked one would, but for the password', async () => {
    for (const host of ['127.0.27.93', '127.0.27.94']) {
      const guesser = await caller(host, accountLocking);
      expect(await guesser.answer(await guesser.challenge(), 'guess')).toBe(403);
    }
    const fresh = await caller('127.0.27.95', accountLocking);
    const elsewhere = await (await caller('127.0.27.96', accountLocking)).challenge();
    expect(await fresh.answer(elsewhere, 'anything')).toBe(401);
    const challenge = await fresh.challenge();
    expect(await fresh.answer(challenge, 'wonderland')).toBe(403);
    expect(await fresh.answer(challenge, 'wonderland', 2)).toBe(401);
    expect(incoming).toHaveLength(0);
  });
});
