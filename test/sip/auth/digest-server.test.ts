import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import { DigestAuthenticator } from '../../../sip/auth/digest-server.js';
import { computeAuthorization, selectChallenge } from '../../../sip/auth/digest.js';
import type { SipRequest } from '../../../sip/message/message.js';
import { inviteAnswering } from '../../support/sip-messages.js';

const URI = 'sip:room42@127.0.0.1:5060';
const SOURCE = '192.0.2.7';

function invite(authorization?: string): SipRequest {
  return inviteAnswering(URI, authorization);
}

function setup(
  lifetimeSeconds = 60,
  algorithms?: Array<'SHA-256' | 'MD5'>,
  maxRememberedNonces?: number
): { auth: DigestAuthenticator; advance: (ms: number) => void; lookups: string[] } {
  let t = 1_700_000_000_000;
  const lookups: string[] = [];
  const auth = new DigestAuthenticator({
    realm: 'uasmedia',
    nonceLifetimeSeconds: lifetimeSeconds,
    algorithms,
    maxRememberedNonces,
    now: () => t,
    credentials: async (realm, username) => {
      lookups.push(`${realm}/${username}`);
      if (username === 'alice') return { password: 's3cret' };
      if (username === 'bob')
        return { ha1: createHash('md5').update('bob:uasmedia:hunter2').digest('hex'), algorithm: 'MD5' };
      return undefined;
    }
  });
  return { auth, advance: (ms) => (t += ms), lookups };
}

function answer(challengeValues: string[], username: string, password: string, nc = 1, pick = 0): string {
  const challenge = selectChallenge([challengeValues[pick]]);
  return computeAuthorization(challenge, { username, password }, { method: 'INVITE', uri: URI }, nc);
}

async function challengeOf(auth: DigestAuthenticator): Promise<string[]> {
  const outcome = await auth.authenticate(invite(), SOURCE);
  if (outcome.ok) throw new Error('admitted without credentials');
  expect(outcome.refusal).toMatchObject({ status: 401, cause: 'auth_challenged' });
  return (outcome.refusal.headers ?? [])
    .filter(([name]) => name === 'WWW-Authenticate')
    .map(([, value]) => value);
}

describe('DigestAuthenticator (UAS digest, RFC 7616 / RFC 8760)', () => {
  it('challenges with MD5 first (what SIPp and sip.js read), then SHA-256, both qop="auth", one nonce', async () => {
    const { auth } = setup();
    expect((await challengeOf(auth)).map((v) => selectChallenge([v]).algorithm)).toEqual(['MD5', 'SHA-256']);
  });

  it('offers the algorithms in the order configured', async () => {
    const { auth } = setup(60, ['SHA-256', 'MD5']);
    const values = await challengeOf(auth);
    expect(values).toHaveLength(2);
    const [sha, md5] = values.map((v) => selectChallenge([v]));
    expect(sha.algorithm).toBe('SHA-256');
    expect(md5.algorithm).toBe('MD5');
    expect(sha.qop).toEqual(['auth']);
    expect(sha.nonce).toBe(md5.nonce);
    expect(sha.realm).toBe('uasmedia');
  });

  it('admits right answers with SHA-256 and with MD5, and a stored HA1', async () => {
    const { auth, lookups } = setup(60, ['SHA-256', 'MD5']);
    expect(
      await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 's3cret', 1, 0)), SOURCE)
    ).toEqual({ ok: true, username: 'alice' });
    expect(
      await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 's3cret', 1, 1)), SOURCE)
    ).toEqual({ ok: true, username: 'alice' });
    expect(
      await auth.authenticate(invite(answer(await challengeOf(auth), 'bob', 'hunter2', 1, 1)), SOURCE)
    ).toEqual({
      ok: true,
      username: 'bob'
    });
    // An HA1 is for one algorithm: a SHA-256 answer cannot match an MD5 HA1.
    expect(
      await auth.authenticate(invite(answer(await challengeOf(auth), 'bob', 'hunter2', 1, 0)), SOURCE)
    ).toMatchObject({ ok: false, refusal: { status: 403 } });
    expect(lookups).toContain('uasmedia/alice');
  });

  it('refuses a wrong password and an unknown user with 403', async () => {
    const { auth } = setup();
    expect(
      await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 'guess')), SOURCE)
    ).toMatchObject({
      ok: false,
      refusal: { status: 403, cause: 'auth_failed' }
    });
    expect(
      await auth.authenticate(invite(answer(await challengeOf(auth), 'mallory', 'x')), SOURCE)
    ).toMatchObject({
      ok: false,
      refusal: { status: 403, cause: 'auth_failed' }
    });
  });

  it('retires a nonce after a wrong answer: later answers on it, right or wrong, get a fresh 401 without a lookup', async () => {
    const { auth, lookups } = setup();
    const values = await challengeOf(auth);
    expect(await auth.authenticate(invite(answer(values, 'alice', 'guess', 1)), SOURCE)).toMatchObject({
      ok: false,
      refusal: { status: 403, cause: 'auth_failed' }
    });
    expect(lookups).toHaveLength(1);
    for (const [password, nc] of [
      ['guess2', 2],
      ['s3cret', 3]
    ] as const) {
      const outcome = await auth.authenticate(invite(answer(values, 'alice', password, nc)), SOURCE);
      expect(outcome).toMatchObject({ ok: false, refusal: { status: 401, cause: 'auth_replayed' } });
      if (outcome.ok) return;
      const fresh = selectChallenge([outcome.refusal.headers![0][1]]);
      expect(fresh.nonce).not.toBe(selectChallenge([values[0]]).nonce);
      expect(fresh.stale).toBe(false);
    }
    expect(lookups).toHaveLength(1);
    expect(auth.rememberedNonces).toBe(1);
  });

  it('takes the password returned as a plain string, and names the expected shapes when given anything else', async () => {
    const make = (secret: unknown): DigestAuthenticator =>
      new DigestAuthenticator({ realm: 'uasmedia', credentials: () => secret as string });
    const plain = make('s3cret');
    expect(
      await plain.authenticate(invite(answer(await challengeOf(plain), 'alice', 's3cret')), SOURCE)
    ).toEqual({
      ok: true,
      username: 'alice'
    });
    for (const [secret, got] of [
      [1234, 'got number'],
      [{ pass: 'x' }, 'got an object with keys ["pass"]'],
      [null, 'got null']
    ] as const) {
      const odd = make(secret);
      const attempt = odd.authenticate(invite(answer(await challengeOf(odd), 'alice', 's3cret')), SOURCE);
      await expect(attempt).rejects.toThrow(TypeError);
      await expect(
        odd.authenticate(invite(answer(await challengeOf(odd), 'alice', 's3cret')), SOURCE)
      ).rejects.toThrow(
        `a password string, { password: string }, { ha1: string, algorithm: 'MD5' | 'SHA-256' } or undefined for an unknown user; ${got}`
      );
    }
  });

  it('accepts a growing nonce count and refuses a replayed one with a fresh challenge', async () => {
    const { auth } = setup();
    const values = await challengeOf(auth);
    const first = answer(values, 'alice', 's3cret', 1);
    expect((await auth.authenticate(invite(first), SOURCE)).ok).toBe(true);
    const replay = await auth.authenticate(invite(first), SOURCE);
    expect(replay).toMatchObject({ ok: false, refusal: { status: 401, cause: 'auth_replayed' } });
    expect((await auth.authenticate(invite(answer(values, 'alice', 's3cret', 2)), SOURCE)).ok).toBe(true);
    expect((await auth.authenticate(invite(answer(values, 'alice', 's3cret', 2)), SOURCE)).ok).toBe(false);
    expect(auth.rememberedNonces).toBe(1);
  });

  it('forgets expired nonces as new ones are used: it holds one lifetime of first uses, not more', async () => {
    const { auth, advance } = setup(1);
    for (let i = 0; i < 50; i++) {
      const password = i % 2 === 0 ? 's3cret' : 'guess';
      await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', password)), SOURCE);
    }
    expect(auth.rememberedNonces).toBe(50);
    advance(1001);
    expect(
      (await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 's3cret')), SOURCE)).ok
    ).toBe(true);
    expect(auth.rememberedNonces).toBe(1);
  });

  it('when full of live nonces, challenges a right answer on a new nonce again instead of admitting it unchecked', async () => {
    const { auth, advance } = setup(60, undefined, 3);
    const used: string[][] = [];
    for (let i = 0; i < 3; i++) {
      used.push(await challengeOf(auth));
      expect((await auth.authenticate(invite(answer(used[i], 'alice', 's3cret')), SOURCE)).ok).toBe(true);
    }
    const crowdedOut = await auth.authenticate(
      invite(answer(await challengeOf(auth), 'alice', 's3cret')),
      SOURCE
    );
    expect(crowdedOut).toMatchObject({ ok: false, refusal: { status: 401, cause: 'auth_challenged' } });
    // A wrong answer is still refused, and a remembered nonce still signs with a growing count.
    const wrong = await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 'guess')), SOURCE);
    expect(wrong).toMatchObject({ ok: false, refusal: { status: 403, cause: 'auth_failed' } });
    expect((await auth.authenticate(invite(answer(used[0], 'alice', 's3cret', 2)), SOURCE)).ok).toBe(true);
    expect((await auth.authenticate(invite(answer(used[0], 'alice', 's3cret', 2)), SOURCE)).ok).toBe(false);
    expect(auth.rememberedNonces).toBe(4); // three that signed, and the wrong answer's, retired apart
    advance(60_001);
    expect(
      (await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 's3cret')), SOURCE)).ok
    ).toBe(true);
    expect(auth.rememberedNonces).toBe(1);
  });

  it('takes an answer only from the source its nonce was sent to: from another, a fresh 401, not a wrong answer', async () => {
    const { auth, lookups } = setup();
    const values = await challengeOf(auth);
    for (const password of ['guess', 's3cret']) {
      const elsewhere = await auth.authenticate(invite(answer(values, 'alice', password)), '192.0.2.99');
      expect(elsewhere).toMatchObject({ ok: false, refusal: { status: 401, cause: 'auth_challenged' } });
    }
    expect(lookups).toEqual([]);
    expect((await auth.authenticate(invite(answer(values, 'alice', 's3cret')), SOURCE)).ok).toBe(true);
  });

  it("keeps wrong answers' nonces apart: however many, they never crowd out a right answer", async () => {
    const { auth } = setup(60, undefined, 3);
    const wrong: string[][] = [];
    for (let i = 0; i < 10; i++) {
      wrong.push(await challengeOf(auth));
      const refused = await auth.authenticate(invite(answer(wrong[i], 'alice', 'guess')), SOURCE);
      expect(refused).toMatchObject({ ok: false, refusal: { status: 403, cause: 'auth_failed' } });
    }
    expect(auth.rememberedNonces).toBe(3);
    // The newest retired nonce still takes nothing; a right answer on a fresh one is admitted.
    const retired = await auth.authenticate(invite(answer(wrong[9], 'alice', 's3cret', 2)), SOURCE);
    expect(retired).toMatchObject({ ok: false, refusal: { status: 401, cause: 'auth_replayed' } });
    expect(
      (await auth.authenticate(invite(answer(await challengeOf(auth), 'alice', 's3cret')), SOURCE)).ok
    ).toBe(true);
    expect(auth.rememberedNonces).toBe(4);
  });

  it('answers stale=true to a right answer on an expired nonce, and 403 to a wrong one', async () => {
    const { auth, advance } = setup(1);
    const values = await challengeOf(auth);
    advance(1001);
    const stale = await auth.authenticate(invite(answer(values, 'alice', 's3cret')), SOURCE);
    expect(stale).toMatchObject({ ok: false, refusal: { status: 401 } });
    if (stale.ok) return;
    expect(selectChallenge([stale.refusal.headers![0][1]]).stale).toBe(true);
    expect(await auth.authenticate(invite(answer(values, 'alice', 'guess')), SOURCE)).toMatchObject({
      ok: false,
      refusal: { status: 403 }
    });
  });

  it('challenges again, without a lookup, for a nonce it never issued or a forged one', async () => {
    const { auth, lookups } = setup();
    const values = await challengeOf(auth);
    const forged = values[0].replace(
      /nonce="([^"]+)"/,
      (_m, n: string) => `nonce="${n.slice(0, -2)}${n.endsWith('AA') ? 'BB' : 'AA'}"`
    );
    expect((await auth.authenticate(invite(answer([forged], 'alice', 's3cret')), SOURCE)).ok).toBe(false);
    const other = new DigestAuthenticator({ realm: 'uasmedia', credentials: () => ({ password: 's3cret' }) });
    const foreign = (await other.authenticate(invite(), SOURCE)) as {
      ok: false;
      refusal: { headers: Array<[string, string]> };
    };
    expect(
      await auth.authenticate(invite(answer([foreign.refusal.headers[0][1]], 'alice', 's3cret')), SOURCE)
    ).toMatchObject({ ok: false, refusal: { status: 401 } });
    expect(lookups).toHaveLength(0);
  });

  it('refuses an answer for another target (403), takes one without the user part, and asks again for one without qop', async () => {
    const { auth } = setup();
    const values = await challengeOf(auth);
    const challenge = selectChallenge([values[0]]);
    const elsewhere = computeAuthorization(
      challenge,
      { username: 'alice', password: 's3cret' },
      { method: 'INVITE', uri: 'sip:other@127.0.0.1' },
      1
    );
    expect(await auth.authenticate(invite(elsewhere), SOURCE)).toMatchObject({
      ok: false,
      refusal: { status: 403 }
    });
    // Same host and port, another room: an answer for sip:secretroom@... does not open room42.
    const otherRoom = computeAuthorization(
      selectChallenge([(await challengeOf(auth))[0]]),
      { username: 'alice', password: 's3cret' },
      { method: 'INVITE', uri: 'sip:secretroom@127.0.0.1:5060' },
      1
    );
    expect(await auth.authenticate(invite(otherRoom), SOURCE)).toMatchObject({
      ok: false,
      refusal: { status: 403, cause: 'auth_failed' }
    });
    // SIPp's digest-uri has no user part: same host and port is the same target.
    const sippStyle = computeAuthorization(
      selectChallenge([(await challengeOf(auth))[0]]),
      { username: 'alice', password: 's3cret' },
      { method: 'INVITE', uri: 'sip:127.0.0.1:5060' },
      1
    );
    expect(await auth.authenticate(invite(sippStyle), SOURCE)).toEqual({ ok: true, username: 'alice' });
    const noQop = computeAuthorization(
      { ...challenge, qop: [] },
      { username: 'alice', password: 's3cret' },
      { method: 'INVITE', uri: URI },
      1
    );
    expect(await auth.authenticate(invite(noQop), SOURCE)).toMatchObject({
      ok: false,
      refusal: { status: 401 }
    });
  });

  it('rejects bad options with clear errors', () => {
    const credentials = (): undefined => undefined;
    expect(() => new DigestAuthenticator({ realm: '', credentials })).toThrow(RangeError);
    expect(() => new DigestAuthenticator({ realm: 'a"b', credentials })).toThrow(/without quotes/);
    expect(() => new DigestAuthenticator({ realm: 'r', credentials, nonceLifetimeSeconds: 0 })).toThrow(
      RangeError
    );
    expect(
      () => new DigestAuthenticator({ realm: 'r', credentials, algorithms: ['SHA-1' as 'MD5'] })
    ).toThrow(RangeError);
    expect(
      () => new DigestAuthenticator({ realm: 'r', credentials: 'x' as unknown as typeof credentials })
    ).toThrow(TypeError);
  });
});
