import { describe, expect, it } from 'vitest';
import {
  MAX_RTCP_PACKETS_PER_COMPOUND,
  parseRtcpCompound,
  serializeRtcpCompound
} from '../../engine/rtp/rtcp-packet.js';
import type { RtcpPacket } from '../../engine/rtp/rtcp-packet.js';
import { seededRandom } from '../support/rtp-trace.js';

const block = {
  ssrc: 0x11223344,
  fractionLost: 64,
  cumulativeLost: -3,
  highestSequence: 0x1fffe,
  jitter: 77,
  lastSenderReport: 0xabcd1234,
  delaySinceLastSenderReport: 65536
};

describe('RTCP packets', () => {
  it('round-trips a compound SR + SDES + BYE', () => {
    const packets: RtcpPacket[] = [
      {
        type: 'sr',
        ssrc: 0xcafebabe,
        ntpSeconds: 3_900_000_000,
        ntpFraction: 0x80000000,
        rtpTimestamp: 0xffffff00,
        packetCount: 500,
        octetCount: 80_000,
        reports: [block]
      },
      { type: 'sdes', chunks: [{ ssrc: 0xcafebabe, cname: 'alice@example.com' }] },
      { type: 'bye', ssrcs: [0xcafebabe], reason: 'done' }
    ];
    const bytes = serializeRtcpCompound(packets);
    expect(bytes.length % 4).toBe(0);
    const parsed = parseRtcpCompound(bytes);
    expect(parsed.errors).toEqual([]);
    expect(parsed.packets).toEqual(packets);
  });

  it('round-trips an RR with two report blocks and an empty RR', () => {
    const packets: RtcpPacket[] = [
      {
        type: 'rr',
        ssrc: 1,
        reports: [block, { ...block, ssrc: 2, cumulativeLost: 0x7fffff, fractionLost: 255 }]
      },
      { type: 'rr', ssrc: 3, reports: [] }
    ];
    expect(parseRtcpCompound(serializeRtcpCompound(packets)).packets).toEqual(packets);
  });

  it('keeps the packets before a truncated one and reports the error', () => {
    const bytes = serializeRtcpCompound([
      { type: 'rr', ssrc: 1, reports: [block] },
      { type: 'sdes', chunks: [{ ssrc: 1, cname: 'x' }] }
    ]);
    const parsed = parseRtcpCompound(bytes.subarray(0, bytes.length - 4));
    expect(parsed.packets).toHaveLength(1);
    expect(parsed.packets[0].type).toBe('rr');
    expect(parsed.errors).toHaveLength(1);
  });

  it('stops after MAX_RTCP_PACKETS_PER_COMPOUND packets of a datagram full of empty headers', () => {
    const datagram = Buffer.from('\x80\xcc\x00\x00'.repeat(16_000), 'latin1');
    const { packets, errors } = parseRtcpCompound(datagram);
    expect(packets).toHaveLength(MAX_RTCP_PACKETS_PER_COMPOUND);
    expect(packets[0]).toEqual({ type: 'other', packetType: 204 });
    expect(errors).toEqual([`more than ${MAX_RTCP_PACKETS_PER_COMPOUND} packets in one compound datagram`]);
  });

  it('never throws on garbage (seeded random datagrams and mutations)', () => {
    const rnd = seededRandom(42);
    const good = serializeRtcpCompound([
      {
        type: 'sr',
        ssrc: 9,
        ntpSeconds: 1,
        ntpFraction: 2,
        rtpTimestamp: 3,
        packetCount: 4,
        octetCount: 5,
        reports: [block]
      },
      { type: 'sdes', chunks: [{ ssrc: 9, cname: 'abc' }] }
    ]);
    let withErrors = 0;
    for (let i = 0; i < 2000; i++) {
      const buf = i % 2 === 0 ? Buffer.from(good) : Buffer.alloc(Math.floor(rnd() * 80));
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++)
        if (buf.length) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      const r = parseRtcpCompound(buf);
      if (r.errors.length) withErrors++;
    }
    expect(withErrors).toBeGreaterThan(0);
  });
});
