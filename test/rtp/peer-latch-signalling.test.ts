/**
 * A caller behind NAT that changes networks mid-call: once its signalling comes from its new
 * address (PeerLatch.setSignallingAddress), RTP from that host is the peer's and RTP from the
 * old one is a stranger's, under strict latching. The SDP address (private, unreachable) stays.
 */
import { describe, expect, it } from 'vitest';
import { PeerLatch } from '../../engine/rtp/peer-latch.js';

describe('PeerLatch.setSignallingAddress', () => {
  it("moves the peer's host from the old signalling address to the new one", () => {
    const latch = new PeerLatch('strict', { address: '10.0.0.5', port: 4000 }, '198.51.100.1');
    expect(latch.acceptsRtp('198.51.100.1', 30000)).toBe(true);
    expect(latch.acceptsRtp('203.0.113.9', 30001)).toBe(false);
    latch.setSignallingAddress('203.0.113.9');
    expect(latch.acceptsRtp('198.51.100.1', 30000)).toBe(false);
    expect(latch.acceptsRtp('203.0.113.9', 30001)).toBe(true);
    expect(latch.acceptsRtp('::ffff:203.0.113.9', 30001)).toBe(true);
    expect(latch.acceptsRtp('10.0.0.5', 4000)).toBe(true);
    expect(latch.acceptsRtcp('203.0.113.9', 30002)).toBe(true);
    expect(latch.acceptsRtcp('198.51.100.1', 30002)).toBe(false);
  });
});
