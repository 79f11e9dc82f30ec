import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { RtpSession } from '../../engine/rtp/rtp-session.js';
import type { RtcpEvent, RtpSessionOptions } from '../../engine/rtp/rtp-session.js';
import type { DtmfEvent } from '../../engine/rtp/telephone-event.js';
import { sleep, waitFor } from '../support/wait.js';
import { exchangeFrames, indexedFrame } from '../support/rtp-exchange.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => s.close());
  return s;
}

/** A PCMU session on a fresh pool port whose SDP remote is `remotePort` on loopback (no RTCP). */
async function sessionFrom(
  remotePort: number,
  options: Partial<RtpSessionOptions> = {}
): Promise<{ session: RtpSession; rtpPort: number }> {
  const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47400, maxPort: 47499 });
  cleanups.push(() => pool.close());
  const ports = await pool.allocate();
  const session = new RtpSession({
    ports,
    payloadType: 0,
    clockRateHz: 8000,
    samplesPerFrame: 160,
    rtcpIntervalMs: 0,
    remote: { address: '127.0.0.1', port: remotePort },
    ...options
  });
  cleanups.push(() => session.close());
  return { session, rtpPort: ports.rtpPort };
}

/** One 20 ms PCMU packet (silence payload) with sequence number `seq` from `ssrc`. */
function pcmuPacket(seq: number, ssrc: number): Buffer {
  const p = Buffer.alloc(172);
  writeRtpHeader(p, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc });
  return p;
}

describe('RtpSession over loopback UDP', () => {
  it('latches on the first valid source, answers it (symmetric RTP), ignores a third source and odd packets', async () => {
    const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47400, maxPort: 47499 });
    cleanups.push(() => pool.close());
    const [pa, pb] = [await pool.allocate(), await pool.allocate()];
    const a = new RtpSession({
      ports: pa,
      payloadType: 0,
      clockRateHz: 8000,
      samplesPerFrame: 160,
      telephoneEventPayloadType: 101,
      remote: { address: '127.0.0.1', port: pb.rtpPort },
      rtcpIntervalMs: 150,
      cname: 'a@test'
    });
    // B knows nothing about A: it must learn A's address from A's packets (the NAT rule).
    const b = new RtpSession({
      ports: pb,
      payloadType: 0,
      clockRateHz: 8000,
      samplesPerFrame: 160,
      telephoneEventPayloadType: 101,
      rtcpIntervalMs: 150,
      jitter: { startDelayMs: 40 },
      latching: 'first-packet'
    });
    cleanups.push(
      () => a.close(),
      () => b.close()
    );
    const latched: { address: string; port: number }[] = [];
    b.on('latched', (l) => latched.push(l));
    const rtcpAtB: RtcpEvent[] = [];
    b.on('rtcp', (e) => rtcpAtB.push(e));

    // Odd packets from a third socket before anyone is latched: dropped, counted, not latched on.
    const c = await socket();
    const bad = [
      Buffer.alloc(4),
      Buffer.from([0x40, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from([0x8f, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
      Buffer.from([0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 99])
    ];
    const unknownPt = Buffer.alloc(172);
    writeRtpHeader(unknownPt, { marker: false, payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 9 });
    for (const msg of [...bad, unknownPt]) c.send(msg, pb.rtpPort, '127.0.0.1');
    await waitFor(() => b.stats().packetsDiscarded >= 5);
    expect(b.stats().packetsDiscarded).toBe(5);
    expect(b.stats().discardReasons).toMatchObject({
      short: 1,
      version: 1,
      csrc: 1,
      padding: 1,
      payloadType: 1
    });
    expect(latched).toEqual([]);

    // Valid PCMU from the third socket after A latched: ignored, counted.
    const intruder = Buffer.alloc(172);
    const { played, aGot } = await exchangeFrames(a, b, {
      ticks: 40,
      onTick: (i) => {
        if (i >= 5 && i % 5 === 0) {
          writeRtpHeader(intruder, {
            marker: false,
            payloadType: 0,
            sequenceNumber: i,
            timestamp: i * 160,
            ssrc: 0x666
          });
          intruder.writeUInt32BE(999_999, 12);
          c.send(intruder, pb.rtpPort, '127.0.0.1');
        }
      }
    });
    expect(latched).toEqual([{ address: '127.0.0.1', port: pa.rtpPort }]);
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: pa.rtpPort });
    expect(played.length).toBeGreaterThan(20);
    expect(played.every((v, i) => i === 0 || v > played[i - 1])).toBe(true);
    expect(played).not.toContain(999_999);
    expect(b.stats().packetsFromOtherSources).toBeGreaterThanOrEqual(6);
    expect(aGot).toBeGreaterThan(10); // B answered A's source address though it had no SDP remote
    expect(rtcpAtB.some((e) => e.packets[0].type === 'sr')).toBe(true);
    expect(b.stats().internalErrors).toBe(0);
  });

  it('after the peer moves (re-INVITE), latches its new port, not a packet still queued from the old one', async () => {
    const [before, after] = [await socket(), await socket()];
    const { session: b, rtpPort } = await sessionFrom(before.address().port);
    const packet = (seq: number): Buffer => pcmuPacket(seq, 0x1234);
    const latched: number[] = [];
    b.on('latched', (l) => latched.push(l.port));
    before.send(packet(1), rtpPort, '127.0.0.1');
    await waitFor(() => latched.length === 1);
    expect(latched).toEqual([before.address().port]);
    // The peer's last packet from its old port is still unread when its re-INVITE is applied
    // (the 'message' event cannot run before this synchronous code ends).
    before.send(packet(2), rtpPort, '127.0.0.1');
    b.setRemote({ address: '127.0.0.1', port: after.address().port });
    await waitFor(() => b.stats().packetsFromOtherSources === 1);
    expect(latched).toEqual([before.address().port]);
    after.send(packet(3), rtpPort, '127.0.0.1');
    await waitFor(() => latched.length === 2);
    expect(latched).toEqual([before.address().port, after.address().port]);
    expect(b.remoteAddress).toEqual({ address: '127.0.0.1', port: after.address().port });
    // A re-INVITE that does not move (hold, resume) latches its source again as before.
    b.setRemote({ address: '127.0.0.1', port: after.address().port });
    after.send(packet(4), rtpPort, '127.0.0.1');
    await waitFor(() => latched.length === 3);
    expect(latched).toEqual([before.address().port, after.address().port, after.address().port]);
  });

  it('a new remote SSRC restarts the inbound stream once, confirmed by its second packet while the first is still heard; the first one is no change', async () => {
    const peer = await socket();
    const clockMs = 1000; // the session's clock stands still: the first SSRC is always just heard
    const { session: b, rtpPort } = await sessionFrom(peer.address().port, { now: () => clockMs });
    const changes: Array<{ previous: number; ssrc: number }> = [];
    b.on('ssrcChange', (e) => changes.push(e));
    const send = (seq: number, ssrc: number): void => {
      peer.send(pcmuPacket(seq, ssrc), rtpPort, '127.0.0.1');
    };
    // SSRCs above 2^31, as half of real ones are.
    for (let seq = 1; seq <= 3; seq++) send(seq, 0x9000_0001);
    await waitFor(() => b.packetsReceived === 3);
    expect(changes).toEqual([]);
    for (let seq = 500; seq <= 502; seq++) send(seq, 0xa000_0002);
    await waitFor(() => b.packetsReceived === 5);
    expect(changes).toEqual([{ previous: 0x9000_0001, ssrc: 0xa000_0002 }]);
    expect(b.stats().remoteSsrc).toBe(0xa000_0002);
    expect(b.stats().discardReasons.probation).toBe(1);
  });

  it('neither a straggler of the replaced SSRC nor packets forged with others switch the stream or restart it', async () => {
    const peer = await socket();
    let clockMs = 1000;
    const { session: b, rtpPort } = await sessionFrom(peer.address().port, { now: () => clockMs });
    const changes: Array<{ previous: number; ssrc: number }> = [];
    b.on('ssrcChange', (e) => changes.push(e));
    let handled = 0;
    const send = async (seq: number, ssrc: number): Promise<void> => {
      peer.send(pcmuPacket(seq, ssrc), rtpPort, '127.0.0.1');
      handled++;
      await waitFor(() => b.packetsReceived + b.stats().discardReasons.probation === handled);
      clockMs += 20;
    };
    for (let seq = 1; seq <= 10; seq++) await send(seq, 0xa);
    // The sender moves to another source: its first packet waits for the second.
    await send(700, 0xb);
    await send(701, 0xb);
    expect(changes).toEqual([{ previous: 0xa, ssrc: 0xb }]);
    await send(11, 0xa); // a straggler of the old stream
    await send(702, 0xb);
    await send(1234, 0x5eed_0001); // forged, one packet per SSRC
    await send(703, 0xb);
    await send(4321, 0x5eed_0002);
    await send(704, 0xb);
    expect(changes).toEqual([{ previous: 0xa, ssrc: 0xb }]);
    expect(b.stats().remoteSsrc).toBe(0xb);
    expect(b.stats().discardReasons.probation).toBe(4);
    // Quiet for three frames, the current source gives way to the next at once.
    clockMs += 60;
    await send(9000, 0xc);
    expect(changes.at(-1)).toEqual({ previous: 0xb, ssrc: 0xc });
    expect(b.stats().discardReasons.probation).toBe(4);
  });

  it('delivers an RFC 4733 digit exactly once, interleaved with audio', async () => {
    const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47400, maxPort: 47499 });
    cleanups.push(() => pool.close());
    const [pa, pb] = [await pool.allocate(), await pool.allocate()];
    const a = new RtpSession({
      ports: pa,
      payloadType: 8,
      clockRateHz: 8000,
      samplesPerFrame: 160,
      telephoneEventPayloadType: 101,
      remote: { address: '127.0.0.1', port: pb.rtpPort },
      rtcpIntervalMs: 0
    });
    const b = new RtpSession({
      ports: pb,
      payloadType: 8,
      clockRateHz: 8000,
      samplesPerFrame: 160,
      telephoneEventPayloadType: 101,
      rtcpIntervalMs: 0,
      remote: { address: '127.0.0.1', port: pa.rtpPort }
    });
    cleanups.push(
      () => a.close(),
      () => b.close()
    );
    const digits: DtmfEvent[] = [];
    b.on('dtmf', (d) => digits.push(d));
    const sending = a.sendDtmf('9', 120).then(() => a.sendDtmf('#', 80));
    await exchangeFrames(a, b, { ticks: 25 });
    await sending;
    await waitFor(() => digits.length >= 2);
    expect(digits).toEqual([
      { digit: '9', durationMs: 120, source: 'rfc4733', startMs: expect.any(Number) },
      { digit: '#', durationMs: 80, source: 'rfc4733', startMs: expect.any(Number) }
    ]);
    await expect(a.sendDtmf('x', 100)).rejects.toBeInstanceOf(RangeError);
  });

  it('reports a digit sent on an SSRC of its own once, and the audio beside it is not restarted', async () => {
    const peer = await socket();
    const { session, rtpPort } = await sessionFrom(peer.address().port, { telephoneEventPayloadType: 101 });
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d) => digits.push(d));
    let ssrcChanges = 0;
    session.on('ssrcChange', () => ssrcChanges++);
    let received = 0;
    const send = async (packet: Buffer): Promise<void> => {
      await new Promise<void>((resolve) => peer.send(packet, rtpPort, '127.0.0.1', () => resolve()));
      received++;
      await waitFor(() => session.stats().packetsReceived === received);
    };
    // RFC 4733 §2.1 puts events on the audio's SSRC; this sender (as some in the field) does not.
    const event = (seq: number, end: boolean, duration: number): Buffer => {
      const p = Buffer.alloc(16);
      writeRtpHeader(p, {
        marker: seq === 0,
        payloadType: 101,
        sequenceNumber: 5000 + seq,
        timestamp: 99_999,
        ssrc: 0xb
      });
      p.set([5, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff], 12);
      return p;
    };
    let audio = 100;
    for (let i = 0; i < 5; i++) await send(pcmuPacket(audio++, 0xa));
    await send(event(0, false, 160));
    await send(pcmuPacket(audio++, 0xa));
    await send(event(1, false, 320));
    await send(event(2, true, 480));
    await send(pcmuPacket(audio++, 0xa));
    await send(event(3, true, 480));
    await send(event(4, true, 480));
    await send(pcmuPacket(audio++, 0xa));
    expect(digits.map((d) => `${d.digit}/${d.durationMs}`)).toEqual(['5/60']);
    expect(ssrcChanges).toBe(0);
  });

  it('sends neither RTP nor RTCP to a null SDP address (c=0.0.0.0), which Linux delivers to this host', async () => {
    const rtcp = await socket();
    const heard: Buffer[] = [];
    rtcp.on('message', (m) => heard.push(m));
    const rtcpPort = rtcp.address().port;
    const { session } = await sessionFrom(rtcpPort - 1, {
      remote: { address: '0.0.0.0', port: rtcpPort - 1, rtcpPort },
      rtcpIntervalMs: 20
    });
    for (let i = 0; i < 5; i++) session.sendFrame(Buffer.alloc(172), 160);
    await sleep(300); // about 10 report intervals
    expect(heard).toEqual([]);
    expect(session.remoteAddress).toBeUndefined();
  });

  it("sends RTCP to the address a=rtcp names (RFC 3605), not the RTP address's", async () => {
    const elsewhere = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => elsewhere.bind(0, '127.0.0.2', () => resolve()));
    cleanups.push(() => elsewhere.close());
    const heard: Buffer[] = [];
    elsewhere.on('message', (m) => heard.push(m));
    const rtpPeer = await socket();
    const { session } = await sessionFrom(rtpPeer.address().port, {
      remote: {
        address: '127.0.0.1',
        port: rtpPeer.address().port,
        rtcpPort: elsewhere.address().port,
        rtcpAddress: '127.0.0.2'
      },
      rtcpIntervalMs: 20
    });
    session.sendFrame(Buffer.alloc(172), 160);
    await waitFor(() => heard.length > 0);
    expect(heard[0][1]).toBe(200); // a sender report
  });

  // RFC 3550 §11: RTCP on the RTP port + 1. A peer on 65535 that names no RTCP port (RFC 3605)
  // has none we can compute: 65536 made every report a failed send.
  it('sends no RTCP to a peer on RTP port 65535 without a=rtcp until its own RTCP shows where', async () => {
    const silent = await sessionFrom(65535, { rtcpIntervalMs: 60_000 });
    silent.session.close(); // sends its BYE report, if it has anywhere to send it
    expect(silent.session.stats()).toMatchObject({ rtcpSent: 0, sendErrors: 0 });

    const peerRtcp = await socket();
    const heard: Buffer[] = [];
    peerRtcp.on('message', (m) => heard.push(m));
    const { session, rtpPort } = await sessionFrom(65535, { rtcpIntervalMs: 60_000 });
    let reports = 0;
    session.on('rtcp', () => reports++);
    // Its RTP (from a NAT mapping, after probation), then a report from a port of its own with
    // that RTP's SSRC (rtcp-latch.test.ts).
    const peerRtp = await socket();
    for (let seq = 1; seq <= 5; seq++) peerRtp.send(pcmuPacket(seq, 0x777), rtpPort, '127.0.0.1');
    await waitFor(() => session.remoteAddress?.port === peerRtp.address().port);
    peerRtcp.send(Buffer.from('80c9000100000777', 'hex'), rtpPort + 1, '127.0.0.1'); // an empty RR
    await waitFor(() => reports === 1);
    session.close();
    await waitFor(() => heard.length === 1);
    expect(heard[0][1]).toBeGreaterThanOrEqual(200); // SR or RR first (§6.1), with the BYE
    expect(session.stats()).toMatchObject({ rtcpSent: 1, sendErrors: 0 });
  });

  it('close releases the ports, is idempotent, and rejects a pending digit', async () => {
    const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47400, maxPort: 47499 });
    cleanups.push(() => pool.close());
    const pa = await pool.allocate();
    const a = new RtpSession({
      ports: pa,
      payloadType: 0,
      clockRateHz: 8000,
      samplesPerFrame: 160,
      telephoneEventPayloadType: 101,
      remote: { address: '127.0.0.1', port: 9 }
    });
    const pending = a.sendDtmf('1', 500);
    await sleep(30);
    a.close();
    a.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(pool.inUse).toBe(0);
    expect(a.readFrame(new Uint8Array(160))).toBe(0);
    expect(() => a.sendFrame(indexedFrame(0), 160)).toThrow();
  });
});
