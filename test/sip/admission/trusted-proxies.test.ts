/**
 * The caller behind a trusted proxy (sip/admission/trusted-proxies.ts) as InviteAdmission counts
 * it, seen through the per-source call ceiling: over the wire, through Kamailio, in
 * test/cluster/kamailio-front.test.ts.
 */
import { describe, it, expect } from 'vitest';
import { InviteAdmission } from '../../../sip/admission/invite-admission.js';
import { SourceFilter } from '../../../sip/admission/source-filter.js';
import { TrustedProxies } from '../../../sip/admission/trusted-proxies.js';
import { request } from '../../support/sip-messages.js';

const PROXY = '127.0.0.13';

function forwarded(...callers: string[]): ReturnType<typeof request> {
  return request('INVITE', {
    uri: 'sip:room@127.0.0.1',
    extra: callers.map((c) => `X-Uasmedia-Source: ${c}`)
  });
}

function admission(callers?: SourceFilter): InviteAdmission {
  return new InviteAdmission({
    limits: { maxCallsPerSource: 1 },
    forwarded: { proxies: new TrustedProxies([`${PROXY}/32`]), callers }
  });
}

async function outcome(
  door: InviteAdmission,
  req: ReturnType<typeof request>,
  from: string
): Promise<string> {
  const result = await door.admit(req, from);
  return result.admitted ? 'admitted' : `${result.refusal.status} ${result.refusal.cause}`;
}

describe('callers behind a trusted proxy', () => {
  it('counts each caller a trusted proxy names as its own source', async () => {
    const door = admission();
    expect(await outcome(door, forwarded('192.0.2.1'), PROXY)).toBe('admitted');
    expect(await outcome(door, forwarded('192.0.2.2'), PROXY)).toBe('admitted');
    expect(await outcome(door, forwarded('192.0.2.1'), PROXY)).toBe('486 calls_per_source');
    // An IPv6 caller, and the last header when there are two (a proxy that appends its own).
    expect(await outcome(door, forwarded('192.0.2.9', '2001:db8::5'), PROXY)).toBe('admitted');
    expect(await outcome(door, forwarded('2001:db8::6'), PROXY)).toBe('486 calls_per_source');
    // A proxy's INVITE naming nobody, or not an address, is the proxy's own.
    expect(await outcome(door, forwarded(), PROXY)).toBe('admitted');
    expect(await outcome(door, forwarded('not-an-address'), PROXY)).toBe('486 calls_per_source');
  });

  it('ignores the header from anyone else', async () => {
    const door = admission();
    expect(await outcome(door, forwarded('192.0.2.1'), '127.0.0.14')).toBe('admitted');
    expect(await outcome(door, forwarded('192.0.2.2'), '127.0.0.14')).toBe('486 calls_per_source');
    expect(await outcome(door, forwarded('192.0.2.2'), PROXY)).toBe('admitted');
  });

  it('refuses a named caller whom the SIP source lists refuse', async () => {
    const door = admission(new SourceFilter({ deny: ['198.51.100.0/24'] }));
    expect(await outcome(door, forwarded('198.51.100.7'), PROXY)).toBe('403 source_denied');
    expect(await outcome(door, forwarded('192.0.2.1'), PROXY)).toBe('admitted');
  });

  it('takes a caller behind NAT from a trusted proxy only', () => {
    const nated = request('INVITE', { uri: 'sip:room@127.0.0.1', extra: ['X-Uasmedia-Nat: yes'] });
    const door = admission();
    expect(door.callerBehindNat(nated, PROXY)).toBe(true);
    expect(door.callerBehindNat(nated, '127.0.0.99')).toBe(false);
    expect(door.callerBehindNat(forwarded('192.0.2.1'), PROXY)).toBe(false);
  });

  it('needs at least one valid entry, and names the option when one is wrong', () => {
    expect(() => new TrustedProxies([])).toThrow(/at least one/);
    expect(() => new TrustedProxies(['10.0.0.0/33'])).toThrow(/trustedProxies list entry '10.0.0.0\/33'/);
    expect(() => new TrustedProxies(['kamailio.local'])).toThrow(RangeError);
  });
});
