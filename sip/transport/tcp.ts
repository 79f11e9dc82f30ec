/**
 * SIP over TCP (RFC 3261 §18): a listening server plus outbound connections, all kept in
 * one table by remote address so that responses go back over the connection the request
 * came on (§18.2.2) and requests reuse an open connection (§18.1.1). Messages are framed by
 * Content-Length; a broken frame or a peer that vanishes mid-message only drops that
 * connection.
 */
import net from 'node:net';
import { StreamFramer } from './stream-framer.js';
import type { SipTransport, TransportAddress, TransportHandler } from './transport.js';

function keyOf(host: string, port: number): string {
  return `${host.replace(/^::ffff:/, '')}:${port}`;
}

export class TcpTransport implements SipTransport {
  readonly protocol: 'tcp' | 'tls' = 'tcp';
  readonly reliable = true;
  private server?: net.Server;
  private readonly connections = new Map<string, net.Socket>();
  private readonly sockets = new Set<net.Socket>();
  private readonly connecting = new Map<string, Promise<net.Socket>>();
  private closed = false;

  constructor(
    private readonly bind: TransportAddress,
    protected readonly handler: TransportHandler,
    private readonly idleTimeoutMs = 15 * 60_000
  ) {}

  /** The listening server; TLS overrides it with a TLS server. */
  protected createServer(onSocket: (socket: net.Socket) => void): net.Server {
    return net.createServer(onSocket);
  }

  /** An outbound connection and the event that says it is ready; TLS overrides both. */
  protected dial(destination: TransportAddress): { socket: net.Socket; readyEvent: string } {
    return { socket: net.connect({ host: destination.host, port: destination.port }), readyEvent: 'connect' };
  }

  listen(): Promise<void> {
    const server = this.createServer((socket) => this.adopt(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.bind.port, this.bind.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.handler.warning?.(`${this.protocol} server error`, { err: err.message }));
        resolve();
      });
    });
  }

  address(): TransportAddress {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error(`${this.protocol.toUpperCase()} transport not listening`);
    return { host: a.address, port: a.port };
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  private adopt(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const host = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = socket.remotePort ?? 0;
    const key = keyOf(host, port);
    this.connections.set(key, socket);
    this.sockets.add(socket);
    const framer = new StreamFramer();
    socket.setTimeout(this.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        this.handler.warning?.('tcp framing error, closing connection', { remote: key, err: (err as Error).message });
        socket.destroy();
        return;
      }
      for (const frame of frames) this.handler.message(frame, { protocol: this.protocol, host, port });
    });
    socket.on('error', (err) => this.handler.warning?.('tcp connection error', { remote: key, err: err.message }));
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (this.connections.get(key) === socket) this.connections.delete(key);
      if (framer.buffered > 0) this.handler.warning?.('tcp peer closed mid-message', { remote: key, bytes: framer.buffered });
    });
  }

  private connect(destination: TransportAddress): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const { socket, readyEvent } = this.dial(destination);
      socket.once('error', reject);
      socket.once(readyEvent, () => {
        socket.off('error', reject);
        if (this.closed) {
          socket.destroy();
          reject(new Error('TCP transport closed'));
          return;
        }
        this.adopt(socket);
        // Index it under the address we dialled too (the peer's listening port).
        this.connections.set(keyOf(destination.host, destination.port), socket);
        resolve(socket);
      });
    });
  }

  async send(data: Buffer, destination: TransportAddress): Promise<void> {
    if (this.closed) throw new Error('TCP transport closed');
    const key = keyOf(destination.host, destination.port);
    let socket = this.connections.get(key);
    if (!socket || socket.destroyed) {
      // One connection per peer even when several messages are sent at once.
      let pending = this.connecting.get(key);
      if (!pending) {
        pending = this.connect(destination).finally(() => this.connecting.delete(key));
        this.connecting.set(key, pending);
      }
      socket = await pending;
    }
    const target = socket;
    await new Promise<void>((resolve, reject) => target.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.connections.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
