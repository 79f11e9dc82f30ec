import { describe, expect, it } from 'vitest';
import { RtpHeaderView, writeRtpHeader } from '../../engine/rtp/rtp-packet.js';

function packet(payload: number[], fields: Partial<Parameters<typeof writeRtpHeader>[1]> = {}): Uint8Array {
  const buf = new Uint8Array(12 + payload.length);
  writeRtpHeader(buf, { marker: false, payloadType: 0, sequenceNumber: 1, timestamp: 2, ssrc: 3, ...fields });
  buf.set(payload, 12);
  return buf;
}

describe('RTP header', () => {
  it('round-trips the fixed header fields', () => {
    const h = new RtpHeaderView();
    const buf = packet([1, 2, 3], {
      marker: true,
      payloadType: 101,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef
    });
    expect(h.parse(buf)).toBeNull();
    expect(h).toMatchObject({
      version: 2,
      marker: true,
      payloadType: 101,
      sequenceNumber: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      payloadOffset: 12,
      payloadLength: 3
    });
  });

  it('skips CSRCs and a header extension to find the payload', () => {
    const buf = new Uint8Array(12 + 8 + 8 + 2);
    writeRtpHeader(buf, { marker: false, payloadType: 8, sequenceNumber: 5, timestamp: 6, ssrc: 7 });
    buf[0] = 0x80 | 0x10 | 2; // X=1, CC=2
    buf.set([0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0], 20); // one-byte extension, 1 word
    buf.set([9, 9], 28);
    const h = new RtpHeaderView();
    expect(h.parse(buf)).toBeNull();
    expect(h.extensionProfile).toBe(0xbede);
    expect(h.payloadOffset).toBe(28);
    expect(h.payloadLength).toBe(2);
  });

  it('strips valid padding', () => {
    const buf = packet([1, 2, 0, 0, 3]);
    buf[0] |= 0x20;
    const h = new RtpHeaderView();
    expect(h.parse(buf)).toBeNull();
    expect(h.payloadLength).toBe(2);
  });

  it('reports odd packets by reason instead of throwing', () => {
    const h = new RtpHeaderView();
    expect(h.parse(new Uint8Array(5))).toBe('short');
    const v1 = packet([1]);
    v1[0] = 0x40;
    expect(h.parse(v1)).toBe('version');
    const cc = packet([1, 2]);
    cc[0] = 0x80 | 15; // 15 CSRCs = 60 bytes, packet has 2
    expect(h.parse(cc)).toBe('csrc');
    const ext = packet([0xbe, 0xde, 0, 9]);
    ext[0] |= 0x10; // extension says 9 words, there are none
    expect(h.parse(ext)).toBe('extension');
    const pad = packet([1, 2, 200]);
    pad[0] |= 0x20; // padding count 200 > packet
    expect(h.parse(pad)).toBe('padding');
    const pad0 = packet([1, 2, 0]);
    pad0[0] |= 0x20;
    expect(h.parse(pad0)).toBe('padding');
  });
});
