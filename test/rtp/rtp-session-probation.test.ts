/**
 * Latching probation over real sockets: a stranger on the caller's own address (another program
 * on its host, another device behind its NAT) who sends before the caller does not take the call
 * unless it sends a run of consecutive packets, and the caller's SDP port takes a call back.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBATION_PACKETS } from '../../engine/rtp/latch-probation.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';
import { waitFor } from '../support/wait.js';
import { exchangeFrames, PCMU_SESSION } from '../support/rtp-exchange.js';
import { markedPcmuPacket } from '../support/raw-rtp.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const CALLER_HOST = '127.0.0.40';
const ENGINE_HOST = '127.0.0.41';
const OTHER_HOST = '127.0.0.42';
/** The port a caller behind NAT names in its SDP; its packets leave from another (the NAT's). */
const NAT_SDP_PORT = 60198;
const STRANGER_MARK = 999_999;

function packet(seq: number, ssrc: number, mark = STRANGER_MARK): Buffer {
  return markedPcmuPacket(seq, ssrc, mark);
}

async function socket(host: string, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(port, host, () => resolve()));
  cleanups.push(() => s.close());
  return s;
}

async function send(from: dgram.Socket, packets: Buffer[], port: number): Promise<void> {
  for (const p of packets) {
    await new Promise<void>((resolve, reject) =>
      from.send(p, port, ENGINE_HOST, (e) => (e ? reject(e) : resolve()))
    );
  }
}

/** A caller (A) on CALLER_HOST and the engine's session (B) on ENGINE_HOST, B's SDP peer given by `bRemote`. */
async function call(
  bRemote: (aPort: number) => RtpSessionOptions['remote'],
  b: Partial<RtpSessionOptions> = {}
) {
  const callerPool = new RtpPortPool({ host: CALLER_HOST, minPort: 60000, maxPort: 60099 });
  const enginePool = new RtpPortPool({ host: ENGINE_HOST, minPort: 60100, maxPort: 60149 });
  cleanups.push(
    () => callerPool.close(),
    () => enginePool.close()
  );
  const [pa, pb] = [await callerPool.allocate(), await enginePool.allocate()];
  const caller = new RtpSession({
    ports: pa,
    ...PCMU_SESSION,
    remote: { address: ENGINE_HOST, port: pb.rtpPort }
  });
  const engine = new RtpSession({ ports: pb, ...PCMU_SESSION, remote: bRemote(pa.rtpPort), ...b });
  cleanups.push(
    () => caller.close(),
    () => engine.close()
  );
  const latched: { address: string; port: number }[] = [];
  engine.on('latched', (l) => latched.push(l));
  return { caller, engine, callerPort: pa.rtpPort, enginePort: pb.rtpPort, latched };
}

/** Packets the session has read, whatever it did with them. */
function readAll(session: RtpSession): number {
  const s = session.stats();
  return s.packetsReceived + s.packetsDiscarded + s.packetsFromOtherSources;
}

/** Sequence numbers no two of which are consecutive: a scan's, or a forger's guesses. */
const scattered = (i: number): number => (i * 7919 + 3) & 0xffff;

describe('RtpSession latching probation (strict)', () => {
  it("a stranger on the caller's address who sends first, without a run of consecutive packets, never takes the call", async () => {
    const { caller, engine, callerPort, latched } = await call(() => ({
      address: CALLER_HOST,
      port: NAT_SDP_PORT
    }));
    const stranger = await socket(CALLER_HOST, 60150);
    let strangerGot = 0;
    stranger.on('message', () => strangerGot++);
    const early = [
      ...Array.from({ length: PROBATION_PACKETS - 1 }, (_, i) => packet(1 + i, 0x666)), // one short of a run
      ...Array.from({ length: PROBATION_PACKETS }, (_, i) => packet(10 + i, 0x666 + i)), // a run, but a new SSRC each
      ...Array.from({ length: 10 }, (_, i) => packet(scattered(i), 0x666))
    ];
    await send(stranger, early, engine.ports.rtpPort);
    await waitFor(() => readAll(engine) === early.length);
    expect(latched).toEqual([]);
    expect(engine.stats().discardReasons.probation).toBe(early.length);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: NAT_SDP_PORT });

    // The caller starts; its packets come from a port its SDP does not name. The stranger goes on.
    const { played, aGot: callerHeard } = await exchangeFrames(caller, engine, {
      ticks: 0,
      untilHeard: 10,
      onTick: (i) => {
        stranger.send(packet(scattered(100 + i), 0x666), engine.ports.rtpPort, ENGINE_HOST);
      }
    });
    expect(latched).toEqual([{ address: CALLER_HOST, port: callerPort }]);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: callerPort });
    expect(played.length).toBeGreaterThanOrEqual(10);
    expect(played).not.toContain(STRANGER_MARK);
    expect(played[0]).toBeGreaterThanOrEqual(PROBATION_PACKETS - 1); // the caller's own probation
    expect(callerHeard).toBeGreaterThanOrEqual(10);
    expect(strangerGot).toBe(0);
    expect(engine.stats().packetsFromOtherSources).toBeGreaterThanOrEqual(1);
  });

  it('a stranger that serves its probation first holds the call against the caller’s other ports, and the caller’s SDP port takes it back for good', async () => {
    const { caller, engine, callerPort, latched } = await call((aPort) => ({
      address: CALLER_HOST,
      port: aPort
    }));
    const stranger = await socket(CALLER_HOST, 60152);
    await send(
      stranger,
      Array.from({ length: PROBATION_PACKETS }, (_, i) => packet(1 + i, 0x666)),
      engine.ports.rtpPort
    );
    await waitFor(() => latched.length === 1);
    expect(latched).toEqual([{ address: CALLER_HOST, port: stranger.address().port }]);

    // The caller from another of its ports (a NAT mapping): a stranger's now, however long its run.
    const callerElsewhere = await socket(CALLER_HOST, 60154);
    const before = engine.stats().packetsFromOtherSources;
    await send(
      callerElsewhere,
      Array.from({ length: 2 * PROBATION_PACKETS }, (_, i) => packet(500 + i, 0x1234, 1)),
      engine.ports.rtpPort
    );
    await waitFor(() => engine.stats().packetsFromOtherSources - before === 2 * PROBATION_PACKETS);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: stranger.address().port });

    // From the port its SDP names, the caller takes the call back at its first packet; the
    // stranger's run goes on and takes nothing.
    let seq = 1 + PROBATION_PACKETS;
    const { played } = await exchangeFrames(caller, engine, {
      ticks: 0,
      untilHeard: 10,
      onTick: () => {
        stranger.send(packet(seq++, 0x666), engine.ports.rtpPort, ENGINE_HOST);
      }
    });
    expect(latched).toEqual([
      { address: CALLER_HOST, port: stranger.address().port },
      { address: CALLER_HOST, port: callerPort }
    ]);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: callerPort });
    expect(played.slice(-10)).not.toContain(STRANGER_MARK);
  });
});

describe('RtpSession latching probation (first-packet)', () => {
  it('a stranger on another host who sends first without a run does not latch; the caller, from anywhere, does after its probation', async () => {
    const { caller, engine, callerPort, latched } = await call(() => undefined, { latching: 'first-packet' });
    const stranger = await socket(OTHER_HOST, 60156);
    let strangerGot = 0;
    stranger.on('message', () => strangerGot++);
    const early = [
      ...Array.from({ length: PROBATION_PACKETS - 1 }, (_, i) => packet(1 + i, 0x666)),
      ...Array.from({ length: 10 }, (_, i) => packet(scattered(i), 0x666))
    ];
    await send(stranger, early, engine.ports.rtpPort);
    await waitFor(() => readAll(engine) === early.length);
    expect(latched).toEqual([]);
    expect(engine.stats().discardReasons.probation).toBe(early.length);
    const { played, aGot: callerHeard } = await exchangeFrames(caller, engine, {
      ticks: 0,
      untilHeard: 10,
      onTick: (i) => {
        stranger.send(packet(scattered(100 + i), 0x666), engine.ports.rtpPort, ENGINE_HOST);
      }
    });
    expect(latched).toEqual([{ address: CALLER_HOST, port: callerPort }]);
    expect(played).not.toContain(STRANGER_MARK);
    expect(callerHeard).toBeGreaterThanOrEqual(10);
    expect(strangerGot).toBe(0);
  });
});
