/**
 * Whose RTCP a session takes: a report from a port the peer's RTCP is expected on (RTP port + 1,
 * the SDP's a=rtcp) latches at once; one from any other port on the peer's host only once RTP
 * has latched, and only with the sender SSRC its RTP carries. A stranger on the caller's host
 * (another program, another device behind its NAT) that reports first is dropped: it neither
 * receives our reports nor keeps a silent call heard.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBATION_PACKETS } from '../../engine/rtp/latch-probation.js';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { receiverReport } from '../support/raw-rtp.js';
import { exchangeFrames } from '../support/rtp-exchange.js';
import { loopbackRtp } from '../support/loopback-rtp-sessions.js';
import { sleep, waitFor } from '../support/wait.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const { pool, session } = loopbackRtp(cleanups, { minPort: 61300, maxPort: 61399 });

async function socket(): Promise<dgram.Socket & { got: number }> {
  const s = Object.assign(dgram.createSocket('udp4'), { got: 0 });
  s.on('message', () => s.got++);
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => s.close());
  return s;
}

describe('RTCP latching (strict)', () => {
  it("a neighbour on the caller's host that reports first is dropped: it gets none of our reports and does not keep the call heard", async () => {
    const ports = pool();
    const [pa, pb] = [await ports.allocate(), await ports.allocate()];
    const caller = session(pa, pb.rtpPort);
    const engine = session(pb, pa.rtpPort, { rtcpIntervalMs: 100 });
    let callerGotReports = 0;
    caller.on('rtcp', () => callerGotReports++);
    let engineTook = 0;
    engine.on('rtcp', () => engineTook++);
    await exchangeFrames(caller, engine, { ticks: 5, untilHeard: 3 });
    const neighbour = await socket();

    await sleep(300); // the call goes quiet; only reports could make it heard now
    for (let i = 0; i < 3; i++) neighbour.send(receiverReport(0x666), pb.rtcpPort, '127.0.0.1');
    await waitFor(() => engine.stats().packetsFromOtherSources === 3);
    expect(engineTook).toBe(0);
    expect(engine.msSinceHeard()).toBeGreaterThanOrEqual(300);

    await waitFor(() => callerGotReports >= 2); // ours go to the caller's RTP port + 1
    expect(neighbour.got).toBe(0);
    pa.rtcpSocket.send(receiverReport(0x777), pb.rtcpPort, '127.0.0.1');
    await waitFor(() => engineTook === 1);
    expect(engine.stats().rtcpReceived).toBe(1);
  });

  it("counts the peer's own reports on the RTP port (rtcp-mux never agreed) as discarded, not as a stranger's", async () => {
    const ports = pool();
    const [pa, pb] = [await ports.allocate(), await ports.allocate()];
    const caller = session(pa, pb.rtpPort);
    const engine = session(pb, pa.rtpPort);
    let engineTook = 0;
    engine.on('rtcp', () => engineTook++);
    await exchangeFrames(caller, engine, { ticks: 5, untilHeard: 3 });
    pa.rtcpSocket.send(receiverReport(0x777), pb.rtcpPort, '127.0.0.1'); // RTCP latches on RTP + 1
    await waitFor(() => engineTook === 1);
    const before = engine.stats();
    for (let i = 0; i < 3; i++) pa.rtpSocket.send(receiverReport(0x777), pb.rtpPort, '127.0.0.1');
    await waitFor(() => engine.stats().rtcpDiscarded === before.rtcpDiscarded + 3);
    expect(engine.stats().packetsFromOtherSources).toBe(before.packetsFromOtherSources);
    expect(engineTook).toBe(1);
    // A stranger's report to the same port is still a stranger's.
    const neighbour = await socket();
    neighbour.send(receiverReport(0x777), pb.rtpPort, '127.0.0.1');
    await waitFor(() => engine.stats().packetsFromOtherSources === before.packetsFromOtherSources + 1);
  });

  it('behind NAT, takes reports from an unexpected port once RTP has latched, only with the SSRC of its RTP', async () => {
    const ports = pool();
    const [sdp, pb] = [await ports.allocate(), await ports.allocate()];
    // The caller's SDP names sdp.rtpPort; its packets leave by NAT mappings nobody announced.
    const engine = session(pb, sdp.rtpPort, { rtcpIntervalMs: 100 });
    let engineTook = 0;
    engine.on('rtcp', () => engineTook++);
    const [natRtp, natRtcp, neighbour] = [await socket(), await socket(), await socket()];
    const callerSsrc = 0xabc;

    natRtcp.send(receiverReport(callerSsrc), pb.rtcpPort, '127.0.0.1'); // before RTP: not yet
    await waitFor(() => engine.stats().packetsFromOtherSources === 1);
    for (let seq = 1; seq <= PROBATION_PACKETS + 1; seq++) {
      const packet = Buffer.alloc(172, 0xff);
      writeRtpHeader(packet, {
        marker: false,
        payloadType: 0,
        sequenceNumber: seq,
        timestamp: seq * 160,
        ssrc: callerSsrc
      });
      natRtp.send(packet, pb.rtpPort, '127.0.0.1');
    }
    await waitFor(() => engine.remoteAddress?.port === natRtp.address().port);

    neighbour.send(receiverReport(0x666), pb.rtcpPort, '127.0.0.1');
    await waitFor(() => engine.stats().packetsFromOtherSources === 2);
    expect(engineTook).toBe(0);
    natRtcp.send(receiverReport(callerSsrc), pb.rtcpPort, '127.0.0.1');
    await waitFor(() => engineTook === 1);
    await waitFor(() => natRtcp.got >= 2);
    neighbour.send(receiverReport(callerSsrc), pb.rtcpPort, '127.0.0.1'); // the SSRC is no key once latched
    await waitFor(() => engine.stats().packetsFromOtherSources === 3);
    expect(engineTook).toBe(1);
    expect(neighbour.got).toBe(0);
  });
});
