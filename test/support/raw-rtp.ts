/**
 * RTP by hand for tests of who the engine takes media from: PCMU packets of digital silence from
 * a socket of the test's, an RTCP receiver report, and a socket that counts what the engine sends it.
 */
import dgram from 'node:dgram';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { sleep } from './wait.js';

/**
 * A 20 ms PCMU packet (payload type 0, 0xff fill) whose payload starts with `mark` as a 32-bit
 * number: a frame a session plays says whose packet it was.
 */
export function markedPcmuPacket(seq: number, ssrc: number, mark: number): Buffer {
  const p = Buffer.alloc(12 + 160, 0xff);
  writeRtpHeader(p, {
    marker: false,
    payloadType: 0,
    sequenceNumber: seq & 0xffff,
    timestamp: seq * 160,
    ssrc
  });
  p.writeUInt32BE(mark >>> 0, 12);
  return p;
}

/** An empty receiver report (RFC 3550 §6.4.2) from `ssrc`. */
export function receiverReport(ssrc: number): Buffer {
  const rr = Buffer.from('80c9000100000000', 'hex');
  rr.writeUInt32BE(ssrc >>> 0, 4);
  return rr;
}

/** `count` PCMU packets of silence (one SSRC, consecutive numbers) to `port` on `host`, 20 ms apart. */
export async function sendRtp(
  socket: dgram.Socket,
  port: number,
  count: number,
  firstSeq: number,
  host = '127.0.0.1'
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const packet = Buffer.alloc(12 + 160, 0xff);
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt16BE((firstSeq + i) & 0xffff, 2);
    packet.writeUInt32BE(((firstSeq + i) * 160) >>> 0, 4);
    packet.writeUInt32BE(0x5eed1234, 8);
    socket.send(packet, port, host);
    await sleep(20);
  }
}

export interface CountingSocket {
  socket: dgram.Socket;
  /** Datagrams received so far. */
  received(): number;
  /** The port it is bound to. */
  port: number;
  close(): Promise<void>;
}

/** A UDP socket on `host` (and `port`, any free one by default) that counts what it receives. */
export async function countingSocket(host: string, port = 0): Promise<CountingSocket> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => received++);
  await new Promise<void>((resolve) => socket.bind(port, host, () => resolve()));
  return {
    socket,
    received: () => received,
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve()))
  };
}
