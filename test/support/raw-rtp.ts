/**
 * RTP by hand for tests of who the engine takes media from: PCMU packets of digital silence from
 * a socket of the test's, and a socket that counts what the engine sends it.
 */
import dgram from 'node:dgram';
import { sleep } from './wait.js';

/** `count` PCMU packets of silence (one SSRC, consecutive numbers) to `port` on 127.0.0.1, 20 ms apart. */
export async function sendRtp(
  socket: dgram.Socket,
  port: number,
  count: number,
  firstSeq: number
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const packet = Buffer.alloc(12 + 160, 0xff);
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt16BE((firstSeq + i) & 0xffff, 2);
    packet.writeUInt32BE(((firstSeq + i) * 160) >>> 0, 4);
    packet.writeUInt32BE(0x5eed1234, 8);
    socket.send(packet, port, '127.0.0.1');
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
