/**
 * A call's audio aimed at a third party: a caller's SDP may name any host. One that ACKed and
 * then sent nothing (recvonly), or RTCP from its own host to keep the call alive, had the room
 * streamed at that host for as long as it kept the call (measured through the engine: 50 packets,
 * 10 kB a second, for 36 bytes of RTCP every 5 s). An SDP host that is not the signalling host
 * gets UNHEARD_HOST_SEND_MS of it, then nothing until something from it is heard.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UNHEARD_HOST_SEND_MS } from '../../engine/rtp/peer-latch.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession } from '../../engine/rtp/rtp-session.js';
import { countingSocket, receiverReport, sendRtp, type CountingSocket } from '../support/raw-rtp.js';
import { indexedFrame, PCMU_SESSION } from '../support/rtp-exchange.js';
import { waitFor } from '../support/wait.js';

const ENGINE = '127.0.27.30';
const CALLER = '127.0.27.31';
const THIRD_PARTY = '127.0.27.32';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function counting(host: string, port = 0): Promise<CountingSocket> {
  const socket = await countingSocket(host, port);
  cleanups.push(() => socket.close());
  return socket;
}

/** A session whose SDP peer is `sdpHost`'s `target` and whose SIP came from CALLER, on a clock the test moves. */
async function session(target: CountingSocket, sdpHost: string) {
  const pool = new RtpPortPool({ host: ENGINE, minPort: 57800, maxPort: 57899 });
  cleanups.push(() => pool.close());
  const ports = await pool.allocate();
  const clock = { ms: 0 };
  const rtp = new RtpSession({
    ports,
    ...PCMU_SESSION,
    remote: { address: sdpHost, port: target.port },
    signallingAddress: CALLER,
    now: () => clock.ms
  });
  cleanups.push(() => rtp.close());
  let index = 0;
  const send = (frames: number): void => {
    for (let i = 0; i < frames; i++) rtp.sendFrame(indexedFrame(index++), 160);
  };
  return { rtp, ports, clock, send };
}

describe('RTP to an SDP host other than the caller’s', () => {
  it('stops once its window has passed with nothing heard from it, RTCP from the caller’s own host notwithstanding', async () => {
    const victim = await counting(THIRD_PARTY);
    const { rtp, ports, clock, send } = await session(victim, THIRD_PARTY);
    send(3);
    await waitFor(() => victim.received() === 3);
    // The caller keeps the call alive from its own host, on the port its RTCP is expected on.
    const caller = await counting(CALLER, victim.port + 1);
    caller.socket.send(receiverReport(0x1234), ports.rtcpPort, ENGINE);
    await waitFor(() => rtp.stats().rtcpReceived === 1);

    clock.ms += UNHEARD_HOST_SEND_MS + 1;
    send(5);
    expect(rtp.remoteAddress).toBeUndefined();
    expect(rtp.packetsSent).toBe(3);

    // The third party speaks after all (a split-media trunk late to start): it gets the audio again.
    await sendRtp(victim.socket, ports.rtpPort, 1, 1, ENGINE);
    await waitFor(() => rtp.remoteAddress !== undefined);
    send(2);
    await waitFor(() => victim.received() === 5);
    expect(rtp.packetsSent).toBe(5);
  });

  it('gives a host its window once a call: re-INVITEs away and back do not start it again', async () => {
    const victim = await counting(THIRD_PARTY);
    const { rtp, clock, send } = await session(victim, THIRD_PARTY);
    send(2);
    await waitFor(() => victim.received() === 2);
    clock.ms += UNHEARD_HOST_SEND_MS + 1;
    rtp.setRemote({ address: CALLER, port: 9 });
    rtp.setRemote({ address: THIRD_PARTY, port: victim.port });
    send(5);
    expect(rtp.remoteAddress).toBeUndefined();
    expect(rtp.packetsSent).toBe(2);
  });

  it('goes on past the window once a report from that host was heard', async () => {
    const media = await counting(THIRD_PARTY);
    const { rtp, ports, clock, send } = await session(media, THIRD_PARTY);
    media.socket.send(receiverReport(0x5678), ports.rtcpPort, ENGINE);
    await waitFor(() => rtp.stats().rtcpReceived === 1);
    clock.ms += UNHEARD_HOST_SEND_MS + 1;
    send(4);
    await waitFor(() => media.received() === 4);
  });

  it('goes on past the window to the caller’s own host, heard or not', async () => {
    const caller = await counting(CALLER);
    const { clock, send } = await session(caller, CALLER);
    clock.ms += 10 * UNHEARD_HOST_SEND_MS;
    send(4);
    await waitFor(() => caller.received() === 4);
  });
});
