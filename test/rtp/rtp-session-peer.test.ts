/**
 * Who an RTP session listens to and talks to: strangers' packets (another address, or the
 * peer's host from another port) are dropped and counted and never take the call; with SRTP
 * only packets that authenticate are heard, and nothing plain goes on the wire.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBATION_PACKETS } from '../../engine/rtp/latch-probation.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';
import { sleep, waitFor } from '../support/wait.js';
import { exchangeFrames, PCMU_SESSION } from '../support/rtp-exchange.js';
import { markedPcmuPacket, receiverReport } from '../support/raw-rtp.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const STRANGER_MARK = 999_999;

async function socket(host = '127.0.0.1'): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, host, () => resolve()));
  cleanups.push(() => s.close());
  return s;
}

function strangerPacket(seq: number): Buffer {
  return markedPcmuPacket(seq, 0x666, STRANGER_MARK);
}

async function pair(
  options: {
    a?: Partial<RtpSessionOptions>;
    b?: Partial<RtpSessionOptions>;
    aRemotePort?: (pb: number) => number;
  } = {}
) {
  const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47600, maxPort: 47799 });
  cleanups.push(() => pool.close());
  const [pa, pb] = [await pool.allocate(), await pool.allocate()];
  const a = new RtpSession({
    ports: pa,
    ...PCMU_SESSION,
    remote: { address: '127.0.0.1', port: options.aRemotePort?.(pb.rtpPort) ?? pb.rtpPort },
    ...options.a
  });
  const b = new RtpSession({
    ports: pb,
    ...PCMU_SESSION,
    remote: { address: '127.0.0.1', port: pa.rtpPort },
    ...options.b
  });
  cleanups.push(
    () => a.close(),
    () => b.close()
  );
  return { a, b, pa, pb };
}

describe('RtpSession strangers (strict latching)', () => {
  it('a stranger on another address who sends before the caller and mid-call is never heard and never answered', async () => {
    const { a, b, pa, pb } = await pair();
    const stranger = await socket('127.0.0.2');
    let strangerGot = 0;
    stranger.on('message', () => strangerGot++);
    for (let seq = 1; seq <= 5; seq++) stranger.send(strangerPacket(seq), pb.rtpPort, '127.0.0.1');
    await waitFor(() => b.stats().packetsFromOtherSources === 5);
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
    const { played, aGot } = await exchangeFrames(a, b, {
      ticks: 30,
      untilHeard: 10,
      onTick: (i) => {
        if (i % 3 === 0) stranger.send(strangerPacket(100 + i), pb.rtpPort, '127.0.0.1');
      }
    });
    expect(played.length).toBeGreaterThanOrEqual(10);
    expect(played).not.toContain(STRANGER_MARK);
    expect(aGot).toBeGreaterThanOrEqual(10);
    expect(strangerGot).toBe(0);
    expect(b.stats().packetsFromOtherSources).toBeGreaterThanOrEqual(15);
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
  });

  it("a stranger on the caller's host but another port, latched after its probation, loses the latch to the SDP port and is then dropped", async () => {
    const { a, b, pa, pb } = await pair();
    const neighbour = await socket('127.0.0.1');
    for (let seq = 1; seq <= PROBATION_PACKETS; seq++)
      neighbour.send(strangerPacket(seq), pb.rtpPort, '127.0.0.1');
    await waitFor(() => b.remoteAddress?.port === neighbour.address().port); // same host, a run of packets, no exact match yet
    const { played } = await exchangeFrames(a, b, {
      ticks: 30,
      untilHeard: 10,
      onTick: (i) => {
        if (i > 5 && i % 3 === 0) neighbour.send(strangerPacket(100 + i), pb.rtpPort, '127.0.0.1');
      }
    });
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
    expect(played.filter((v) => v === STRANGER_MARK).length).toBeLessThanOrEqual(1);
    expect(b.stats().packetsFromOtherSources).toBeGreaterThanOrEqual(7);
  });

  it('takes RTP from the host the SIP request came from when the SDP names another (NAT, multi-homed peers)', async () => {
    const { a, b, pa } = await pair({
      b: { remote: { address: '192.0.2.55', port: 40000 }, signallingAddress: '127.0.0.1' }
    });
    a.setRemote({ address: '127.0.0.1', port: b.ports.rtpPort });
    const { played } = await exchangeFrames(a, b, { ticks: 10, untilHeard: 10 });
    expect(played.length).toBeGreaterThanOrEqual(10);
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
  });

  it('RTCP from a stranger is dropped and counted', async () => {
    const { b, pb } = await pair();
    const stranger = await socket('127.0.0.2');
    let rtcp = 0;
    b.on('rtcp', () => rtcp++);
    const rr = receiverReport(0x666);
    stranger.send(rr, pb.rtcpPort, '127.0.0.1');
    stranger.send(rr, pb.rtpPort, '127.0.0.1'); // rtcp-mux
    await waitFor(() => b.stats().packetsFromOtherSources === 2);
    expect(rtcp).toBe(0);
  });
});

describe('RtpSession strangers (first-packet latching)', () => {
  it("a stranger's RTCP before the peer's first RTP packet is dropped, and the peer's RTCP is taken after", async () => {
    const { a, b, pa, pb } = await pair({ b: { latching: 'first-packet' } });
    const stranger = await socket('127.0.0.2');
    let rtcp = 0;
    b.on('rtcp', () => rtcp++);
    stranger.send(receiverReport(0x666), pb.rtcpPort, '127.0.0.1');
    await waitFor(() => b.stats().packetsFromOtherSources === 1);
    expect(rtcp).toBe(0);
    // The peer's RTP latches; then its own report (sent from its RTCP port) is taken.
    await exchangeFrames(a, b, { ticks: 3, untilHeard: 1 });
    pa.rtcpSocket.send(receiverReport(0x777), pb.rtcpPort, '127.0.0.1');
    await waitFor(() => rtcp === 1);
    expect(b.stats().packetsFromOtherSources).toBe(1);
  });
});

describe('RtpSession with SRTP', () => {
  const suite = 'AES_CM_128_HMAC_SHA1_80';

  it('carries audio through a relay that sees no plain payload, and drops replays and forged packets', async () => {
    const keyA = randomBytes(30);
    const keyB = randomBytes(30);
    const relay = await socket('127.0.0.1');
    const relayPort = relay.address().port;
    // A sends to the relay; B sees the relay as A (its SDP names the relay's port).
    const { a, b, pb } = await pair({
      aRemotePort: () => relayPort,
      a: { srtp: { suite, localKeySalt: keyA, remoteKeySalt: keyB } },
      b: { srtp: { suite, localKeySalt: keyB, remoteKeySalt: keyA } }
    });
    b.setRemote({ address: '127.0.0.1', port: relayPort });
    const captured: Buffer[] = [];
    relay.on('message', (msg, rinfo) => {
      if (rinfo.port === pb.rtpPort) return; // B's own frames stop here: this test listens at B
      captured.push(Buffer.from(msg));
      relay.send(msg, pb.rtpPort, '127.0.0.1');
    });
    const { played } = await exchangeFrames(a, b, { ticks: 30, untilHeard: 10 });
    expect(played.length).toBeGreaterThanOrEqual(10);
    expect(played.every((v) => v < 500)).toBe(true);
    expect(captured.length).toBeGreaterThanOrEqual(10);
    for (const packet of captured) {
      expect(packet.length).toBe(12 + 160 + 10);
      // The plain payload is 0xff fill behind a 4-byte index; on the wire no such run survives.
      expect(packet.subarray(16, 172).equals(Buffer.alloc(156, 0xff))).toBe(false);
    }
    expect(b.encrypted).toBe(true);
    const before = b.stats().discardReasons;
    relay.send(captured[3], pb.rtpPort, '127.0.0.1');
    const forged = Buffer.from(captured[captured.length - 1]);
    forged.writeUInt16BE((forged.readUInt16BE(2) + 1) & 0xffff, 2);
    relay.send(forged, pb.rtpPort, '127.0.0.1');
    relay.send(strangerPacket(60_000), pb.rtpPort, '127.0.0.1'); // plain RTP from the peer's own address
    await waitFor(
      () =>
        b.stats().discardReasons.srtpAuth - before.srtpAuth >= 2 &&
        b.stats().discardReasons.srtpReplay - before.srtpReplay >= 1
    );
    await sleep(40);
    const after = b.stats().discardReasons;
    expect(after.srtpReplay - before.srtpReplay).toBe(1);
    expect(after.srtpAuth - before.srtpAuth).toBe(2);
  });

  it('strict with SRTP: the peer that authenticates latches even from an address its SDP does not name; plain RTP cannot', async () => {
    const keyA = randomBytes(30);
    const keyB = randomBytes(30);
    const { a, b, pa, pb } = await pair({
      a: { srtp: { suite, localKeySalt: keyA, remoteKeySalt: keyB } },
      b: {
        srtp: { suite, localKeySalt: keyB, remoteKeySalt: keyA },
        remote: { address: '192.0.2.55', port: 40000 }
      }
    });
    const stranger = await socket('127.0.0.2');
    let strangerGot = 0;
    stranger.on('message', () => strangerGot++);
    for (let seq = 1; seq <= 3; seq++) stranger.send(strangerPacket(seq), pb.rtpPort, '127.0.0.1');
    await waitFor(() => b.stats().discardReasons.srtpAuth === 3);
    const { played, aGot } = await exchangeFrames(a, b, {
      ticks: 25,
      untilHeard: 10,
      onTick: (i) => {
        if (i % 4 === 0) stranger.send(strangerPacket(100 + i), pb.rtpPort, '127.0.0.1');
      }
    });
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
    expect(played.length).toBeGreaterThanOrEqual(10);
    expect(aGot).toBeGreaterThanOrEqual(10);
    expect(strangerGot).toBe(0);
    expect(b.stats().packetsFromOtherSources).toBeGreaterThanOrEqual(5);
  });

  it('a re-INVITE with a new peer key switches the inbound context; the old key no longer authenticates', async () => {
    const keyA = randomBytes(30);
    const keyB = randomBytes(30);
    const { a, b } = await pair({
      a: { srtp: { suite, localKeySalt: keyA, remoteKeySalt: keyB } },
      b: { srtp: { suite, localKeySalt: keyB, remoteKeySalt: keyA } }
    });
    expect((await exchangeFrames(a, b, { ticks: 10, untilHeard: 5 })).played.length).toBeGreaterThanOrEqual(
      5
    );
    // A re-keys (a re-INVITE with a new a=crypto); B learns it; B's own key stays.
    const newKeyA = randomBytes(30);
    a.setSrtp({ suite, localKeySalt: newKeyA, remoteKeySalt: keyB });
    const authBefore = b.stats().discardReasons.srtpAuth;
    await exchangeFrames(a, b, { ticks: 5 });
    await waitFor(() => b.stats().discardReasons.srtpAuth - authBefore >= 4);
    b.setSrtp({ suite, localKeySalt: keyB, remoteKeySalt: newKeyA });
    const { played, aGot } = await exchangeFrames(a, b, { ticks: 15, untilHeard: 5 });
    expect(played.length).toBeGreaterThanOrEqual(5);
    expect(aGot).toBeGreaterThanOrEqual(5); // B kept its outbound context: A still authenticates B
  });

  it("the peer's previous key is still taken for 2 s after a re-key: what it sent before our answer reached it", async () => {
    // With SDES keys the offerer of a new key sends with the old one until it has our answer.
    const keyA = randomBytes(30);
    const keyB = randomBytes(30);
    let skewMs = 0;
    const { a, b } = await pair({
      a: { srtp: { suite, localKeySalt: keyA, remoteKeySalt: keyB } },
      b: {
        srtp: { suite, localKeySalt: keyB, remoteKeySalt: keyA },
        now: () => performance.now() + skewMs
      }
    });
    expect((await exchangeFrames(a, b, { ticks: 10, untilHeard: 5 })).played.length).toBeGreaterThanOrEqual(
      5
    );
    // B answers A's re-INVITE with its new key; A has not had the answer yet and keeps its old key.
    const newKeyA = randomBytes(30);
    b.setSrtp({ suite, localKeySalt: keyB, remoteKeySalt: newKeyA });
    const refusedBefore = b.stats().discardReasons.srtpAuth;
    const inFlight = await exchangeFrames(a, b, { ticks: 10, untilHeard: 5 });
    expect(inFlight.played.length).toBeGreaterThanOrEqual(5);
    expect(b.stats().discardReasons.srtpAuth).toBe(refusedBefore);
    // Past the grace, the old key is refused; the new one is heard.
    skewMs += 3000;
    await exchangeFrames(a, b, { ticks: 5 });
    await waitFor(() => b.stats().discardReasons.srtpAuth - refusedBefore >= 4);
    a.setSrtp({ suite, localKeySalt: newKeyA, remoteKeySalt: keyB });
    expect((await exchangeFrames(a, b, { ticks: 15, untilHeard: 5 })).played.length).toBeGreaterThanOrEqual(
      5
    );
  });

  it('first-packet latching: plain RTP from a stranger cannot latch, the authenticated peer does', async () => {
    const keyA = randomBytes(30);
    const keyB = randomBytes(30);
    const { a, b, pa, pb } = await pair({
      a: { srtp: { suite: 'AES_CM_128_HMAC_SHA1_32', localKeySalt: keyA, remoteKeySalt: keyB } },
      b: {
        srtp: { suite: 'AES_CM_128_HMAC_SHA1_32', localKeySalt: keyB, remoteKeySalt: keyA },
        latching: 'first-packet',
        remote: undefined
      }
    });
    const stranger = await socket('127.0.0.2');
    for (let seq = 1; seq <= 3; seq++) stranger.send(strangerPacket(seq), pb.rtpPort, '127.0.0.1');
    await waitFor(() => b.stats().discardReasons.srtpAuth === 3);
    expect(b.remoteAddress).toBeUndefined();
    const { played, aGot } = await exchangeFrames(a, b, { ticks: 25, untilHeard: 10 });
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
    expect(played.length).toBeGreaterThanOrEqual(10);
    expect(aGot).toBeGreaterThanOrEqual(10);
  });
});
