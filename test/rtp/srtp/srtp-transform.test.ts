/**
 * Our outbound SRTP across a call's re-INVITEs: one master key is never used twice with the same
 * counter. SRTP turned off and on again, or a suite change, builds a new context for the same
 * key: it carries on the earlier one's SRTCP index and ROC, where it started again from 0 and
 * repeated the keystream (two ciphertexts XORed gave the two plaintexts XORed). Our inbound SRTP
 * likewise: a peer's key that comes back keeps its replay windows, so its earlier packets stay
 * refused.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SRTP_REPLAYED, SrtpContext } from '../../../engine/rtp/srtp/srtp-context.js';
import { SrtpTransform, type SrtpKeyHistory } from '../../../engine/rtp/srtp/srtp-transform.js';
import { SRTP_SUITES } from '../../../engine/rtp/srtp/srtp-suite.js';

const local = randomBytes(30);
const remote = randomBytes(30);
const keys = (suite: string) => ({ suite, localKeySalt: local, remoteKeySalt: remote });

function rtcp(ssrc: number): Buffer {
  const rr = Buffer.alloc(8);
  rr[0] = 0x80;
  rr[1] = 201;
  rr.writeUInt16BE(1, 2);
  rr.writeUInt32BE(ssrc, 4);
  return rr;
}

function rtp(seq: number, ssrc: number): Buffer {
  const p = Buffer.alloc(172, 0x55);
  p[0] = 0x80;
  p.writeUInt16BE(seq, 2);
  p.writeUInt32BE(ssrc, 8);
  return p;
}

function srtcpIndex(ctx: SrtpContext): number {
  const out = Buffer.alloc(64);
  const n = ctx.protectRtcp(rtcp(0x1234), 8, out);
  expect(n).toBeGreaterThan(8);
  return out.readUInt32BE(8) & 0x7fffffff;
}

function newHistory(): SrtpKeyHistory {
  return { sent: new Map(), received: new Map() };
}

describe('SrtpTransform', () => {
  it('carries the SRTCP index and ROC of a key over SRTP off and on, and over a suite change', () => {
    const history = newHistory();
    const first = SrtpTransform.create(keys('AES_CM_128_HMAC_SHA1_80'), undefined, history);
    expect([srtcpIndex(first.outbound), srtcpIndex(first.outbound)]).toEqual([0, 1]);
    const out = Buffer.alloc(256);
    for (const seq of [65534, 65535, 0]) first.outbound.protectRtp(rtp(seq, 0x1234), 172, out);
    expect(first.outbound.sendRolloverCounter).toBe(1);

    // SRTP off (the transform dropped), then on again with the same keys.
    const again = SrtpTransform.create(keys('AES_CM_128_HMAC_SHA1_80'), undefined, history);
    expect(again.outbound).not.toBe(first.outbound);
    expect(srtcpIndex(again.outbound)).toBe(2);
    expect(again.outbound.sendRolloverCounter).toBe(1);

    // Another suite: another tag length, the same keystream.
    const shorter = SrtpTransform.create(keys('AES_CM_128_HMAC_SHA1_32'), again, history);
    expect(shorter.outbound.suite).toBe(SRTP_SUITES.AES_CM_128_HMAC_SHA1_32);
    expect(srtcpIndex(shorter.outbound)).toBe(3);

    // A peer that kept one receiving context takes every report, none as a replay.
    const peer = new SrtpContext(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80, local);
    const fresh = SrtpTransform.create(keys('AES_CM_128_HMAC_SHA1_80'), undefined, history);
    const report = Buffer.alloc(64);
    const n = fresh.outbound.protectRtcp(rtcp(0x1234), 8, report);
    expect(peer.unprotectRtcp(report, n)).toBe(8);
    expect(peer.unprotectRtcp(Buffer.from(report.subarray(0, n)), n)).toBe(SRTP_REPLAYED);
  });

  it("refuses a peer's earlier packets again when its key comes back, after another key or plain RTP", () => {
    const peer = new SrtpContext(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80, remote);
    const recorded: Buffer[] = [];
    for (let seq = 100; seq < 110; seq++) {
      const out = Buffer.alloc(256);
      recorded.push(Buffer.from(out.subarray(0, peer.protectRtp(rtp(seq, 0x5678), 172, out))));
    }
    const otherKey = {
      suite: 'AES_CM_128_HMAC_SHA1_80',
      localKeySalt: local,
      remoteKeySalt: randomBytes(30)
    };
    for (const between of ['another key', 'plain RTP'] as const) {
      const history = newHistory();
      const first = SrtpTransform.create(keys('AES_CM_128_HMAC_SHA1_80'), undefined, history);
      for (const packet of recorded)
        expect(first.inbound.unprotectRtp(Buffer.from(packet), packet.length)).toBe(172);
      const middle = between === 'another key' ? SrtpTransform.create(otherKey, first, history) : undefined;
      const back = SrtpTransform.create(keys('AES_CM_128_HMAC_SHA1_80'), middle, history);
      expect(back.inbound).not.toBe(first.inbound);
      for (const packet of recorded)
        expect(back.inbound.unprotectRtp(Buffer.from(packet), packet.length), between).toBe(SRTP_REPLAYED);
      // The peer's stream carrying on is taken.
      const out = Buffer.alloc(256);
      const next = peer.protectRtp(rtp(110 + (between === 'plain RTP' ? 1 : 0), 0x5678), 172, out);
      expect(back.inbound.unprotectRtp(out, next)).toBe(172);
    }
  });

  it("keeps the receiving contexts of the peer's last 16 keys, not of every key it re-keyed to", () => {
    const history = newHistory();
    const peerKey = randomBytes(30);
    const peer = new SrtpContext(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80, peerKey);
    const out = Buffer.alloc(256);
    const recorded = Buffer.from(out.subarray(0, peer.protectRtp(rtp(100, 0x5678), 172, out)));
    const withPeerKey = { suite: 'AES_CM_128_HMAC_SHA1_80', localKeySalt: local, remoteKeySalt: peerKey };
    let transform = SrtpTransform.create(withPeerKey, undefined, history);
    expect(transform.inbound.unprotectRtp(Buffer.from(recorded), recorded.length)).toBe(172);
    // A new key in every re-INVITE, as a hostile peer may send hundreds a second.
    for (let i = 0; i < 15; i++) {
      const rekeyed = { ...withPeerKey, remoteKeySalt: randomBytes(30) };
      transform = SrtpTransform.create(rekeyed, transform, history);
    }
    expect(history.received.size).toBe(16);
    expect(history.sent.size).toBe(1);
    // The peer's first key, 15 keys back, still carries on: its recorded packet is a replay.
    transform = SrtpTransform.create(withPeerKey, transform, history);
    expect(transform.inbound.unprotectRtp(Buffer.from(recorded), recorded.length)).toBe(SRTP_REPLAYED);
    for (let i = 0; i < 1000; i++) {
      const rekeyed = { ...withPeerKey, remoteKeySalt: randomBytes(30) };
      transform = SrtpTransform.create(rekeyed, transform, history);
    }
    expect(history.received.size).toBe(16);
  });
});
