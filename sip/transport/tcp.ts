/**
 * SIP over TCP (RFC 3261 §18): a listening server plus outbound connections, all kept in
 * one table by remote address so that responses go back over the connection the request
 * came on (§18.2.2) and requests reuse an open connection (§18.1.1). Messages are framed by
 * Content-Length; a broken frame or a peer that vanishes mid-message only drops that
 * connection. Connection counts, idle time and slow senders are bounded by a ConnectionGuard,
 * and its pacer hands each connection's messages to the stack a few per turn, at a bounded rate.
 */
import * as net from 'node:net';
import { SipError } from '../errors.js';
import { DEFAULT_MESSAGE_LIMITS, type SipMessageLimits } from '../message/limits.js';
import { ConnectionGuard, type GuardedConnection } from './connection-guard.js';
import { StreamFramer, StreamFramingError } from './stream-framer.js';
import type { SendTarget, SipTransport, TransportAddress, TransportHandler } from './transport.js';
import { unmappedAddress } from './peer-address.js';

export interface StreamTransportOptions {
  /** Message size limits applied while framing. */
  limits?: SipMessageLimits;
  /** Connection limits; a guard of its own with the defaults when absent. */
  guard?: ConnectionGuard;
}

const CRLF_PONG = Buffer.from('\r\n');
const CRLF_PING = Buffer.from('\r\n\r\n');
/** CRLFs between messages waiting their turn in the pacer: nothing to deliver, only the rates to pay. */
const GAP = Symbol('gap');

/** An accepted connection wrapped for its TLS handshake, and the event that says the handshake is done. */
export interface ServerHandshake {
  socket: net.Socket;
  readyEvent: string;
}

function keyOf(host: string, port: number): string {
  return `${unmappedAddress(host)}:${port}`;
}

/** A connected socket's peer: its address (IPv4 bare, not v4-mapped), port and table key. */
function peerOf(socket: net.Socket): { host: string; port: number; key: string } {
  const host = unmappedAddress(socket.remoteAddress ?? '');
  const port = socket.remotePort ?? 0;
  return { host, port, key: keyOf(host, port) };
}

export class TcpTransport implements SipTransport {
  readonly protocol: 'tcp' | 'tls' = 'tcp';
  readonly reliable = true;
  private server?: net.Server;
  private readonly connections = new Map<string, net.Socket>();
  private readonly sockets = new Set<net.Socket>();
  private readonly guarded = new Map<net.Socket, GuardedConnection>();
  private readonly connecting = new Map<string, Promise<net.Socket>>();
  /** Outbound sockets not ready yet (TLS: handshake under way). */
  private readonly dialing = new Set<net.Socket>();
  private closed = false;
  /** Every accepted connection from its first byte, TLS handshakes still running included. */
  private readonly accepted = new Set<net.Socket>();
  readonly guard: ConnectionGuard;
  private readonly limits: SipMessageLimits;

  constructor(
    private readonly bind: TransportAddress,
    protected readonly handler: TransportHandler,
    options: StreamTransportOptions = {}
  ) {
    this.limits = options.limits ?? DEFAULT_MESSAGE_LIMITS;
    this.guard =
      options.guard ??
      new ConnectionGuard({}, (reason, details) => this.handler.warning?.(`tcp ${reason}`, details));
  }

  /**
   * TLS: an admitted connection wrapped for its server handshake. Plain TCP has none. Wrapped only
   * once admitted: a refused connection costs no TLS state.
   */
  protected serverHandshake(_raw: net.Socket): ServerHandshake | undefined {
    return undefined;
  }

  /** An outbound connection and the event that says it is ready; TLS overrides both. */
  protected dial(destination: TransportAddress): { socket: net.Socket; readyEvent: string } {
    return { socket: net.connect({ host: destination.host, port: destination.port }), readyEvent: 'connect' };
  }

  listen(): Promise<void> {
    const server = net.createServer();
    this.server = server;
    server.on('connection', (raw: net.Socket) => this.accept(raw));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.bind.port, this.bind.host, () => {
        server.off('error', reject);
        server.on('error', (err) =>
          this.handler.warning?.(`${this.protocol} server error`, { err: err.message })
        );
        resolve();
      });
    });
  }

  address(): TransportAddress {
    const a = this.server?.address();
    if (!a || typeof a === 'string')
      throw new SipError('ERR_INVALID_STATE', `${this.protocol.toUpperCase()} transport not listening`);
    return { host: a.address, port: a.port };
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Every accepted TCP connection is admitted or refused here, before any TLS handshake: a flood
   * of handshakes is held to the same limits as connections, and a handshake is a message under
   * way, bounded by the message deadline.
   */
  private accept(raw: net.Socket): void {
    if (this.closed) {
      raw.destroy();
      return;
    }
    const { host, key } = peerOf(raw);
    // What the guard closes: the TLS socket once its handshake is done, the raw one until then.
    const closes = { socket: raw };
    const guarded = this.guard.admit(host, key, () => closes.socket.destroy(), this.protocol);
    if (!guarded) {
      raw.destroy();
      return;
    }
    this.accepted.add(raw);
    raw.once('close', () => {
      this.accepted.delete(raw);
      guarded.release();
    });
    const handshake = this.serverHandshake(raw);
    if (handshake === undefined) {
      this.adopt(raw, guarded);
      return;
    }
    guarded.activity(1);
    // The guard's message deadline bounds the handshake: until it is done, it closes the raw socket.
    handshake.socket.once(handshake.readyEvent, () => {
      if (this.closed) {
        handshake.socket.destroy();
        return;
      }
      closes.socket = handshake.socket;
      guarded.activity(0);
      this.adopt(handshake.socket, guarded);
    });
  }

  private adopt(socket: net.Socket, guarded: GuardedConnection): void {
    const { host, port, key } = peerOf(socket);
    this.connections.set(key, socket);
    this.sockets.add(socket);
    const framer = new StreamFramer(this.limits);
    const source = { protocol: this.protocol, host, port };
    const pacer = guarded.pace<Buffer | typeof GAP>(
      (frame) => {
        if (frame !== GAP) this.handler.message(frame, source);
      },
      () => socket.pause(),
      () => socket.resume()
    );
    let refused = false;
    socket.on('data', (chunk) => {
      if (refused) return;
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        refused = true;
        // The refused message never completes: its deadline bounds how long we wait for the peer to close.
        guarded.activity(Math.max(1, framer.buffered));
        this.refuseFrame(socket, err as Error, source, key);
        return;
      }
      guarded.activity(framer.buffered, frames.length);
      // RFC 5626 §4.4.1: a double CRLF between messages is answered with a single CRLF.
      if (guarded.keepAlivePings(framer.takeKeepAlivePings())) socket.write(CRLF_PONG);
      // CRLFs cost the rates as messages do, one a ping's length (first: they came before the
      // messages or between them). Unpaid, a peer sending nothing else was read as fast as it
      // could write: one connection took 77 % of the media's core.
      const gaps = Math.ceil(framer.takeGapBytes() / CRLF_PING.length);
      for (let i = 0; i < gaps; i++) pacer.push(GAP);
      pacer.push(...frames);
    });
    socket.on('error', (err) =>
      this.guard.logThrottled(`${this.protocol} connection error`, { remote: key, err: err.message })
    );
    socket.on('close', () => {
      guarded.release();
      this.guarded.delete(socket);
      this.sockets.delete(socket);
      if (this.connections.get(key) === socket) this.connections.delete(key);
      if (framer.buffered > 0)
        this.guard.logThrottled(`${this.protocol} peer closed mid-message`, {
          remote: key,
          bytes: framer.buffered
        });
    });
    guarded.sendKeepAlive = () => socket.write(CRLF_PING);
    this.guarded.set(socket, guarded);
  }

  /** Keeps the connection from `source` open while a call runs over it (GuardedConnection.hold). */
  holdConnection(source: TransportAddress): (() => void) | undefined {
    const socket = this.connections.get(keyOf(source.host, source.port));
    return socket && this.guarded.get(socket)?.hold();
  }

  /**
   * A frame the framer refused: the stream cannot be resynchronized. When a size limit or
   * conflicting Content-Lengths (not garbage) stopped it, the head goes up so the sender hears
   * 413/513/400 (§21.4.11, §21.5.7),
   * and our side of the connection is ended after that answer. What the peer still sends is
   * read and discarded (closing with unread bytes would reset the connection and could lose
   * the answer) until it closes too or the message deadline ends it.
   */
  private refuseFrame(
    socket: net.Socket,
    err: Error,
    source: { protocol: 'tcp' | 'tls'; host: string; port: number },
    key: string
  ): void {
    this.guard.logThrottled(`${this.protocol} framing error, closing connection`, {
      remote: key,
      err: err.message
    });
    if (err instanceof StreamFramingError && err.cutShort) {
      this.handler.message(err.cutShort.head, source, err.cutShort.error);
      socket.end();
      return;
    }
    socket.destroy();
  }

  /**
   * An outbound connection, ready (TLS: handshake done) within the message deadline or given up:
   * a peer that accepts and then never answers cannot hold a send, or a socket, for good.
   */
  private connect(destination: TransportAddress): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const { socket, readyEvent } = this.dial(destination);
      const dialled = dialKey(destination);
      const limitMs = this.guard.limits.messageDeadlineMs;
      this.dialing.add(socket);
      const timer = setTimeout(
        () =>
          socket.destroy(
            new SipError(
              'ERR_SIP_TRANSPORT',
              `${this.protocol} connection to ${dialled} not ready within ${limitMs} ms`
            )
          ),
        limitMs
      );
      const settle = (): void => {
        clearTimeout(timer);
        this.dialing.delete(socket);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const onError = (err: Error): void => {
        settle();
        socket.destroy();
        reject(err);
      };
      // Destroyed without an error: the transport is closing.
      const onClose = (): void => {
        settle();
        reject(this.closedError());
      };
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once(readyEvent, () => {
        settle();
        if (this.closed) {
          socket.destroy();
          reject(this.closedError());
          return;
        }
        const peer = peerOf(socket);
        this.adopt(
          socket,
          this.guard.adoptOutbound(peer.host, peer.key, () => socket.destroy(), this.protocol)
        );
        // Index it under the address we dialled too (the peer's listening port), until it closes.
        this.connections.set(dialled, socket);
        socket.once('close', () => {
          if (this.connections.get(dialled) === socket) this.connections.delete(dialled);
        });
        resolve(socket);
      });
    });
  }

  async send(data: Buffer, destination: SendTarget): Promise<void> {
    if (this.closed) throw this.closedError();
    let address: TransportAddress = destination;
    let key = dialKey(address);
    let socket = this.connections.get(key);
    if ((!socket || socket.destroyed) && destination.reconnectTo) {
      // §18.2.2: the request's connection is gone; the peer listens at its sent-by port.
      address = destination.reconnectTo;
      key = dialKey(address);
      socket = this.connections.get(key);
    }
    if (!socket || socket.destroyed) {
      // One connection per peer even when several messages are sent at once.
      let pending = this.connecting.get(key);
      if (!pending) {
        pending = this.connect(address).finally(() => this.connecting.delete(key));
        this.connecting.set(key, pending);
      }
      socket = await pending;
    }
    const target = socket;
    const guarded = this.guarded.get(target);
    if (guarded?.writeQueueFull(target.writableLength + data.length))
      throw new SipError(
        'ERR_SIP_TRANSPORT',
        `${this.protocol} connection to ${key} closed: its peer does not read`
      );
    // Bytes we send keep the connection from counting as idle too.
    guarded?.activity();
    await new Promise<void>((resolve, reject) =>
      target.write(data, (err) => (err ? reject(err) : resolve()))
    );
  }

  private closedError(): SipError {
    return new SipError('ERR_CLOSED', `${this.protocol.toUpperCase()} transport closed`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const guarded of this.guarded.values()) guarded.release();
    this.guarded.clear();
    for (const socket of this.sockets) socket.destroy();
    for (const socket of this.dialing) socket.destroy();
    this.dialing.clear();
    // A server closes only when its last connection has: a TLS handshake in progress too.
    for (const raw of this.accepted) raw.destroy();
    this.accepted.clear();
    this.sockets.clear();
    this.connections.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The connection table's key for a connection we open: a TLS connection verified for one name
 * is not reused for another name at the same address (its certificate was checked for the first).
 */
function dialKey(address: TransportAddress): string {
  const key = keyOf(address.host, address.port);
  return address.serverName === undefined ? key : `${key} ${address.serverName}`;
}
