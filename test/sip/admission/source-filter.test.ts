import { describe, it, expect } from 'vitest';
import { SourceFilter } from '../../../sip/admission/source-filter.js';

describe('SourceFilter', () => {
  it('lets everyone in when no list is given', () => {
    const filter = new SourceFilter({});
    expect(filter.restricts).toBe(false);
    expect(filter.allows('203.0.113.9')).toBe(true);
    expect(filter.allows('2001:db8::1')).toBe(true);
  });

  it('refuses IPv4 and IPv6 sources inside a deny block and nothing else', () => {
    const filter = new SourceFilter({ deny: ['127.0.0.2', '10.0.0.0/8', '2001:db8::/32'] });
    expect(filter.allows('127.0.0.2')).toBe(false);
    expect(filter.allows('127.0.0.3')).toBe(true);
    expect(filter.allows('10.200.3.4')).toBe(false);
    expect(filter.allows('11.0.0.1')).toBe(true);
    expect(filter.allows('2001:db8:ffff::7')).toBe(false);
    expect(filter.allows('2001:db9::7')).toBe(true);
  });

  it('admits only allow-list members, and deny wins inside an allowed block', () => {
    const filter = new SourceFilter({ allow: ['127.0.0.0/8', '::1'], deny: ['127.0.0.2/32'] });
    expect(filter.allows('127.0.0.1')).toBe(true);
    expect(filter.allows('127.0.0.2')).toBe(false);
    expect(filter.allows('192.0.2.1')).toBe(false);
    expect(filter.allows('::1')).toBe(true);
    expect(filter.allows('::2')).toBe(false);
  });

  it('checks an IPv4-mapped IPv6 source as its IPv4 address', () => {
    const filter = new SourceFilter({ deny: ['192.0.2.0/24'] });
    expect(filter.allows('::ffff:192.0.2.10')).toBe(false);
    expect(filter.allows('::ffff:198.51.100.1')).toBe(true);
  });

  it('refuses a source that is not an IP literal', () => {
    expect(new SourceFilter({ allow: ['0.0.0.0/0'] }).allows('example.com')).toBe(false);
  });

  it('gives the same verdict when one address is asked again (its cache)', () => {
    const filter = new SourceFilter({ deny: ['127.0.0.2'] });
    for (let i = 0; i < 3; i++) {
      expect(filter.allows('127.0.0.2')).toBe(false);
      expect(filter.allows('127.0.0.1')).toBe(true);
    }
  });

  it('names the bad entry of a list in a RangeError', () => {
    expect(() => new SourceFilter({ deny: ['10.0.0.0/33'] })).toThrow(
      /deny list entry '10\.0\.0\.0\/33' has prefix length '33', expected 0-32/
    );
    expect(() => new SourceFilter({ allow: ['example.com'] })).toThrow(RangeError);
    expect(() => new SourceFilter({ allow: ['::1/abc'] })).toThrow(/expected 0-128/);
    expect(() => new SourceFilter({ allow: [42 as unknown as string] })).toThrow(TypeError);
  });
});
