/**
 * A call's packet loss is the sum over its inbound streams, and a re-INVITE that keeps the codec
 * (a session refresh) does not start a new one. Every re-INVITE used to restart the reception
 * statistics: a call that lost 37 packets reported 11 in `rtpStats().packetsLost` and
 * `uasmedia_rtp_packets_lost_total` after a refresh, its RTCP cumulative loss went from 24 back to
 * 4 for the same SSRC, and the next frame it sent repeated the last one's timestamp. A new SSRC or
 * a sender starting its numbers over made the call's count forget what the earlier stream lost.
 */
import type dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRtcpCompound } from '../../engine/rtp/rtcp-packet.js';
import type { RtpSession } from '../../engine/rtp/rtp-session.js';
import { markedPcmuPacket } from '../support/raw-rtp.js';
import { indexedFrame } from '../support/rtp-exchange.js';
import { loopbackRtp } from '../support/loopback-rtp-sessions.js';
import { sleep, waitFor } from '../support/wait.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const ENGINE_HOST = '127.0.25.1';
const PEER_HOST = '127.0.25.2';
const engineSide = loopbackRtp(cleanups, { minPort: 55100, maxPort: 55149 }, ENGINE_HOST);
const peerSide = loopbackRtp(cleanups, { minPort: 55150, maxPort: 55199 }, PEER_HOST);

/** The engine's session, its peer's raw RTP and RTCP sockets, and what reached the engine so far. */
async function call(): Promise<{
  engine: RtpSession;
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  enginePort: number;
}> {
  const [pa, pb] = [await engineSide.pool().allocate(), await peerSide.pool().allocate()];
  // No periodic report: only the one close() sends, which carries the final cumulative loss.
  const engine = engineSide.session(pa, pb.rtpPort, {
    rtcpIntervalMs: 3_600_000,
    remote: { address: PEER_HOST, port: pb.rtpPort }
  });
  return { engine, rtp: pb.rtpSocket, rtcp: pb.rtcpSocket, enginePort: pa.rtpPort };
}

function read(engine: RtpSession): number {
  const s = engine.stats();
  return s.packetsReceived + s.packetsDiscarded;
}

/** Sends packets `first`..`first + count - 1` of `ssrc` except the `lost` indices; waits until the engine read them. */
async function stream(
  c: { engine: RtpSession; rtp: dgram.Socket; enginePort: number },
  ssrc: number,
  first: number,
  count: number,
  lost: number[]
): Promise<void> {
  const before = read(c.engine);
  let sent = 0;
  for (let i = 0; i < count; i++) {
    if (lost.includes(i)) continue;
    c.rtp.send(markedPcmuPacket(first + i, ssrc, i), c.enginePort, ENGINE_HOST);
    sent++;
    if (i % 10 === 9) await sleep(5);
  }
  await waitFor(() => read(c.engine) >= before + sent);
}

describe("a call's RTP loss", () => {
  it('goes on over a re-INVITE that keeps the codec, in rtpStats and in its RTCP report', async () => {
    const c = await call();
    await stream(c, 0x1111, 100, 50, [10, 20]);
    expect(c.engine.stats().packetsLost).toBe(2);
    c.engine.updateCodec(0, 8000, 160); // the session refresh's answer: PCMU as before
    await stream(c, 0x1111, 150, 50, [5, 15, 25]);
    expect(c.engine.stats().packetsLost).toBe(5);

    const reports: number[] = [];
    c.rtcp.on('message', (msg: Buffer) => {
      for (const p of parseRtcpCompound(msg).packets)
        if (p.type === 'rr' || p.type === 'sr') for (const b of p.reports) reports.push(b.cumulativeLost);
    });
    c.engine.close();
    await waitFor(() => reports.length > 0);
    expect(reports).toEqual([5]);
  });

  it('sends the frame after such a re-INVITE with a later timestamp than the one before', async () => {
    const c = await call();
    const timestamps: number[] = [];
    c.rtp.on('message', (msg: Buffer) => timestamps.push(msg.readUInt32BE(4)));
    for (let i = 0; i < 6; i++) {
      if (i === 3) c.engine.updateCodec(0, 8000, 160);
      c.engine.sendFrame(indexedFrame(i), 160);
      await sleep(20);
    }
    await waitFor(() => timestamps.length === 6);
    const steps = timestamps.slice(1).map((ts, i) => (ts - timestamps[i]) >>> 0);
    for (const step of steps) expect(step).toBeGreaterThan(0);
  });

  it('adds what a replaced SSRC lost to what the new one loses', async () => {
    const c = await call();
    await stream(c, 0x1111, 100, 50, [10, 20]);
    await sleep(100); // quiet for more than three frames: the next SSRC takes over at once
    await stream(c, 0x2222, 40_000, 50, [30, 35, 40]);
    expect(c.engine.stats().remoteSsrc).toBe(0x2222);
    expect(c.engine.stats().packetsLost).toBe(5);
  });

  it('adds what a stream lost before its sender started its numbers over', async () => {
    const c = await call();
    await stream(c, 0x1111, 100, 50, [10, 20]);
    await stream(c, 0x1111, 30_000, 50, [30, 35, 40]); // a jump past RFC 3550's MAX_DROPOUT
    expect(c.engine.stats().packetsLost).toBe(5);
  });
});
