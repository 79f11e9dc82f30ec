/**
 * An SRTP session takes RTP and RTCP from anyone until its peer latches (an authentic packet
 * proves the peer), so a stranger who finds the port of a call not yet latched (before its
 * caller's first packet, after a re-INVITE, on hold) has every datagram authenticated. The tag
 * covers every byte: 64 kB datagrams cost an HMAC of 370 µs each, where a plain session drops a
 * stranger's unread. A datagram longer than any packet the session would play is refused before
 * its HMAC.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RtpPortPool } from '../../../engine/rtp/port-pool.js';
import { RtpSession } from '../../../engine/rtp/rtp-session.js';
import { HmacSha1 } from '../../../engine/rtp/srtp/hmac-sha1.js';
import { SrtpContext } from '../../../engine/rtp/srtp/srtp-context.js';
import { SRTP_SUITES } from '../../../engine/rtp/srtp/srtp-suite.js';
import { markedPcmuPacket } from '../../support/raw-rtp.js';
import { waitFor } from '../../support/wait.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  vi.restoreAllMocks();
});

async function socket(host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
  cleanups.push(() => s.close());
  return s;
}

describe('SRTP session and oversized datagrams', () => {
  it("authenticates none of a stranger's 64 kB datagrams before its peer has latched, and still takes the peer's packets", async () => {
    const peerKey = randomBytes(30);
    const pool = new RtpPortPool({ host: '127.0.13.1', minPort: 43900, maxPort: 43999 });
    cleanups.push(() => pool.close());
    const peer = await socket('127.0.13.21');
    const session = new RtpSession({
      ports: await pool.allocate(),
      payloadType: 0,
      clockRateHz: 8000,
      samplesPerFrame: 160,
      remote: { address: '127.0.13.21', port: peer.address().port },
      srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', localKeySalt: randomBytes(30), remoteKeySalt: peerKey },
      rtcpIntervalMs: 0
    });
    cleanups.push(() => session.close());
    const verify = vi.spyOn(HmacSha1.prototype, 'verify');

    const stranger = await socket('127.0.13.22');
    const datagram = randomBytes(65000);
    datagram[0] = 0x80; // version 2, as RTP and RTCP
    datagram[1] = 0;
    // One at a time: a socket's receive buffer holds only a few such datagrams.
    for (let i = 1; i <= 10; i++) {
      stranger.send(datagram, session.ports.rtpPort, '127.0.13.1');
      stranger.send(datagram, session.ports.rtcpPort, '127.0.13.1');
      await waitFor(() => {
        const stats = session.stats();
        return stats.discardReasons.srtpAuth === i && stats.rtcpDiscarded === i;
      });
    }
    expect(verify).not.toHaveBeenCalled();
    expect(session.stats().remotePort).toBe(peer.address().port); // nothing latched

    // The peer's own packets of a call's size are authenticated and heard.
    const sender = new SrtpContext(SRTP_SUITES.AES_CM_128_HMAC_SHA1_80, peerKey);
    const out = Buffer.alloc(256);
    for (let seq = 1; seq <= 3; seq++) {
      const packet = markedPcmuPacket(seq, 0x5eed, seq);
      const length = sender.protectRtp(packet, packet.length, out);
      peer.send(out.subarray(0, length), session.ports.rtpPort, '127.0.13.1');
      await waitFor(() => session.stats().packetsReceived === seq);
    }
    expect(verify).toHaveBeenCalledTimes(3);
  });
});
