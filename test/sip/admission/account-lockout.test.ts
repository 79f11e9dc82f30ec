/**
 * One account guessed from many sources (InviteAdmission with its account lockout): the account
 * locks against sources it does not know, the phones that answered right for it keep getting in,
 * other accounts are untouched, and the lock lapses. Over real SIP: test/admission/auth-lockout.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { InviteAdmission, type InviteAdmissionOptions } from '../../../sip/admission/invite-admission.js';
import { AccountLockout } from '../../../sip/admission/account-lockout.js';
import { computeAuthorization, selectChallenge } from '../../../sip/auth/digest.js';
import type { SipRequest } from '../../../sip/message/message.js';
import { inviteAnswering } from '../../support/sip-messages.js';

const URI = 'sip:room42@127.0.0.1:5060';
const PASSWORDS: Record<string, string> = { alice: 'wonderland', bob: 'builder' };

function invite(authorization?: string): SipRequest {
  return inviteAnswering(URI, authorization);
}

function door(auth: Partial<NonNullable<InviteAdmissionOptions['auth']>> = {}) {
  let now = 1_000_000;
  const accountLocks: Array<[string, number]> = [];
  const admission = new InviteAdmission({
    auth: {
      realm: 'uasmedia',
      algorithms: ['MD5'],
      credentials: (_realm, username) => PASSWORDS[username],
      lockout: { failures: 10 },
      accountLockout: { failures: 3, windowSeconds: 60, lockSeconds: 120 },
      ...auth
    },
    onAccountLockout: (username, lockSeconds) => accountLocks.push([username, lockSeconds]),
    now: () => now
  });
  /** Asks for a challenge from `source`, answers it as `username` with `password`: the outcome's cause, or 'admitted'. */
  const call = async (source: string, username: string, password: string): Promise<string> => {
    const challenged = await admission.admit(invite(), source);
    if (challenged.admitted) throw new Error('admitted without credentials');
    const challenge = selectChallenge([challenged.refusal.headers![0][1]]);
    const answer = invite(
      computeAuthorization(challenge, { username, password }, { method: 'INVITE', uri: URI }, 1)
    );
    const outcome = await admission.admit(answer, source);
    if (outcome.admitted) {
      outcome.release();
      return 'admitted';
    }
    return `${outcome.refusal.status} ${outcome.refusal.cause}`;
  };
  return {
    admission,
    call,
    accountLocks,
    advance(ms: number) {
      now += ms;
    }
  };
}

describe('InviteAdmission account lockout', () => {
  it('locks an account guessed from many sources against new sources; its known phone, other accounts and the lapse are unaffected', async () => {
    const d = door();
    expect(await d.call('198.51.100.1', 'alice', 'wonderland')).toBe('admitted');
    for (const source of ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
      expect(await d.call(source, 'alice', `guess-from-${source}`)).toBe('403 auth_failed');
    expect(d.accountLocks).toEqual([['alice', 120]]);

    // A new source's right answer looks like a wrong one; no source locked itself (one guess each).
    expect(await d.call('192.0.2.4', 'alice', 'wonderland')).toBe('403 auth_locked');
    expect(await d.call('2001:db8:1:2::9', 'alice', 'wonderland')).toBe('403 auth_locked');
    expect(d.admission.authLockout!.locked('192.0.2.4')).toBe(false);
    expect(await d.call('198.51.100.1', 'alice', 'wonderland')).toBe('admitted');
    expect(await d.call('192.0.2.4', 'bob', 'builder')).toBe('admitted');
    // Wrong answers while locked do not make a second lock.
    expect(await d.call('192.0.2.5', 'alice', 'guess')).toBe('403 auth_locked');
    expect(d.accountLocks).toHaveLength(1);

    d.advance(120_000);
    expect(await d.call('192.0.2.4', 'alice', 'wonderland')).toBe('admitted');
  });

  it("does not count a known source's wrong answers against the account", async () => {
    const d = door();
    expect(await d.call('198.51.100.1', 'alice', 'wonderland')).toBe('admitted');
    // A phone with a stale password: five wrong answers, its own source's business only.
    for (let i = 0; i < 5; i++)
      expect(await d.call('198.51.100.1', 'alice', 'old-password')).toBe('403 auth_failed');
    expect(await d.call('192.0.2.1', 'alice', 'guess-1')).toBe('403 auth_failed');
    expect(await d.call('192.0.2.2', 'alice', 'guess-2')).toBe('403 auth_failed');
    expect(d.accountLocks).toEqual([]);
    expect(await d.call('192.0.2.3', 'alice', 'wonderland')).toBe('admitted');
    // A source known to bob is not known to alice.
    expect(await d.call('192.0.2.9', 'bob', 'builder')).toBe('admitted');
    expect(await d.call('192.0.2.9', 'alice', 'guess-3')).toBe('403 auth_failed');
    expect(d.accountLocks).toEqual([['alice', 120]]);
    expect(await d.call('192.0.2.9', 'alice', 'wonderland')).toBe('403 auth_locked');
  });

  it('counts every spelling of a name a case-insensitive lookup takes as one account', async () => {
    const d = door({ credentials: (_realm, username) => PASSWORDS[username.toLowerCase()] });
    expect(await d.call('192.0.2.1', 'alice', 'guess-1')).toBe('403 auth_failed');
    expect(await d.call('192.0.2.2', 'ALICE', 'guess-2')).toBe('403 auth_failed');
    expect(await d.call('192.0.2.3', 'Alice', 'guess-3')).toBe('403 auth_failed');
    expect(d.accountLocks).toEqual([['Alice', 120]]);
    for (const spelling of ['alice', 'aLiCe', 'ALICE'])
      expect(await d.call('192.0.2.4', spelling, 'wonderland')).toBe('403 auth_locked');
  });

  it('forgets failures outside the window, and locks nothing with accountLockout: false', async () => {
    const d = door();
    for (const source of ['192.0.2.1', '192.0.2.2']) await d.call(source, 'alice', 'guess');
    d.advance(60_000);
    await d.call('192.0.2.3', 'alice', 'guess');
    expect(d.accountLocks).toEqual([]);
    expect(await d.call('192.0.2.4', 'alice', 'wonderland')).toBe('admitted');

    const open = door({ accountLockout: false });
    for (let i = 1; i <= 20; i++)
      expect(await open.call(`192.0.2.${i}`, 'alice', 'guess')).toBe('403 auth_failed');
    expect(open.admission.accountLockout).toBeUndefined();
    expect(await open.call('192.0.2.30', 'alice', 'wonderland')).toBe('admitted');
  });
});

describe('AccountLockout memory', () => {
  it('stays bounded when usernames are sprayed, long ones included', () => {
    let now = 0;
    const lockout = new AccountLockout({ failures: 3, windowMs: 60_000, lockMs: 60_000 }, () => now);
    for (let i = 0; i < 25_000; i++) {
      const username = i % 2 === 0 ? `user-${i}` : `${'x'.repeat(4000)}-${i}`;
      lockout.fail(username, '192.0.2.1');
      lockout.succeeded(username, `192.0.2.${i % 200}`);
      now++;
    }
    expect(lockout.size).toBeLessThanOrEqual(20_000);
    // The latest accounts are still there: known and counted.
    const latest = `${'x'.repeat(4000)}-24999`;
    expect(lockout.fail(latest, '192.0.2.7')).toBe(false);
    expect(lockout.fail(latest, '192.0.2.8')).toBe(true);
    expect(lockout.locked(latest, '192.0.2.8')).toBe(true);
    expect(lockout.locked(latest, `192.0.2.${24_999 % 200}`)).toBe(false);
  });

  it('keeps the latest sources of an account known, up to 16', () => {
    const lockout = new AccountLockout({ failures: 1, windowMs: 60_000, lockMs: 60_000 }, () => 0);
    for (let i = 0; i < 20; i++) lockout.succeeded('alice', `192.0.2.${i}`);
    expect(lockout.fail('alice', '198.51.100.1')).toBe(true);
    expect(lockout.locked('alice', '192.0.2.19')).toBe(false);
    expect(lockout.locked('alice', '192.0.2.4')).toBe(false);
    expect(lockout.locked('alice', '192.0.2.3')).toBe(true);
  });
});
