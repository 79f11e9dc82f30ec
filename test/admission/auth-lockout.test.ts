/**
 * Guessing digest passwords over real SIP on loopback: wrong answers from one source lock it out
 * (its right answer then gets the same 403), another loopback source is still admitted, the lock
 * lapses, a nonce that carried a wrong answer signs nothing more, an answer computed for another
 * room is refused, and a credentials callback may return the password as a plain string. One
 * account guessed from many sources locks against the sources it does not know, not its phone.
 * 127.0.0.2 ... 127.0.0.10 are other loopback sources; they bind without any set-up.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Engine, type UASCallChannel } from '../../engine/index.js';
import { selectChallenge } from '../../sip/auth/digest.js';
import type { SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer } from '../support/sip-udp-peer.js';
import { digestCaller as caller } from '../support/digest-caller.js';

const REALM = 'uasmedia.test';
const FAILURES = 3;
let engine: Engine;
let lapsingEngine: Engine;
let accountEngine: Engine;
let port: number;
let lapsingPort: number;
let accountPort: number;
const logLines: string[] = [];
const incoming: UASCallChannel[] = [];
const peers: UdpTestPeer[] = [];

function lines(): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    }
  });
}

beforeAll(async () => {
  const auth = {
    realm: REALM,
    algorithms: ['MD5' as const],
    // The password as a plain string, as plain JavaScript writes it.
    credentials: (_realm: string, username: string) => (username === 'alice' ? 'wonderland' : undefined)
  };
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 58600, maxPort: 58649 },
    access: { auth: { ...auth, lockout: { failures: FAILURES, windowSeconds: 600, lockSeconds: 600 } } },
    logger: pino({ level: 'warn' }, lines()),
    overloadGuard: false
  });
  lapsingEngine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 58650, maxPort: 58699 },
    access: { auth: { ...auth, lockout: { failures: 2, windowSeconds: 600, lockSeconds: 1 } } },
    overloadGuard: false
  });
  accountEngine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 58700, maxPort: 58749 },
    access: { auth: { ...auth, accountLockout: { failures: 3, windowSeconds: 600, lockSeconds: 600 } } },
    logger: pino({ level: 'warn' }, lines()),
    overloadGuard: false
  });
  for (const e of [engine, lapsingEngine, accountEngine]) {
    // Admitted calls ring and stay ringing: a raw peer that cannot do media sees 180 and no more.
    e.on('call', (channel) => {
      incoming.push(channel);
      void channel.ring().catch(() => undefined);
    });
    await e.start();
  }
  port = engine.sipAddresses()[0].port;
  lapsingPort = lapsingEngine.sipAddresses()[0].port;
  accountPort = accountEngine.sipAddresses()[0].port;
});

afterEach(async () => {
  await Promise.all(incoming.splice(0).map((c) => c.hangUp().catch(() => undefined)));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await engine?.stop();
  await lapsingEngine?.stop();
  await accountEngine?.stop();
});

async function peer(host: string): Promise<UdpTestPeer> {
  const p = await new UdpTestPeer().open(host);
  peers.push(p);
  return p;
}

describe('digest password guessing', () => {
  it('locks a source out after repeated wrong answers: its right answer gets the same 403, another source is admitted', async () => {
    const guesser = await peer('127.0.0.1');
    const call = caller('127.0.0.1', port);
    const lockoutsBefore = engine.metrics.sipAuthLockouts.value;
    const wrongAnswers: SipResponse[] = [];
    for (let i = 0; i < FAILURES; i++)
      wrongAnswers.push(await call.answer(guesser, await call.challenge(guesser), `guess-${i}`));
    expect(wrongAnswers.map((r) => r.status)).toEqual(new Array(FAILURES).fill(403));
    expect(engine.metrics.sipAuthLockouts.value).toBe(lockoutsBefore + 1);

    // Still challenged, as before the lock; the right password is refused as a wrong one is.
    const lockedBefore = engine.metrics.sipRefusals.auth_locked.value;
    const refused = await call.answer(guesser, await call.challenge(guesser), 'wonderland');
    expect(refused.status).toBe(403);
    expect(refused.reason).toBe(wrongAnswers[0].reason);
    expect(refused.getAll('WWW-Authenticate')).toEqual([]);
    expect(engine.metrics.sipRefusals.auth_locked.value).toBe(lockedBefore + 1);
    expect(incoming).toHaveLength(0);
    expect(await engine.metrics.metrics()).toContain(
      `uasmedia_sip_auth_lockouts_total ${lockoutsBefore + 1}`
    );
    // One warning for the lock, none for the refusals after it.
    expect(logLines.filter((l) => l.includes('too many wrong digest answers'))).toHaveLength(1);

    const phone = await peer('127.0.0.2');
    const other = caller('127.0.0.2', port);
    expect((await other.answer(phone, await other.challenge(phone), 'wonderland')).status).toBe(180);
    expect(incoming).toHaveLength(1);
  });

  it('counts nothing against a source for answers on nonces sent elsewhere: forged UDP cannot lock its phone out', async () => {
    const attacker = await peer('127.0.0.11');
    const forger = await peer('127.0.0.12'); // what a blind forger's packets look like: the victim's address
    const collected = caller('127.0.0.11', port);
    const forged = caller('127.0.0.12', port);
    const lockoutsBefore = engine.metrics.sipAuthLockouts.value;
    for (let i = 0; i < FAILURES + 1; i++) {
      const nonce = await collected.challenge(attacker);
      expect((await forged.answer(forger, nonce, `guess-${i}`)).status).toBe(401);
    }
    expect(engine.metrics.sipAuthLockouts.value).toBe(lockoutsBefore);
    expect((await forged.answer(forger, await forged.challenge(forger), 'wonderland')).status).toBe(180);
    expect(incoming).toHaveLength(1);
  });

  it('admits the source again once the lock lapses', async () => {
    const guesser = await peer('127.0.0.1');
    const call = caller('127.0.0.1', lapsingPort);
    for (let i = 0; i < 2; i++)
      expect((await call.answer(guesser, await call.challenge(guesser), `guess-${i}`)).status).toBe(403);
    expect(lapsingEngine.metrics.sipAuthLockouts.value).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call.answer(guesser, await call.challenge(guesser), 'wonderland')).status).toBe(180);
  });

  it('retires a nonce after a wrong answer: any later answer on it, right or wrong, gets a fresh 401', async () => {
    const phone = await peer('127.0.0.3');
    const call = caller('127.0.0.3', port);
    const challenge = await call.challenge(phone);
    expect((await call.answer(phone, challenge, 'looking-glass')).status).toBe(403);
    // Right and wrong get the same answer: a retired nonce tells nothing about the password.
    expect((await call.answer(phone, challenge, 'white-rabbit', { nc: 2 })).status).toBe(401);
    const again = await call.answer(phone, challenge, 'wonderland', { nc: 3 });
    expect(again.status).toBe(401);
    const fresh = again.getAll('WWW-Authenticate')[0];
    expect(selectChallenge([fresh]).nonce).not.toBe(selectChallenge([challenge]).nonce);
    expect(incoming).toHaveLength(0);
    expect((await call.answer(phone, fresh, 'wonderland')).status).toBe(180);
  });

  it('refuses an answer computed for another room, and takes one whose digest uri has no user part (SIPp)', async () => {
    const phone = await peer('127.0.0.4');
    const call = caller('127.0.0.4', port, 'r1');
    const forOtherRoom = await call.answer(phone, await call.challenge(phone), 'wonderland', {
      digestUri: `sip:secretroom@127.0.0.1:${port}`
    });
    expect(forOtherRoom.status).toBe(403);
    expect(incoming).toHaveLength(0);
    const withoutUser = await call.answer(phone, await call.challenge(phone), 'wonderland', {
      digestUri: `sip:127.0.0.1:${port}`
    });
    expect(withoutUser.status).toBe(180);
  });

  it('takes a password returned by the credentials callback as a plain string', async () => {
    const phone = await peer('127.0.0.5');
    const call = caller('127.0.0.5', port);
    expect((await call.answer(phone, await call.challenge(phone), 'wonderland')).status).toBe(180);
    expect(incoming).toHaveLength(1);
    // The channel names the user its answer proved; From named `tester`.
    expect(incoming[0].authenticatedUser).toBe('alice');
    expect(incoming[0].remoteUri).toContain('sip:tester@');
  });
});

describe('one account guessed from many sources', () => {
  it('locks the account against sources it does not know: a new source gets the 403 of a wrong answer, its phone still gets in', async () => {
    const phone = await peer('127.0.0.6');
    const known = caller('127.0.0.6', accountPort);
    expect((await known.answer(phone, await known.challenge(phone), 'wonderland')).status).toBe(180);

    const wrongAnswers: SipResponse[] = [];
    for (const host of ['127.0.0.7', '127.0.0.8', '127.0.0.9']) {
      const guesser = await peer(host);
      const call = caller(host, accountPort);
      wrongAnswers.push(await call.answer(guesser, await call.challenge(guesser), `guess-from-${host}`));
    }
    expect(wrongAnswers.map((r) => r.status)).toEqual([403, 403, 403]);
    expect(accountEngine.metrics.sipAuthAccountLockouts.value).toBe(1);
    expect(accountEngine.metrics.sipAuthLockouts.value).toBe(0);
    expect(await accountEngine.metrics.metrics()).toContain('uasmedia_sip_auth_account_lockouts_total 1');
    const warnings = logLines.filter((l) => l.includes('too many wrong digest answers for this account'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ username: 'alice', lockSeconds: 600 });

    const newcomer = await peer('127.0.0.10');
    const fresh = caller('127.0.0.10', accountPort);
    const refused = await fresh.answer(newcomer, await fresh.challenge(newcomer), 'wonderland');
    expect(refused.status).toBe(403);
    expect(refused.reason).toBe(wrongAnswers[0].reason);
    expect(refused.getAll('WWW-Authenticate')).toEqual([]);
    expect(incoming).toHaveLength(1);

    expect((await known.answer(phone, await known.challenge(phone), 'wonderland')).status).toBe(180);
    expect(incoming).toHaveLength(2);
  });
});
