import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesCounterMode } from '../../../engine/rtp/srtp/aes-counter-mode.js';
import { deriveRtcpKeys, deriveRtpKeys } from '../../../engine/rtp/srtp/key-derivation.js';
import { ReplayWindow } from '../../../engine/rtp/srtp/replay-window.js';
import {
  SRTP_AUTH_FAILED,
  SRTP_MALFORMED,
  SRTP_REPLAYED,
  SrtpContext,
  estimateIndex
} from '../../../engine/rtp/srtp/srtp-context.js';
import { SRTP_SUITES, type SrtpSuiteName } from '../../../engine/rtp/srtp/srtp-suite.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function rtpPacket(seq: number, ssrc: number, payload: Buffer, timestamp = seq * 160): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  packet[0] = 0x80;
  packet[1] = 0;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(timestamp >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  payload.copy(packet, 12);
  return packet;
}

/** The SRTP bytes of a packet, in a buffer of exactly that size. */
function protect(ctx: SrtpContext, packet: Buffer): Buffer {
  const out = Buffer.alloc(packet.length + 16);
  const n = ctx.protectRtp(packet, packet.length, out);
  expect(n).toBeGreaterThan(0);
  return out.subarray(0, n);
}

describe('SRTP key derivation (RFC 3711 B.3)', () => {
  it('derives the cipher key, salt and auth key of the appendix', () => {
    const keys = deriveRtpKeys(hex('E1F97A0D3E018BE0D64FA32C06DE4139'), hex('0EC675AD498AFEEBB6960B3AABE6'));
    expect(keys.encryptionKey.toString('hex').toUpperCase()).toBe('C61E7A93744F39EE10734AFE3FF7A087');
    expect(keys.salt.toString('hex').toUpperCase()).toBe('30CBBC08863D8C85D49DB34A9AE1');
    expect(keys.authenticationKey.toString('hex').toUpperCase()).toBe(
      'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4'
    );
  });

  it('derives different SRTCP keys from the same master key (labels 3-5)', () => {
    const master = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
    const salt = hex('0EC675AD498AFEEBB6960B3AABE6');
    const rtp = deriveRtpKeys(master, salt);
    const rtcp = deriveRtcpKeys(master, salt);
    expect(rtcp.encryptionKey.equals(rtp.encryptionKey)).toBe(false);
    expect(rtcp.authenticationKey.equals(rtp.authenticationKey)).toBe(false);
    expect(rtcp.salt).toHaveLength(14);
  });
});

describe('AES-CM keystream (RFC 3711 B.2)', () => {
  it('produces the appendix keystream for SSRC 0, index 0', () => {
    const cm = new AesCounterMode(
      hex('2B7E151628AED2A6ABF7158809CF4F3C'),
      hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD')
    );
    const data = Buffer.alloc(48);
    cm.apply(data, 0, 48, 0, 0, 0);
    expect(data.toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4' +
        'D23513162B02D0F72A43A2FE4A5F97AB' +
        '41E95B3BB0A2E8DD477901E4FCA894C0'
    );
  });

  it('matches OpenSSL AES-128-CTR started at the RFC 3711 IV for any SSRC and index', () => {
    const key = randomBytes(16);
    const salt = randomBytes(14);
    const cm = new AesCounterMode(key, salt);
    for (const [ssrc, roc, seq, length] of [
      [0xdeadbeef, 3, 0xfffe, 160],
      [1, 0, 0, 1],
      [0x12345678, 0xffffffff, 7, 333]
    ]) {
      const iv = Buffer.alloc(16);
      salt.copy(iv, 0);
      iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
      iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
      iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
      const plain = randomBytes(length);
      const expected = createCipheriv('aes-128-ctr', key, iv).update(plain);
      const data = Buffer.from(plain);
      cm.apply(data, 0, length, ssrc, roc, seq);
      expect(data.equals(expected)).toBe(true);
    }
  });
});

describe('ReplayWindow', () => {
  it('accepts each index once, reorders within the window and refuses what is older', () => {
    const window = new ReplayWindow();
    for (const i of [10, 12, 11]) {
      expect(window.isFresh(i)).toBe(true);
      window.accept(i);
    }
    expect(window.isFresh(11)).toBe(false);
    expect(window.isFresh(12)).toBe(false);
    window.accept(500);
    expect(window.isFresh(499)).toBe(true);
    expect(window.isFresh(500 - 128)).toBe(false);
    expect(window.isFresh(12)).toBe(false);
  });
});

describe('SRTP index estimation (RFC 3711 Appendix A)', () => {
  it('guesses ROC - 1, ROC and ROC + 1 around the wrap', () => {
    expect(estimateIndex(0x1fffe, 0x0001)).toBe(0x20001); // just wrapped: ROC + 1
    expect(estimateIndex(0x20002, 0xfffe)).toBe(0x1fffe); // late packet from before the wrap
    expect(estimateIndex(0x20002, 0x0005)).toBe(0x20005);
    expect(estimateIndex(0x00002, 0xfffe)).toBe(-1); // before the stream began
  });
});

for (const suiteName of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as SrtpSuiteName[]) {
  const suite = SRTP_SUITES[suiteName];
  describe(`SrtpContext ${suiteName}`, () => {
    const master = randomBytes(30);

    it('round-trips RTP: the payload on the wire is not the plain payload, the tag has the suite length', () => {
      const sender = new SrtpContext(suite, master);
      const receiver = new SrtpContext(suite, master);
      const payload = Buffer.alloc(160, 0xff); // PCMU silence: easy to spot in clear
      const plain = rtpPacket(1000, 0x11223344, payload);
      const wire = protect(sender, plain);
      expect(wire.length).toBe(plain.length + suite.rtpTagBytes);
      expect(wire.subarray(0, 12).equals(plain.subarray(0, 12))).toBe(true);
      expect(wire.subarray(12, 172).equals(payload)).toBe(false);
      const copy = Buffer.from(wire);
      expect(receiver.unprotectRtp(copy, copy.length)).toBe(plain.length);
      expect(copy.subarray(0, plain.length).equals(plain)).toBe(true);
    });

    it('rejects a replayed packet and a tampered one, then still accepts the next good one', () => {
      const sender = new SrtpContext(suite, master);
      const receiver = new SrtpContext(suite, master);
      const first = protect(sender, rtpPacket(1, 7, randomBytes(160)));
      expect(receiver.unprotectRtp(Buffer.from(first), first.length)).toBe(172);
      expect(receiver.unprotectRtp(Buffer.from(first), first.length)).toBe(SRTP_REPLAYED);
      const second = Buffer.from(protect(sender, rtpPacket(2, 7, randomBytes(160))));
      const tampered = Buffer.from(second);
      tampered[40] ^= 1;
      expect(receiver.unprotectRtp(tampered, tampered.length)).toBe(SRTP_AUTH_FAILED);
      const headerTampered = Buffer.from(second);
      headerTampered[1] = 8; // payload type changed: the header is authenticated too
      expect(receiver.unprotectRtp(headerTampered, headerTampered.length)).toBe(SRTP_AUTH_FAILED);
      expect(receiver.unprotectRtp(second, second.length)).toBe(172);
    });

    it('rejects a packet protected with another key, and plain RTP', () => {
      const receiver = new SrtpContext(suite, master);
      const stranger = new SrtpContext(suite, randomBytes(30));
      const forged = protect(stranger, rtpPacket(5, 9, randomBytes(160)));
      expect(receiver.unprotectRtp(Buffer.from(forged), forged.length)).toBe(SRTP_AUTH_FAILED);
      const plain = rtpPacket(6, 9, randomBytes(160));
      expect(receiver.unprotectRtp(plain, plain.length)).toBe(SRTP_AUTH_FAILED);
      expect(receiver.unprotectRtp(Buffer.alloc(8), 8)).toBe(SRTP_MALFORMED);
    });

    it('carries the ROC over the sequence number wrap 65535 -> 0, with a late packet from before it', () => {
      const sender = new SrtpContext(suite, master);
      const receiver = new SrtpContext(suite, master);
      const wire = new Map<number, Buffer>();
      for (const seq of [65533, 65534, 65535, 0, 1, 2])
        wire.set(seq, protect(sender, rtpPacket(seq, 42, randomBytes(160))));
      expect(sender.sendRolloverCounter).toBe(1);
      for (const seq of [65533, 65535, 0, 1, 65534, 2]) {
        const packet = Buffer.from(wire.get(seq)!);
        expect(receiver.unprotectRtp(packet, packet.length), `seq ${seq}`).toBe(172);
      }
      // Had the receiver kept ROC 0 after the wrap, this packet would not authenticate.
      const after = Buffer.from(protect(sender, rtpPacket(3, 42, randomBytes(160))));
      expect(receiver.unprotectRtp(after, after.length)).toBe(172);
    });

    it('round-trips SRTCP with its E bit and index, rejecting replays and tampering', () => {
      const sender = new SrtpContext(suite, master);
      const receiver = new SrtpContext(suite, master);
      // An RR with no report blocks plus an SDES CNAME.
      const rtcp = hex('80c90001 0000002a 81ca0003 0000002a 01046162 63640000');
      const out = Buffer.alloc(rtcp.length + 14);
      const n = sender.protectRtcp(rtcp, rtcp.length, out);
      expect(n).toBe(rtcp.length + 4 + 10);
      expect(out.readUInt32BE(rtcp.length)).toBe(0x80000000); // E=1, index 0
      expect(out.subarray(8, rtcp.length).equals(rtcp.subarray(8))).toBe(false);
      const wire = Buffer.from(out.subarray(0, n));
      const copy = Buffer.from(wire);
      expect(receiver.unprotectRtcp(copy, copy.length)).toBe(rtcp.length);
      expect(copy.subarray(0, rtcp.length).equals(rtcp)).toBe(true);
      expect(receiver.unprotectRtcp(Buffer.from(wire), wire.length)).toBe(SRTP_REPLAYED);
      const second = Buffer.alloc(rtcp.length + 14);
      sender.protectRtcp(rtcp, rtcp.length, second);
      expect(second.readUInt32BE(rtcp.length)).toBe(0x80000001);
      second[12] ^= 0x40;
      expect(receiver.unprotectRtcp(second, second.length)).toBe(SRTP_AUTH_FAILED);
    });
  });
}

describe('SrtpContext receive state per SSRC (RFC 3711 §3.2.3)', () => {
  const suite = SRTP_SUITES.AES_CM_128_HMAC_SHA1_80;
  const key = randomBytes(30);
  const unprotect = (ctx: SrtpContext, p: Buffer): number => ctx.unprotectRtp(Buffer.from(p), p.length);

  it("keeps the audio's ROC when RFC 4733 events come on an SSRC of their own", () => {
    // It was reset by the event packet: after the audio's first sequence wrap every audio
    // packet then failed authentication, for good.
    const audio = new SrtpContext(suite, key);
    const events = new SrtpContext(suite, key);
    const receiver = new SrtpContext(suite, key);
    let seq = 65000;
    for (let i = 0; i < 1000; i++, seq++)
      expect(unprotect(receiver, protect(audio, rtpPacket(seq & 0xffff, 0xa, Buffer.alloc(160, 1))))).toBe(
        172
      );
    expect(audio.sendRolloverCounter).toBe(1);
    expect(unprotect(receiver, protect(events, rtpPacket(7, 0xe, Buffer.alloc(4, 2))))).toBe(16);
    for (let i = 0; i < 100; i++, seq++)
      expect(unprotect(receiver, protect(audio, rtpPacket(seq & 0xffff, 0xa, Buffer.alloc(160, 1))))).toBe(
        172
      );
  });

  it('refuses packets of two SSRCs replayed in turn', () => {
    // Each new SSRC wiped the other's replay window: both replays were taken again and again.
    const receiver = new SrtpContext(suite, key);
    const a = protect(new SrtpContext(suite, key), rtpPacket(10, 0xa, Buffer.alloc(160, 1)));
    const e = protect(new SrtpContext(suite, key), rtpPacket(20, 0xe, Buffer.alloc(4, 2)));
    expect([unprotect(receiver, a), unprotect(receiver, e)]).toEqual([172, 16]);
    for (let round = 0; round < 3; round++)
      expect([unprotect(receiver, a), unprotect(receiver, e)]).toEqual([SRTP_REPLAYED, SRTP_REPLAYED]);
  });
});

describe('SrtpContext arguments', () => {
  it('refuses master key material of the wrong length', () => {
    expect(() => new SrtpContext(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80, randomBytes(16))).toThrow(/30 bytes/);
  });
});
