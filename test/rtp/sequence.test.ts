import { describe, expect, it } from 'vitest';
import {
  WrapUnwrapper,
  seqAdd16,
  seqAfter16,
  seqDiff16,
  tsAdd32,
  tsDiff32
} from '../../engine/rtp/sequence.js';

describe('sequence arithmetic', () => {
  it('treats 65535 -> 0 as one step forward', () => {
    expect(seqDiff16(0, 65535)).toBe(1);
    expect(seqDiff16(65535, 0)).toBe(-1);
    expect(seqAfter16(0, 65535)).toBe(true);
    expect(seqAfter16(65535, 0)).toBe(false);
    expect(seqAdd16(65535, 1)).toBe(0);
    expect(seqDiff16(100, 100)).toBe(0);
    expect(seqDiff16(32767, 0)).toBe(32767);
    expect(seqDiff16(32768, 0)).toBe(-32768);
  });

  it('treats 2^32-1 -> 0 as one step forward', () => {
    expect(tsDiff32(0, 0xffffffff)).toBe(1);
    expect(tsDiff32(0xffffffff, 0)).toBe(-1);
    expect(tsAdd32(0xffffffff, 1)).toBe(0);
    expect(tsDiff32(80, 0xffffff60)).toBe(240);
  });

  it('unwraps 16-bit sequence numbers monotonically across the wrap, reordered ones included', () => {
    const u = new WrapUnwrapper(16);
    const a = u.unwrap(65534);
    expect(u.unwrap(65535)).toBe(a + 1);
    expect(u.unwrap(1)).toBe(a + 3);
    expect(u.unwrap(0)).toBe(a + 2); // late, reordered
    expect(u.unwrap(2)).toBe(a + 4);
    expect(u.peek(65535)).toBe(a + 1);
  });

  it('unwraps 32-bit timestamps across 2^32-1 -> 0', () => {
    const u = new WrapUnwrapper(32);
    const a = u.unwrap(0xffffff60);
    expect(u.unwrap(0)).toBe(a + 160);
    expect(u.unwrap(160)).toBe(a + 320);
  });
});
