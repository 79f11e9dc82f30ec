/**
 * Our 20 ms frames in packets of the peer's a=ptime (outbound-packing.ts), sent by an RtpSession
 * over loopback UDP with its clock in the test's hands: what a receiving socket gets, packet by
 * packet, across a talkspurt's end, hold, a DTMF event and L16.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { packetMsFor } from '../../engine/rtp/outbound-packing.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { RtpSession, type RtpSessionOptions } from '../../engine/rtp/rtp-session.js';
import { parseRtcpCompound, type RtcpPacket } from '../../engine/rtp/rtcp-packet.js';
import { waitFor } from '../support/wait.js';

interface Received {
  sequence: number;
  timestamp: number;
  marker: boolean;
  payloadType: number;
  payload: Buffer;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A session sending to a socket of the test's, with its clock at `clock.ms`. */
async function sender(options: Partial<RtpSessionOptions>): Promise<{
  session: RtpSession;
  received: Received[];
  clock: { ms: number };
}> {
  const socket = dgram.createSocket('udp4');
  const received: Received[] = [];
  socket.on('message', (msg: Buffer) =>
    received.push({
      sequence: msg.readUInt16BE(2),
      timestamp: msg.readUInt32BE(4),
      marker: (msg[1] & 0x80) !== 0,
      payloadType: msg[1] & 0x7f,
      payload: msg.subarray(12)
    })
  );
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => socket.close());
  const pool = new RtpPortPool({ host: '127.0.0.1', minPort: 47600, maxPort: 47699 });
  cleanups.push(() => pool.close());
  const clock = { ms: 1000 };
  const session = new RtpSession({
    ports: await pool.allocate(),
    payloadType: 0,
    clockRateHz: 8000,
    samplesPerFrame: 160,
    rtcpIntervalMs: 0,
    telephoneEventPayloadType: 101,
    remote: { address: '127.0.0.1', port: socket.address().port },
    now: () => clock.ms,
    ...options
  });
  cleanups.push(() => session.close());
  return { session, received, clock };
}

/** Frame `n`'s packet as the DSP core leaves it: payload bytes all `n`, header room in front. */
function frame(n: number, payloadBytes = 160): Buffer {
  return Buffer.alloc(12 + payloadBytes, n);
}

/** Sends frames `from`..`to` (inclusive), 20 ms apart on the session's clock. */
function sendFrames(s: { session: RtpSession; clock: { ms: number } }, from: number, to: number): void {
  for (let n = from; n <= to; n++) {
    s.session.sendFrame(frame(n), 160);
    s.clock.ms += 20;
  }
}

/** Each packet's payload as the frame numbers it holds, one per 80 bytes (half a frame). */
function halves(packet: Received): number[] {
  const out: number[] = [];
  for (let at = 0; at < packet.payload.length; at += 80) out.push(packet.payload[at]);
  return out;
}

describe('packets of the peer’s a=ptime', () => {
  it('30 ms: a frame and a half a packet, every sample once and in order, timestamps 240 apart', async () => {
    const s = await sender({ ptimeMs: 30 });
    sendFrames(s, 1, 6);
    await waitFor(() => s.received.length === 4);
    expect(s.received.map(halves)).toEqual([
      [1, 1, 2],
      [2, 3, 3],
      [4, 4, 5],
      [5, 6, 6]
    ]);
    const t0 = s.received[0].timestamp;
    expect(s.received.map((p) => (p.timestamp - t0) >>> 0)).toEqual([0, 240, 480, 720]);
    expect(s.received.map((p) => p.marker)).toEqual([true, false, false, false]);
    const q0 = s.received[0].sequence;
    expect(s.received.map((p) => (p.sequence - q0) & 0xffff)).toEqual([0, 1, 2, 3]);
    expect(s.session.stats().packetsSent).toBe(4);
  });

  it('after a pause, what waited goes out shorter and the next talkspurt starts with the marker', async () => {
    const s = await sender({ ptimeMs: 40 });
    sendFrames(s, 1, 3); // one 40 ms packet; frame 3 waits
    s.clock.ms += 200; // no frames for 200 ms
    sendFrames(s, 4, 5);
    await waitFor(() => s.received.length === 3);
    expect(s.received.map(halves)).toEqual([
      [1, 1, 2, 2],
      [3, 3],
      [4, 4, 5, 5]
    ]);
    const t0 = s.received[0].timestamp;
    // Frame 4 comes 260 ms (13 frames) after frame 1: its timestamp moves on by that much.
    expect(s.received.map((p) => (p.timestamp - t0) >>> 0)).toEqual([0, 320, 13 * 160]);
    expect(s.received.map((p) => p.marker)).toEqual([true, false, true]);
  });

  it('on hold nothing waits: the frames before it are not sent after it', async () => {
    const s = await sender({ ptimeMs: 60 });
    sendFrames(s, 1, 2);
    s.session.holdSending(true);
    sendFrames(s, 3, 3);
    s.session.holdSending(false);
    sendFrames(s, 4, 6);
    await waitFor(() => s.received.length === 1);
    expect(s.received.map(halves)).toEqual([[4, 4, 5, 5, 6, 6]]);
  });

  it('a DTMF digit goes out after the audio that waited, and audio resumes in whole packets', async () => {
    const s = await sender({ ptimeMs: 30 });
    sendFrames(s, 1, 3); // one packet; half of frame 2 and frame 3 wait
    const digit = s.session.sendDtmf('5', 40);
    await waitFor(() => s.received.some((p) => p.payloadType === 101));
    sendFrames(s, 4, 5); // replaced by the event
    await digit;
    sendFrames(s, 6, 8);
    await waitFor(() => s.received.filter((p) => p.payloadType === 0).length === 4);
    const audio = s.received.filter((p) => p.payloadType === 0);
    expect(audio.map(halves)).toEqual([
      [1, 1, 2],
      [2, 3, 3],
      [6, 6, 7],
      [7, 8, 8]
    ]);
    // The waiting audio left before the event's first packet.
    expect(s.received.findIndex((p) => p.payloadType === 101)).toBe(2);
  });

  it('a codec change to L16 asked for 60 ms sends 40, as much as a packet holds', async () => {
    const s = await sender({ ptimeMs: 60 });
    s.session.updateCodec(96, 16000, 320, { bytesPerSample: 2, silenceByte: 0 });
    for (let n = 1; n <= 4; n++) {
      s.session.sendFrame(frame(n, 640), 640);
      s.clock.ms += 20;
    }
    await waitFor(() => s.received.length === 2);
    expect(s.received.map((p) => p.payload.length)).toEqual([1280, 1280]);
    expect((s.received[1].timestamp - s.received[0].timestamp) >>> 0).toBe(640);
  });

  it("the sender report's RTP timestamp is that of the moment it is sent, at 40 ms as at 20 (RFC 3550 §6.4.1)", async () => {
    for (const ptimeMs of [20, 40]) {
      const rtcp = dgram.createSocket('udp4');
      const reports: RtcpPacket[] = [];
      rtcp.on('message', (msg: Buffer) => {
        reports.push(...parseRtcpCompound(msg).packets);
      });
      await new Promise<void>((resolve) => rtcp.bind(0, '127.0.0.1', () => resolve()));
      cleanups.push(() => rtcp.close());
      const s = await sender({ ptimeMs, rtcpIntervalMs: 60_000 });
      s.session.setRemote({
        address: '127.0.0.1',
        port: s.session.stats().remotePort!,
        rtcpPort: rtcp.address().port
      });
      // Nine frames, the last at 1160 (at 40 ms it waits for a tenth), then the report at 1180.
      sendFrames(s, 0, 8);
      await waitFor(() => s.received.length === (ptimeMs === 20 ? 9 : 4));
      s.session.close();
      await waitFor(() => reports.some((r) => r.type === 'sr'));
      const sr = reports.find((r) => r.type === 'sr') as Extract<RtcpPacket, { type: 'sr' }>;
      expect((sr.rtpTimestamp - s.received[0].timestamp) >>> 0, `${ptimeMs} ms`).toBe(9 * 160);
    }
  });

  it('takes 20 to 60 ms in steps of 10, and no more than a payload holds', () => {
    expect([10, 20, 25, 30, 35, 40, 60, 100, NaN].map((ms) => packetMsFor(ms, 160, 1280))).toEqual([
      20, 20, 20, 30, 30, 40, 60, 60, 20
    ]);
    // L16 at 16 kHz: 640 bytes a frame, two in 1280.
    expect(packetMsFor(60, 640, 1280)).toBe(40);
  });
});
