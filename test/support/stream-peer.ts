/**
 * A raw TCP or TLS client for tests of the stream transports: it connects, records everything the
 * server sends as text, and says whether (and when) the server closed the connection.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface StreamPeer {
  socket: net.Socket;
  /** Everything the server sent, as text. */
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** The socket is destroyed by a function pushed on `cleanups` as soon as it exists. */
export async function connectStreamPeer(
  cleanups: Array<() => unknown>,
  options: { port: number; tls?: boolean; /** TCP only. */ localAddress?: string }
): Promise<StreamPeer> {
  const { port, localAddress } = options;
  const socket = options.tls
    ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
    : net.connect({ host: '127.0.0.1', port, localAddress });
  let text = '';
  let isClosed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    })
  );
  cleanups.push(() => void socket.destroy());
  await new Promise((resolve, reject) => {
    socket.once(options.tls ? 'secureConnect' : 'connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => text, closed, isClosed: () => isClosed };
}
