/**
 * Where a session sends before the peer's RTP has latched. A caller behind NAT names its private
 * address in its SDP: nothing is sent there, and its audio goes where its RTP comes from once that
 * has latched. Any other peer (not behind NAT, or naming the address its signalling comes from)
 * is sent to at its SDP address at once.
 */
import { describe, expect, it } from 'vitest';
import { PeerLatch } from '../../engine/rtp/peer-latch.js';
import type { ProbationPacket } from '../../engine/rtp/latch-probation.js';

const PRIVATE_SDP = { address: '10.0.0.5', port: 4000 };
const PUBLIC = '198.51.100.1';

function packet(seq: number): ProbationPacket {
  return { ssrc: 0x1234, sequenceNumber: seq };
}

describe('PeerLatch.destination', () => {
  it("sends nothing to a NATed caller's private SDP address, then to where its RTP latched", () => {
    const latch = new PeerLatch('strict', PRIVATE_SDP, PUBLIC, true);
    expect(latch.destination).toBeUndefined();
    let outcome = latch.admitRtp(PUBLIC, 31000, packet(1));
    for (let seq = 2; outcome === 'onProbation' && seq < 20; seq++)
      outcome = latch.admitRtp(PUBLIC, 31000, packet(seq));
    expect(outcome).toBe('latchedNow');
    expect(latch.destination).toEqual({ address: PUBLIC, port: 31000 });
  });

  it('waits again after a re-INVITE names a new private address, until RTP latches anew', () => {
    const latch = new PeerLatch('strict', PRIVATE_SDP, PUBLIC, true);
    latch.admitRtp('10.0.0.5', 4000, packet(1));
    expect(latch.destination).toEqual(PRIVATE_SDP); // its SDP source latches at once, wherever it is
    latch.setRemote({ address: '10.0.0.6', port: 4002 });
    expect(latch.destination).toBeUndefined();
  });

  it('sends to the SDP address at once when it is where the NATed caller signals from', () => {
    const latch = new PeerLatch('strict', { address: PUBLIC, port: 4000 }, PUBLIC, true);
    expect(latch.destination).toEqual({ address: PUBLIC, port: 4000 });
  });

  it('sends to the SDP address at once for a caller not behind NAT, wherever it signals from', () => {
    const latch = new PeerLatch('strict', PRIVATE_SDP, PUBLIC);
    expect(latch.destination).toEqual(PRIVATE_SDP);
    expect(new PeerLatch('first-packet', PRIVATE_SDP, PUBLIC).destination).toEqual(PRIVATE_SDP);
  });
});
