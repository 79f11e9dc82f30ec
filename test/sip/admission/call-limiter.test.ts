import { describe, it, expect } from 'vitest';
import { CallLimiter } from '../../../sip/admission/call-limiter.js';
import { KeyedTokenBuckets } from '../../../sip/admission/token-bucket.js';
import { InviteAdmission } from '../../../sip/admission/invite-admission.js';
import { request } from '../../support/sip-messages.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('CallLimiter', () => {
  it('refuses calls over the total ceiling with 503 and Retry-After until one ends', () => {
    const limiter = new CallLimiter({ maxCalls: 2, retryAfterSeconds: 7 });
    const endA = limiter.admit('127.0.0.1');
    limiter.admit('127.0.0.2');
    expect(limiter.check('127.0.0.3')).toEqual({
      cause: 'calls_total',
      status: 503,
      reason: 'Service Unavailable',
      headers: [['Retry-After', '7']]
    });
    endA();
    endA(); // a second call of the release counts nothing
    expect(limiter.calls).toBe(1);
    expect(limiter.check('127.0.0.3')).toBeUndefined();
  });

  it('answers 486 to a source over its own ceiling while others still get in', () => {
    const limiter = new CallLimiter({ maxCallsPerSource: 1 });
    const end = limiter.admit('127.0.0.2');
    expect(limiter.check('127.0.0.2')).toMatchObject({ cause: 'calls_per_source', status: 486 });
    expect(limiter.check('127.0.0.3')).toBeUndefined();
    end();
    expect(limiter.callsFrom('127.0.0.2')).toBe(0);
    expect(limiter.check('127.0.0.2')).toBeUndefined();
  });

  it('limits the rate per source with a token bucket and says when a token is back', () => {
    const c = clock();
    const limiter = new CallLimiter({ callsPerSecondPerSource: { ratePerSecond: 2, burst: 2 } }, c.now);
    limiter.admit('127.0.0.2');
    limiter.admit('127.0.0.2');
    const refusal = limiter.check('127.0.0.2');
    expect(refusal).toMatchObject({ cause: 'rate_per_source', status: 503, headers: [['Retry-After', '1']] });
    expect(limiter.check('127.0.0.3')).toBeUndefined();
    c.advance(499);
    expect(limiter.check('127.0.0.2')).toBeDefined();
    c.advance(1);
    expect(limiter.check('127.0.0.2')).toBeUndefined();
  });

  it('limits the total rate across sources', () => {
    const c = clock();
    const limiter = new CallLimiter({ callsPerSecond: 3 }, c.now);
    for (const source of ['a', 'b', 'c']) limiter.admit(source);
    expect(limiter.check('d')).toMatchObject({ cause: 'rate_total', status: 503 });
    c.advance(334);
    expect(limiter.check('d')).toBeUndefined();
  });

  it('rejects ceilings that are not whole numbers, and rates that are not positive', () => {
    expect(() => new CallLimiter({ maxCalls: -1 })).toThrow(/maxCalls must be a whole number/);
    expect(() => new CallLimiter({ maxCallsPerSource: 1.5 })).toThrow(RangeError);
    expect(() => new CallLimiter({ callsPerSecond: 0 })).toThrow(/ratePerSecond must be a positive number/);
    expect(() => new CallLimiter({ retryAfterSeconds: 0 })).toThrow(RangeError);
  });
});

describe('KeyedTokenBuckets', () => {
  it('keeps at most maxKeys sources, dropping full buckets first', () => {
    const buckets = new KeyedTokenBuckets({ ratePerSecond: 1 }, 100);
    for (let i = 0; i < 1000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`, i * 2000);
    expect(buckets.size).toBeLessThanOrEqual(100);
  });
});

describe('InviteAdmission per-source ceilings', () => {
  it('count one host as one source, whether it came as IPv4 or IPv4-mapped IPv6, in any case', async () => {
    // UDP on a dual-stack socket reports `::ffff:192.0.2.7` where TCP says `192.0.2.7`: one host
    // had two quotas.
    const admission = new InviteAdmission({ limits: { maxCallsPerSource: 1 } });
    const first = await admission.admit(request('INVITE'), '192.0.2.7');
    expect(first.admitted).toBe(true);
    for (const same of ['::ffff:192.0.2.7', '::FFFF:192.0.2.7']) {
      const again = await admission.admit(request('INVITE'), same);
      expect(again).toMatchObject({ admitted: false, refusal: { cause: 'calls_per_source', status: 486 } });
    }
    const v6 = await admission.admit(request('INVITE'), '2001:DB8::1');
    expect(v6.admitted).toBe(true);
    expect((await admission.admit(request('INVITE'), '2001:db8::1')).admitted).toBe(false);
    expect((await admission.admit(request('INVITE'), '192.0.2.8')).admitted).toBe(true);
  });

  it('count an IPv6 /64 as one source: a host cannot rotate its addresses past them', async () => {
    // A host with a /64 picks its own interface identifiers; keyed by the full address, each new
    // one had a fresh quota.
    let t = 1000;
    const admission = new InviteAdmission({
      limits: { maxCallsPerSource: 1, callsPerSecondPerSource: { ratePerSecond: 1, burst: 1 } },
      now: () => t
    });
    const first = await admission.admit(request('INVITE'), '2001:db8:1:2::1');
    expect(first.admitted).toBe(true);
    for (const rotated of ['2001:db8:1:2::2', '2001:db8:1:2:a:b:c:d', '2001:db8:1:2:ffff::1']) {
      const again = await admission.admit(request('INVITE'), rotated);
      expect(again, rotated).toMatchObject({ admitted: false, refusal: { cause: 'calls_per_source' } });
    }
    if (first.admitted) first.release();
    // The call ceiling is free again, but the /64's one token per second is spent.
    expect(await admission.admit(request('INVITE'), '2001:db8:1:2::3')).toMatchObject({
      admitted: false,
      refusal: { cause: 'rate_per_source' }
    });
    // The next /64 is another source.
    expect((await admission.admit(request('INVITE'), '2001:db8:1:3::1')).admitted).toBe(true);
    t += 1000;
    expect((await admission.admit(request('INVITE'), '2001:db8:1:2::4')).admitted).toBe(true);
  });

  it("count only the requests `sourceLimited` says: a cluster's trunk legs pass the source's ceilings, not the total", async () => {
    const trunk = (): ReturnType<typeof request> => {
      const r = request('INVITE');
      r.add('X-Trunk', 'yes');
      return r;
    };
    const admission = new InviteAdmission({
      limits: { maxCalls: 4, maxCallsPerSource: 1, callsPerSecondPerSource: { ratePerSecond: 1, burst: 1 } },
      sourceLimited: (r) => r.get('X-Trunk') === undefined
    });
    // A node's three legs from one address, then that address's own call as before.
    for (let i = 0; i < 3; i++) expect((await admission.admit(trunk(), '192.0.2.9')).admitted).toBe(true);
    expect((await admission.admit(request('INVITE'), '192.0.2.9')).admitted).toBe(true);
    expect(await admission.admit(request('INVITE'), '192.0.2.9')).toMatchObject({ admitted: false });
    // The total holds for them all.
    expect(await admission.admit(trunk(), '192.0.2.9')).toMatchObject({
      admitted: false,
      refusal: { cause: 'calls_total' }
    });
  });
});
