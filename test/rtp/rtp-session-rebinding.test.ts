/**
 * A caller's NAT rebinding over real sockets: the caller's audio goes on from another port of the
 * same address, with no re-INVITE. The session follows it, and sends there, once the old port has
 * gone quiet and the new one carries the same stream on through its probation. A stranger on the
 * caller's address cannot use the rule: not while the caller sends, not with another SSRC, not
 * with the SSRC but a sequence number of its own, and not from another address. With SRTP the new
 * port's first packet that authenticates latches, and one that does not is dropped. RTCP latches
 * anew on the new mapping, and the old mapping's late reports do not take it back.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBATION_PACKETS } from '../../engine/rtp/latch-probation.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession } from '../../engine/rtp/rtp-session.js';
import { exchangeFrames, indexedFrame, PCMU_SESSION } from '../support/rtp-exchange.js';
import { countingSocket, markedPcmuPacket, receiverReport, type CountingSocket } from '../support/raw-rtp.js';
import { sleep, waitFor } from '../support/wait.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

const CALLER_HOST = '127.0.0.43';
const ENGINE_HOST = '127.0.0.44';
const OTHER_HOST = '127.0.0.45';
/** The private port a caller behind NAT names in its SDP: nothing ever comes from it. */
const NAT_SDP_PORT = 60298;
const SSRC = 0x5eed;

/** A PCMU packet whose payload starts with its sequence number, so a played frame says which it was. */
function packet(seq: number, ssrc = SSRC): Buffer {
  return markedPcmuPacket(seq, ssrc, seq);
}

async function socket(host: string, port: number): Promise<CountingSocket> {
  const counting = await countingSocket(host, port);
  cleanups.push(() => void counting.close());
  return counting;
}

function send(from: dgram.Socket, p: Buffer, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    from.send(p, port, ENGINE_HOST, (e) => (e ? reject(e) : resolve()))
  );
}

async function engineSession(rtcpIntervalMs = 0) {
  const pool = new RtpPortPool({ host: ENGINE_HOST, minPort: 60300, maxPort: 60349 });
  cleanups.push(() => pool.close());
  const engine = new RtpSession({
    ports: await pool.allocate(),
    ...PCMU_SESSION,
    rtcpIntervalMs,
    remote: { address: CALLER_HOST, port: NAT_SDP_PORT }
  });
  cleanups.push(() => engine.close());
  const latched: { address: string; port: number }[] = [];
  engine.on('latched', (l) => latched.push(l));
  const played: number[] = [];
  const target = new Uint8Array(1280);
  /** One 20 ms frame of the engine's: it sends its own and plays what it holds. */
  const frame = async (): Promise<void> => {
    engine.sendFrame(indexedFrame(100_000), 160);
    await sleep(20);
    if (engine.readFrame(target) === 160) played.push(new DataView(target.buffer).getUint32(0));
  };
  return { engine, latched, played, frame };
}

/** The caller's stream from `from`, frame by frame, `count` packets from `seq` on; `also` runs after each packet. */
async function stream(
  from: dgram.Socket,
  seq: number,
  count: number,
  engine: RtpSession,
  frame: () => Promise<void>,
  also?: (seq: number) => Promise<void>
): Promise<number> {
  for (let i = 0; i < count; i++, seq++) {
    await send(from, packet(seq), engine.ports.rtpPort);
    await also?.(seq);
    await frame();
  }
  return seq;
}

describe('RtpSession and a NAT that rebinds', () => {
  it("follows the caller's stream to its new port once the old one is quiet, after probation, and sends there", async () => {
    const { engine, latched, played, frame } = await engineSession();
    const before = await socket(CALLER_HOST, 60200);
    const after = await socket(CALLER_HOST, 60202);

    let seq = await stream(before.socket, 1, 15, engine, frame);
    expect(latched).toEqual([{ address: CALLER_HOST, port: 60200 }]);
    await waitFor(() => before.received() > 0);
    const rebindAt = seq;

    // The NAT maps the caller anew: the same stream, from another port, with no signalling.
    for (let i = 0; i < 500 && !played.some((s) => s >= rebindAt); i++)
      seq = await stream(after.socket, seq, 1, engine, frame);
    expect(latched).toEqual([
      { address: CALLER_HOST, port: 60200 },
      { address: CALLER_HOST, port: 60202 }
    ]);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: 60202 });
    expect(engine.stats().discardReasons.probation).toBeGreaterThanOrEqual(PROBATION_PACKETS - 1);

    // The engine's audio goes where the caller's now comes from, and no longer to the old port.
    const oldPortHad = before.received();
    seq = await stream(after.socket, seq, 5, engine, frame);
    await waitFor(() => after.received() >= 5);
    expect(before.received()).toBe(oldPortHad);
    expect(played.slice(-3).every((s) => s >= rebindAt && s < seq)).toBe(true);
  });

  it("the new mapping's reports latch RTCP; the old mapping's late ones, on its RTCP or RTP port, no longer take it", async () => {
    const { engine, latched, played, frame } = await engineSession(100);
    const [before, beforeRtcp] = [await socket(CALLER_HOST, 60210), await socket(CALLER_HOST, 60211)];
    const [after, afterRtcp] = [await socket(CALLER_HOST, 60212), await socket(CALLER_HOST, 60216)];
    const rtcpPort = engine.ports.rtcpPort;

    let seq = await stream(before.socket, 1, 15, engine, frame);
    await send(beforeRtcp.socket, receiverReport(SSRC), rtcpPort);
    await waitFor(() => engine.stats().rtcpReceived === 1);
    await waitFor(() => beforeRtcp.received() > 0); // our reports go to the old mapping's RTCP port
    const rebindAt = seq;
    for (let i = 0; i < 500 && !played.some((s) => s >= rebindAt); i++)
      seq = await stream(after.socket, seq, 1, engine, frame);
    expect(latched.map((l) => l.port)).toEqual([60210, 60212]);

    // Reports the old mapping sent before it died, read late: from its RTCP port, and rtcp-mux on its RTP port.
    const fromOthers = engine.stats().packetsFromOtherSources;
    await send(beforeRtcp.socket, receiverReport(SSRC), rtcpPort);
    await send(before.socket, receiverReport(SSRC), engine.ports.rtpPort);
    await waitFor(() => engine.stats().packetsFromOtherSources === fromOthers + 2);
    expect(engine.stats().rtcpReceived).toBe(1);

    // The new mapping's RTCP port is another one again (any the NAT picks): its report, with the
    // call's SSRC, latches, and our reports go there and no longer to the old one.
    await send(afterRtcp.socket, receiverReport(SSRC), rtcpPort);
    await waitFor(() => engine.stats().rtcpReceived === 2);
    const oldRtcpHad = beforeRtcp.received();
    await waitFor(() => afterRtcp.received() >= 2);
    expect(beforeRtcp.received()).toBe(oldRtcpHad);
  });

  it('a stranger on the caller’s address cannot take the call: not while it sends, nor with another SSRC, nor a sequence of its own; nor can another address', async () => {
    const { engine, latched, played, frame } = await engineSession();
    const caller = await socket(CALLER_HOST, 60204);
    const stranger = await socket(CALLER_HOST, 60206);
    const elsewhere = await socket(OTHER_HOST, 60208);

    let seq = await stream(caller.socket, 1, 2 * PROBATION_PACKETS, engine, frame);
    expect(latched).toEqual([{ address: CALLER_HOST, port: 60204 }]);
    const probation = engine.stats().discardReasons.probation;

    // Beside a caller that sends: the caller's own stream, copied, one number ahead.
    seq = await stream(caller.socket, seq, 20, engine, frame, (s) =>
      send(stranger.socket, packet(s + 1), engine.ports.rtpPort)
    );

    // The caller falls quiet (muted, or gone); after its silence, runs of consecutive packets that
    // do not carry its stream on.
    await sleep(200);
    const fromOthers = engine.stats().packetsFromOtherSources;
    const runs: [dgram.Socket, number, number][] = [
      [stranger.socket, seq, 0xbad], // another SSRC
      [stranger.socket, seq + 5000, SSRC], // the SSRC, with a sequence far from the caller's
      [stranger.socket, seq - 100, SSRC], // ... or behind it
      [elsewhere.socket, seq, SSRC] // the stream itself, from another address
    ];
    let sent = 0;
    for (const [from, start, ssrc] of runs)
      for (let i = 0; i < 3 * PROBATION_PACKETS; i++, sent++)
        await send(from, packet(start + i, ssrc), engine.ports.rtpPort);
    await waitFor(() => engine.stats().packetsFromOtherSources - fromOthers === sent);

    expect(latched).toEqual([{ address: CALLER_HOST, port: 60204 }]);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: 60204 });
    expect(engine.stats().discardReasons.probation).toBe(probation);
    expect(played.every((s) => s < seq)).toBe(true);
    expect(stranger.received()).toBe(0);
    expect(elsewhere.received()).toBe(0);
  });

  it('with SRTP, the stream from a new port latches at its first packet that authenticates; a forged one from a third port does not', async () => {
    const keyCaller = randomBytes(30);
    const keyEngine = randomBytes(30);
    const suite = 'AES_CM_128_HMAC_SHA1_80';
    const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 60350, maxPort: 60399 });
    const enginePool = new RtpPortPool({ host: ENGINE_HOST, minPort: 60300, maxPort: 60349 });
    cleanups.push(
      () => pool.close(),
      () => enginePool.close()
    );
    // The caller behind its NAT, and the NAT: what the caller sends leaves from the NAT's
    // current mapping, and what reaches a mapping goes back to the caller.
    const nat = await socket('127.0.0.1', 0);
    const mappings = [await socket(CALLER_HOST, 60210), await socket(CALLER_HOST, 60212)];
    const callerPorts = await pool.allocate();
    const caller = new RtpSession({
      ports: callerPorts,
      ...PCMU_SESSION,
      remote: { address: '127.0.0.1', port: nat.socket.address().port },
      srtp: { suite, localKeySalt: keyCaller, remoteKeySalt: keyEngine }
    });
    const engine = new RtpSession({
      ports: await enginePool.allocate(),
      ...PCMU_SESSION,
      remote: { address: CALLER_HOST, port: NAT_SDP_PORT },
      srtp: { suite, localKeySalt: keyEngine, remoteKeySalt: keyCaller }
    });
    cleanups.push(
      () => caller.close(),
      () => engine.close()
    );
    const latched: { address: string; port: number }[] = [];
    engine.on('latched', (l) => latched.push(l));
    let mapping = mappings[0];
    let lastOut: Buffer | undefined;
    nat.socket.on('message', (msg) => {
      lastOut = Buffer.from(msg);
      mapping.socket.send(msg, engine.ports.rtpPort, ENGINE_HOST);
    });
    for (const m of mappings)
      m.socket.on('message', (msg) => nat.socket.send(msg, callerPorts.rtpPort, '127.0.0.1'));

    const first = await exchangeFrames(caller, engine, { ticks: 0, untilHeard: 10 });
    expect(first.played.length).toBeGreaterThanOrEqual(10);
    expect(latched).toEqual([{ address: CALLER_HOST, port: 60210 }]);

    mapping = mappings[1];
    const fromSecond = mappings[1].received();
    const second = await exchangeFrames(caller, engine, { ticks: 20, from: 1000, untilHeard: 10 });
    expect(latched).toEqual([
      { address: CALLER_HOST, port: 60210 },
      { address: CALLER_HOST, port: 60212 }
    ]);
    expect(second.played.slice(-5).every((i) => i >= 1000)).toBe(true);
    expect(mappings[1].received() - fromSecond).toBeGreaterThanOrEqual(10);
    expect(engine.stats().discardReasons.probation).toBe(0);

    // The caller is quiet; a third port on its address sends the stream's next packet, altered.
    await sleep(200);
    const forger = await socket(CALLER_HOST, 60214);
    const forged = Buffer.from(lastOut!);
    forged.writeUInt16BE((forged.readUInt16BE(2) + 1) & 0xffff, 2);
    const auth = engine.stats().discardReasons.srtpAuth;
    await send(forger.socket, forged, engine.ports.rtpPort);
    await waitFor(() => engine.stats().discardReasons.srtpAuth === auth + 1);
    expect(latched.length).toBe(2);
    expect(engine.remoteAddress).toEqual({ address: CALLER_HOST, port: 60212 });
  });
});
