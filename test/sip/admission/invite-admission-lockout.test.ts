/**
 * The digest lockout inside InviteAdmission with lookups that take their time (a database): the
 * over-the-wire behaviour is in test/admission/auth-lockout.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { InviteAdmission } from '../../../sip/admission/invite-admission.js';
import { computeAuthorization, selectChallenge } from '../../../sip/auth/digest.js';
import type { SipRequest } from '../../../sip/message/message.js';
import { inviteAnswering } from '../../support/sip-messages.js';

const URI = 'sip:room42@127.0.0.1:5060';

function invite(authorization?: string): SipRequest {
  return inviteAnswering(URI, authorization);
}

describe('InviteAdmission digest lockout', () => {
  it('refuses a right answer whose slow lookup ended after wrong ones from the same source locked it', async () => {
    const lookups: Array<() => void> = [];
    const admission = new InviteAdmission({
      auth: {
        realm: 'uasmedia',
        algorithms: ['MD5'],
        lockout: { failures: 2 },
        credentials: () => new Promise<string>((resolve) => lookups.push(() => resolve('s3cret')))
      }
    });
    const answer = async (password: string): Promise<SipRequest> => {
      const challenged = await admission.admit(invite(), '192.0.2.7');
      if (challenged.admitted) throw new Error('admitted without credentials');
      const challenge = selectChallenge([challenged.refusal.headers![0][1]]);
      return invite(
        computeAuthorization(challenge, { username: 'alice', password }, { method: 'INVITE', uri: URI }, 1)
      );
    };
    const requests = [await answer('guess-1'), await answer('guess-2'), await answer('s3cret')];
    const results = requests.map((request) => admission.admit(request, '192.0.2.7'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(lookups).toHaveLength(3);
    for (const lookedUp of lookups) {
      lookedUp();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const outcomes = await Promise.all(results);
    expect(outcomes.map((o) => (o.admitted ? 'admitted' : o.refusal.cause))).toEqual([
      'auth_failed',
      'auth_failed',
      'auth_locked'
    ]);
    expect(outcomes.every((o) => !o.admitted && o.refusal.status === 403)).toBe(true);
  });
});
