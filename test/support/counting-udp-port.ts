/**
 * A UDP socket of the test's, counting the datagrams that reach it: where the engine's RTP should
 * (or should not) go.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';

export interface CountingUdpPort {
  socket: dgram.Socket;
  port: number;
  count(): number;
  close(): void;
}

/** Bound to an ephemeral port on `host` (IPv4 or IPv6). */
export async function countingUdpPort(host = '127.0.0.1'): Promise<CountingUdpPort> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let packets = 0;
  socket.on('message', () => packets++);
  socket.bind(0, host);
  await once(socket, 'listening');
  return { socket, port: socket.address().port, count: () => packets, close: () => socket.close() };
}
