import { describe, expect, it } from 'vitest';
import { ReceptionStats } from '../../engine/rtp/rtcp-stats.js';
import { seededRandom } from '../support/rtp-trace.js';

const packet = (sequenceNumber: number, timestamp: number, arrivalMs: number, ssrc: number) => ({
  sequenceNumber,
  timestamp,
  arrivalMs,
  ssrc
});

/** RFC 3550 A.8 literally, in integer arithmetic scaled by 16 (the reference implementation). */
function referenceJitter(arrivalsTs: number[], rtpTs: number[]): number {
  let jitter = 0;
  let prevTransit = 0;
  for (let i = 0; i < arrivalsTs.length; i++) {
    const transit = arrivalsTs[i] - rtpTs[i];
    if (i > 0) {
      let d = transit - prevTransit;
      if (d < 0) d = -d;
      jitter += d - ((jitter + 8) >> 4);
    }
    prevTransit = transit;
  }
  return jitter >> 4;
}

describe('RFC 3550 reception statistics', () => {
  it('computes interarrival jitter like the A.8 reference on a synthetic trace, across a timestamp wrap', () => {
    const rnd = seededRandom(7);
    const stats = new ReceptionStats(8000);
    const arrivals: number[] = [];
    const rtp: number[] = [];
    const ts0 = 0xffffffff - 160 * 100; // wraps after 100 packets
    for (let i = 0; i < 500; i++) {
      const arrivalUnits = i * 160 + 400 + Math.floor(rnd() * 240); // up to 30 ms of jitter, in 8 kHz units
      arrivals.push(arrivalUnits);
      rtp.push(i * 160); // unwrapped for the reference
      stats.update(packet((5000 + i) & 0xffff, (ts0 + i * 160) >>> 0, arrivalUnits / 8, 0xabc));
    }
    const expected = referenceJitter(arrivals, rtp);
    expect(expected).toBeGreaterThan(40);
    expect(Math.abs(stats.jitter - expected)).toBeLessThanOrEqual(1.5);
    expect(stats.reportBlock(0).jitter).toBeCloseTo(expected, -1);
    expect(stats.jitterMs).toBeCloseTo(stats.jitter / 8, 6);
  });

  it('leaves a timeline jump out of the jitter: a restart, or a peer adding 2^31 to every timestamp', () => {
    const stats = new ReceptionStats(8000);
    let ts = 0;
    for (let i = 0; i < 50; i++) stats.update(packet(i, (ts += 160), i * 20, 0xabc));
    stats.update(packet(50, (ts = (ts + 0x80000000) >>> 0), 50 * 20, 0xabc)); // a restart
    for (let i = 51; i < 100; i++) stats.update(packet(i, (ts += 160) >>> 0, i * 20, 0xabc));
    expect(stats.jitterMs).toBeLessThan(1);
    // A hostile peer: a jump in every packet.
    for (let i = 100; i < 200; i++)
      stats.update(packet(i, (ts = (ts + 160 + 0x80000000) >>> 0), i * 20, 0xabc));
    expect(stats.jitterMs).toBeLessThan(1);
    expect(stats.reportBlock(0).jitter).toBeLessThan(8);
    // Real jitter is still measured: packets 40 ms early and late in turn.
    for (let i = 200; i < 300; i++)
      stats.update(packet(i, (ts += 160) >>> 0, i * 20 + (i % 2 ? 40 : 0), 0xabc));
    expect(stats.jitterMs).toBeGreaterThan(30);
  });

  it('reports a fraction lost of 255, not a wrapped shift, when over 2^23 packets went missing in one interval', () => {
    const stats = new ReceptionStats(8000);
    let t = 0;
    // Valid after two in sequence (A.1), then each packet 2999 on (just within MAX_DROPOUT).
    stats.update(packet(0, 0, (t += 20), 1));
    let seq = 1;
    for (let i = 1; i < 3200; i++, seq += 2999)
      stats.update(packet(seq & 0xffff, (i * 160) >>> 0, (t += 20), 1));
    const block = stats.reportBlock(t);
    expect(stats.expected - stats.received).toBeGreaterThan(2 ** 23);
    expect(block.fractionLost).toBe(255);
  });

  it('counts cumulative and fractional loss per A.3 across a sequence wrap', () => {
    const stats = new ReceptionStats(8000);
    let t = 0;
    // 200 packets from 65500, every 10th lost
    for (let i = 0; i < 200; i++)
      if (i % 10 !== 5) stats.update(packet((65500 + i) & 0xffff, i * 160, (t += 20), 1));
    const first = stats.reportBlock(t);
    // A.1 probation: the source is valid from its 2nd in-sequence packet, which becomes base_seq.
    expect(stats.expected).toBe(199);
    expect(stats.received).toBe(179);
    expect(first.cumulativeLost).toBe(20);
    expect(first.fractionLost).toBe(Math.floor((20 * 256) / 199));
    expect(first.highestSequence).toBe(65536 + ((65500 + 199) & 0xffff));
    // next interval: 100 packets, none lost
    for (let i = 200; i < 300; i++) stats.update(packet((65500 + i) & 0xffff, i * 160, (t += 20), 1));
    const second = stats.reportBlock(t);
    expect(second.fractionLost).toBe(0);
    expect(second.cumulativeLost).toBe(20);
  });

  it('reports LSR and DLSR from the last sender report', () => {
    const stats = new ReceptionStats(8000);
    stats.update(packet(1, 0, 0, 1));
    stats.update(packet(2, 160, 20, 1));
    stats.onSenderReport(0x12345678, 1000);
    const block = stats.reportBlock(1500);
    expect(block.lastSenderReport).toBe(0x12345678);
    expect(block.delaySinceLastSenderReport).toBe(32768); // 0.5 s in 1/65536 s
  });
});
