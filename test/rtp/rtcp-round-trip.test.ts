/**
 * The round-trip time a session reports (RFC 3550 §6.4.1: arrival − LSR − DLSR) comes only from a
 * report block whose LSR is a sender report this session sent. A peer could name any LSR, and the
 * call's `roundTripMs` read whatever it chose, up to 32,768 s.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ntpFromUnixMs, ntpMiddle32, serializeRtcpCompound } from '../../engine/rtp/rtcp-packet.js';
import { exchangeFrames } from '../support/rtp-exchange.js';
import { loopbackRtp } from '../support/loopback-rtp-sessions.js';
import { waitFor } from '../support/wait.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const { pool, session } = loopbackRtp(cleanups, { minPort: 61400, maxPort: 61499 });

describe('RTCP round-trip time', () => {
  it("is measured from the peer's reports about our sender reports", async () => {
    const ports = pool();
    const [pa, pb] = [await ports.allocate(), await ports.allocate()];
    const engine = session(pa, pb.rtpPort, { rtcpIntervalMs: 100 });
    const peer = session(pb, pa.rtpPort, { rtcpIntervalMs: 100 });
    await exchangeFrames(engine, peer, { ticks: 60 });
    await waitFor(() => engine.stats().roundTripMs !== undefined, 10_000);
    expect(engine.stats().roundTripMs).toBeGreaterThanOrEqual(0);
    expect(engine.stats().roundTripMs).toBeLessThan(2000);
  });

  it('takes no round trip from a report naming a sender report it never sent', async () => {
    const ports = pool();
    const [pa, pb] = [await ports.allocate(), await ports.allocate()];
    // No reports of its own: only the forged one below could give it a round trip.
    const engine = session(pa, pb.rtpPort);
    const peer = session(pb, pa.rtpPort);
    await exchangeFrames(engine, peer, { ticks: 10 });
    const reports: Array<number | undefined> = [];
    engine.on('rtcp', ({ roundTripMs }) => reports.push(roundTripMs));
    const now = ntpFromUnixMs(Date.now());
    // As if our sender report of 1,000 s ago had just been answered: a round trip of 1,000 s.
    const forged = serializeRtcpCompound([
      {
        type: 'rr',
        ssrc: peer.stats().ssrc,
        reports: [
          {
            ssrc: engine.stats().ssrc,
            fractionLost: 0,
            cumulativeLost: 0,
            highestSequence: 10,
            jitter: 0,
            lastSenderReport: (ntpMiddle32(now.seconds, now.fraction) - 1000 * 65536) >>> 0,
            delaySinceLastSenderReport: 0
          }
        ]
      }
    ]);
    pb.rtcpSocket.send(forged, pa.rtpPort + 1, '127.0.0.1');
    await waitFor(() => reports.length > 0);
    expect(reports).toEqual([undefined]);
    expect(engine.stats().roundTripMs).toBeUndefined();
  });
});
