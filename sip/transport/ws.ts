/**
 * SIP over WebSocket (RFC 7118): an HTTP(S) server whose upgrades carrying the `sip`
 * subprotocol become SIP connections, one SIP message per WebSocket message (§5.2). Browsers
 * only ever connect to us, and their Via and Contact hosts are unresolvable `*.invalid`
 * names (§5.2, §7), so requests to them go over the connection they opened: a dialog's over the
 * connection it was set up on (its flow), others by the host names the user agent saw arrive
 * on a connection (`learnRoute`).
 * Plain HTTP requests on the same port go to an optional handler (the join page). Requests and
 * upgrades addressed to a host name this server does not answer for get 421 (http-host.ts).
 *
 * Every TCP connection to the port, HTTP or WebSocket, is under the stream transports'
 * ConnectionGuard from the moment it is accepted: over the total or per-source limit it is
 * closed at once, before any TLS handshake or HTTP parsing; it must finish its HTTP request or
 * upgrade within the message deadline; an upgraded one is closed when idle, when a message
 * (frames) takes longer than the deadline, or when it does not answer our pings.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex } from 'node:stream';
import type * as net from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { SipError } from '../errors.js';
import { DEFAULT_MESSAGE_LIMITS } from '../message/limits.js';
import { ConnectionGuard, type ConnectionLimits, type GuardedConnection } from './connection-guard.js';
import type { StreamTransportOptions } from './tcp.js';
import { MIN_VERSION, SECURE_OPTIONS } from './tls.js';
import type {
  MessageSource,
  SendTarget,
  SipTransport,
  TransportAddress,
  TransportHandler
} from './transport.js';
import { WsHeartbeat } from './ws-heartbeat.js';
import { WsPongAnswer } from './ws-pong.js';
import { WsFrameTracker } from './ws-frame-tracker.js';
import { unmappedAddress } from './peer-address.js';
import { hasOneHostAtMost, hostAllowed } from './http-host.js';
import { PipelinedRequestLimit } from './http-pipelining.js';

/** A ping or pong from the peer, waiting in its connection's pacer. */
interface WsControlFrame {
  opcode: 'ping' | 'pong';
  data: Buffer;
}

/** A message of CRLFs only (a keep-alive ping when `ping`), waiting in the pacer as a SIP message would. */
interface WsKeepAlive {
  opcode: 'crlf';
  ping: boolean;
}

export interface WsTransportOptions {
  /** Only upgrades on this path are accepted (default: any path). */
  path?: string;
  /** PEM certificate and key: the server speaks HTTPS/WSS and Via says WSS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * Largest WebSocket message accepted; a larger one closes its connection with 1009.
   * Default: the SIP `maxMessageBytes` limit.
   */
  maxMessageBytes?: number;
  /**
   * Answers plain HTTP requests on the same port; without it they get 404. A request with a body
   * never reaches it (413, connection closed).
   */
  httpHandler?: (request: http.IncomingMessage, response: http.ServerResponse) => void;
  /**
   * Web origins (`https://app.example.com`) whose pages may open the SIP WebSocket, besides
   * this server's own (an Origin whose host is the request's Host). A handshake without Origin
   * (a phone, not a browser) is not a page's and is taken.
   */
  allowedOrigins?: readonly string[];
  /**
   * Host names (`pbx.example.com`, `*.example.com`; no port) that HTTP requests and upgrades may
   * be addressed to, besides IP literals and `localhost`; any other Host gets 421 (DNS rebinding).
   */
  allowedHosts?: readonly string[];
}

/**
 * Whether a browser page from `origin` may open the socket (RFC 6455 §10.2): without this any
 * site a user visits could call into the engine from the user's machine, which source lists
 * let in, and listen to rooms.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | undefined
): boolean {
  if (origin === undefined) return true;
  if (allowed?.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

const CRLF_PONG = '\r\n';
const MISDIRECTED = 'misdirected request: Host must be an IP address, localhost or an allowed host name\n';
/** Names one WebSocket connection is reachable by (a browser uses one or two). */
export const MAX_ALIASES_PER_CONNECTION = 8;

function keyOf(host: string, port: number): string {
  return `${unmappedAddress(host)}:${port}`;
}

/** RFC 6455 §4.2.2: refuse an upgrade with an HTTP status before any WebSocket exists. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  // Node hands an upgrade's socket over with no 'error' listener of its own: a peer that resets
  // it now must not become an uncaught error. Once the answer is out, the connection goes; a
  // peer that keeps it open would otherwise hold it (and a transport's close) until it left.
  socket.on('error', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
    socket.destroy()
  );
}

/** The tokens of a Sec-WebSocket-Protocol header (RFC 6455 §11.3.4). */
function offeredProtocols(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
}

/**
 * A WebSocket message of CRs and LFs only: not SIP. With a double CRLF in it, it is a keep-alive
 * ping as sip.js sends one (its `keepAliveInterval`), which waits for a CRLF back (RFC 5626
 * §4.4.1 applied to WebSocket as Kamailio does; RFC 7118 itself defines none).
 */
function crlfOnly(message: Buffer): { ping: boolean } | undefined {
  let ping = false;
  for (let i = 0; i < message.length; i++) {
    const byte = message[i];
    if (byte !== 0x0d && byte !== 0x0a) return undefined;
    if (
      i >= 3 &&
      byte === 0x0a &&
      message[i - 1] === 0x0d &&
      message[i - 2] === 0x0a &&
      message[i - 3] === 0x0d
    )
      ping = true;
  }
  return { ping };
}

interface Connection {
  socket: WebSocket;
  key: string;
  /** The peer's end, as the source of the messages it sends. */
  source: MessageSource;
  aliases: Set<string>;
}

/** A TCP connection to the port, from accept to close, and the guard's handle on it. */
interface Accepted {
  raw: net.Socket;
  guarded: GuardedConnection;
  socket?: WebSocket;
  heartbeat?: WsHeartbeat;
}

/**
 * HTTP requests one connection may have waiting for their answers; past it, it is closed.
 * Browsers never pipeline. Node's parser reads a whole chunk of pipelined requests before it
 * pauses, and each queued answer holds some 3 KB: 64 connections that each sent 64 KB of
 * `GET /join-page.js` and read nothing held 270 MB of heap until the idle timeout.
 */
const MAX_PENDING_REQUESTS = 4;

export class WsTransport implements SipTransport {
  readonly protocol = 'ws' as const;
  readonly reliable = true;
  readonly viaTransport: 'WS' | 'WSS';
  private server?: http.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  /** Host names (Via sent-by, Contact) seen on a connection → that connection's key. */
  private readonly aliases = new Map<string, string>();
  /** Every TCP connection to the port (HTTP and WebSocket) by remote host:port. */
  private readonly accepted = new Map<string, Accepted>();
  private closed = false;
  private readonly pipelining = new PipelinedRequestLimit(MAX_PENDING_REQUESTS);
  readonly guard: ConnectionGuard;

  constructor(
    private readonly bind: TransportAddress,
    private readonly handler: TransportHandler,
    private readonly options: WsTransportOptions = {},
    stream: StreamTransportOptions = {}
  ) {
    this.viaTransport = options.tls ? 'WSS' : 'WS';
    this.guard =
      stream.guard ??
      new ConnectionGuard({}, (reason, details) => this.handler.warning?.(`websocket ${reason}`, details));
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes ?? (stream.limits ?? DEFAULT_MESSAGE_LIMITS).maxMessageBytes,
      autoPong: false,
      // §4.1: the handshake names `sip`; we answer with it.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false)
    });
  }

  listen(): Promise<void> {
    const onRequest = (request: http.IncomingMessage, response: http.ServerResponse): void => {
      if (!this.pipelining.admit(request, response)) {
        this.guard.logThrottled('http connection closed: too many pipelined requests', {
          remote: `${request.socket.remoteAddress}:${request.socket.remotePort}`,
          limit: MAX_PENDING_REQUESTS
        });
        request.socket.destroy();
        return;
      }
      const { remoteAddress = '', remotePort } = request.socket;
      if (!this.guard.admitHttpRequest(unmappedAddress(remoteAddress), `${remoteAddress}:${remotePort}`)) {
        response
          .writeHead(429, {
            'Content-Type': 'text/plain; charset=utf-8',
            'Retry-After': '1',
            Connection: 'close'
          })
          .end('too many requests from this address\n');
        return;
      }
      if (hasBody(request)) {
        // Nothing here takes an upload. Answered and left open, the body was read and thrown
        // away as fast as the peer sent it until the request deadline: 9 GB in 10 s, 81 % of the core.
        response
          .writeHead(413, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' })
          .end('request bodies are not taken here\n');
        return;
      }
      if (!hasOneHostAtMost(request.rawHeaders)) {
        response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('more than one Host\n');
        return;
      }
      if (!hostAllowed(request.headers.host, this.options.allowedHosts)) {
        response
          .writeHead(421, {
            'Content-Type': 'text/plain; charset=utf-8',
            'X-Content-Type-Options': 'nosniff'
          })
          .end(MISDIRECTED);
        return;
      }
      if (this.options.httpHandler) this.options.httpHandler(request, response);
      else response.writeHead(404).end();
    };
    const tls = this.options.tls;
    const httpOptions = httpServerOptions(this.guard.limits);
    const server = tls
      ? https.createServer(
          // As SIP over TLS (tls.ts): no version before 1.2, and no renegotiation, which a plain
          // https server allows three times in ten minutes per connection.
          {
            cert: tls.cert,
            key: tls.key,
            minVersion: MIN_VERSION,
            secureOptions: SECURE_OPTIONS,
            ...httpOptions
          },
          onRequest
        )
      : http.createServer(httpOptions, onRequest);
    this.server = server;
    server.on('connection', (raw: net.Socket) => this.accept(raw));
    // A request's head is complete: the accept deadline has been met. Later requests on a
    // kept-alive connection are bounded by the server's own timeouts (httpServerOptions).
    server.on('request', (request: http.IncomingMessage) =>
      this.acceptedOf(request.socket)?.guarded.activity(0, 1)
    );
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(request, socket, head)
    );
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.bind.port, this.bind.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.handler.warning?.('websocket server error', { err: err.message }));
        resolve();
      });
    });
  }

  address(): TransportAddress {
    const a = this.server?.address();
    if (!a || typeof a === 'string')
      throw new SipError('ERR_INVALID_STATE', 'WebSocket transport not listening');
    return { host: a.address, port: a.port };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * RFC 7118 §5: `host` (a Via sent-by or Contact host) is reached over the connection at `source`.
   * A name another live connection gave first stays with that one: a client writing someone
   * else's name (or every user of an application writing the same one) must not take their
   * requests. A connection keeps its {@link MAX_ALIASES_PER_CONNECTION} newest names: a peer
   * sending a new one with every request cannot grow the table.
   */
  learnRoute(host: string, source: TransportAddress): void {
    const key = keyOf(source.host, source.port);
    const connection = this.connections.get(key);
    if (!connection || this.aliases.has(host)) return;
    if (connection.aliases.size >= MAX_ALIASES_PER_CONNECTION) {
      const oldest = connection.aliases.values().next().value as string;
      connection.aliases.delete(oldest);
      if (this.aliases.get(oldest) === key) this.aliases.delete(oldest);
    }
    this.aliases.set(host, key);
    connection.aliases.add(host);
  }

  flowTo(destination: TransportAddress): MessageSource | undefined {
    return this.connectionTo(destination)?.source;
  }

  /** A flow's connection, else (for a target outside any flow) the one its host name is on. */
  private connectionTo(destination: SendTarget): Connection | undefined {
    return (
      this.connections.get(keyOf(destination.host, destination.port)) ??
      (destination.flow ? undefined : this.connections.get(this.aliases.get(destination.host) ?? ''))
    );
  }

  async send(data: Buffer, destination: SendTarget): Promise<void> {
    if (this.closed) throw new SipError('ERR_CLOSED', 'WebSocket transport closed');
    const key = keyOf(destination.host, destination.port);
    const connection = this.connectionTo(destination);
    if (!connection)
      throw new SipError(
        'ERR_SIP_TRANSPORT',
        destination.flow
          ? `the WebSocket connection from ${key} has closed`
          : `no WebSocket connection to ${destination.host}:${destination.port}`
      );
    const socket = connection.socket;
    const guarded = this.accepted.get(connection.key)?.guarded;
    if (guarded?.writeQueueFull(socket.bufferedAmount + data.length))
      throw new SipError(
        'ERR_SIP_TRANSPORT',
        `WebSocket connection to ${key} closed: its peer does not read`
      );
    // Bytes we send keep the connection from counting as idle too.
    guarded?.activity();
    // §5.2: SIP text goes in text frames (it is UTF-8).
    await new Promise<void>((resolve, reject) =>
      socket.send(data, { binary: false }, (err) => (err ? reject(err) : resolve()))
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.accepted.values()) {
      entry.heartbeat?.stop();
      entry.guarded.release();
      // Released, its guard no longer times it: a handshake still under way would hold the server open.
      entry.raw.destroy();
    }
    this.accepted.clear();
    for (const { socket } of this.connections.values()) socket.terminate();
    this.connections.clear();
    this.aliases.clear();
    this.wss.close();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** A TCP connection was accepted: admitted or closed at once, and its handshake timed. */
  private accept(raw: net.Socket): void {
    const host = unmappedAddress(raw.remoteAddress ?? '');
    const key = keyOf(host, raw.remotePort ?? 0);
    if (this.closed) {
      raw.destroy();
      return;
    }
    const guarded = this.guard.admit(host, key, () => this.expire(key, raw), 'ws');
    if (!guarded) {
      // A browser's WebSocket API shows no handshake status, so a 503 would tell it nothing;
      // closing now spares a flood the TLS handshake and HTTP parsing it wants us to do.
      raw.destroy();
      return;
    }
    const entry: Accepted = { raw, guarded };
    this.accepted.set(key, entry);
    // Until its request or upgrade is complete, the connection is a message under way.
    guarded.activity(1);
    raw.once('close', () => {
      entry.heartbeat?.stop();
      guarded.release();
      if (this.accepted.get(key) === entry) this.accepted.delete(key);
    });
  }

  private acceptedOf(socket: net.Socket | Duplex): Accepted | undefined {
    const s = socket as net.Socket;
    return this.accepted.get(keyOf(s.remoteAddress ?? '', s.remotePort ?? 0));
  }

  /**
   * What Node does without this listener, except that its request timeout (httpServerOptions) is
   * the guard's message deadline: it can see a first request run out a moment before the guard's
   * own timer does (it reads the clock afresh, timers read the loop's), and the closure is then
   * the guard's, counted and logged as such.
   */
  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.acceptedOf(socket)?.guarded.fire('message-deadline');
    if (socket.writable && err.code !== 'ECONNRESET') socket.write(httpErrorResponse(err.code));
    socket.destroy();
  }

  /** The guard's verdict (idle, deadline, no pong): the connection goes, whatever it was. */
  private expire(key: string, raw: net.Socket): void {
    const entry = this.accepted.get(key);
    entry?.heartbeat?.stop();
    entry?.socket?.terminate();
    raw.destroy();
  }

  private upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const entry = this.acceptedOf(request.socket);
    if (this.closed || !entry) {
      socket.destroy();
      return;
    }
    if (!hasOneHostAtMost(request.rawHeaders)) {
      refuseUpgrade(socket, 400, 'Bad Request');
      return;
    }
    if (!hostAllowed(request.headers.host, this.options.allowedHosts)) {
      this.guard.logThrottled('websocket handshake for a host name not ours refused', {
        remote: request.socket.remoteAddress,
        host: request.headers.host
      });
      refuseUpgrade(socket, 421, 'Misdirected Request');
      return;
    }
    const path = (request.url ?? '/').split('?')[0];
    if (this.options.path !== undefined && path !== this.options.path) {
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!originAllowed(request.headers.origin, request.headers.host, this.options.allowedOrigins)) {
      this.guard.logThrottled('websocket handshake from a foreign web origin refused', {
        remote: request.socket.remoteAddress,
        origin: request.headers.origin
      });
      refuseUpgrade(socket, 403, 'Forbidden (origin)');
      return;
    }
    // RFC 7118 §4.1: a client that does not offer `sip` is not a SIP client.
    if (!offeredProtocols(request.headers['sec-websocket-protocol']).includes('sip')) {
      this.guard.logThrottled('websocket handshake without the sip subprotocol refused', {
        remote: request.socket.remoteAddress
      });
      refuseUpgrade(socket, 400, 'Bad Request (subprotocol sip required)');
      return;
    }
    // The deadline runs from a data message's first byte until it is whole (control frames
    // between its fragments do not count). Listening before ws does, this sees each chunk first.
    const frames = new WsFrameTracker();
    socket.on('data', (chunk: Buffer) => {
      const completed = frames.feed(chunk);
      entry.guarded.activity(frames.incomplete ? 1 : 0, completed);
    });
    this.wss.handleUpgrade(request, socket, head, (ws) => this.adopt(ws, request, entry));
  }

  private adopt(socket: WebSocket, request: http.IncomingMessage, entry: Accepted): void {
    const host = unmappedAddress(request.socket.remoteAddress ?? '');
    const port = request.socket.remotePort ?? 0;
    const key = keyOf(host, port);
    const source: MessageSource = Object.freeze({ protocol: 'ws', host, port });
    const connection: Connection = { socket, key, source, aliases: new Set() };
    this.connections.set(key, connection);
    const { guarded } = entry;
    entry.socket = socket;
    // The upgrade was the connection's first message.
    guarded.activity(0, 1);
    const limits = this.guard.limits;
    entry.heartbeat = new WsHeartbeat(socket, limits.wsPingIntervalMs, limits.wsPongTimeoutMs, () =>
      guarded.fire('ping-timeout')
    );
    // What we write unasked for (pongs, CRLFs) is held to the write queue's limit as answers are.
    const mayWrite = (bytes: number): boolean => !guarded.writeQueueFull(socket.bufferedAmount + bytes);
    const pongs = new WsPongAnswer(socket, mayWrite);
    // Pings, pongs and keep-alives wait their turn with the SIP messages and cost as much of the
    // rates: 32 connections of one source pinging as fast as they could took 85 % of the media's core.
    const pacer = guarded.pace<Buffer | WsControlFrame | WsKeepAlive>(
      (message) => {
        if (Buffer.isBuffer(message)) this.handler.message(message, source);
        else if (message.opcode === 'ping') pongs.ping(message.data);
        else if (message.opcode === 'pong') entry.heartbeat?.pong();
        else if (
          message.opcode === 'crlf' &&
          message.ping &&
          guarded.keepAlivePings(1) &&
          mayWrite(CRLF_PONG.length)
        )
          socket.send(CRLF_PONG, { binary: false });
      },
      () => socket.pause(),
      () => socket.resume()
    );
    socket.on('pong', (data: Buffer) => pacer.push({ opcode: 'pong', data }));
    socket.on('ping', (data: Buffer) => pacer.push({ opcode: 'ping', data }));
    socket.on('message', (data: RawData) => {
      const message = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      const keepAlive = crlfOnly(message);
      pacer.push(keepAlive ? { opcode: 'crlf', ping: keepAlive.ping } : message);
    });
    socket.on('error', (err) =>
      this.guard.logThrottled('websocket connection error', { remote: key, err: err.message })
    );
    socket.on('close', (code) => {
      entry.heartbeat?.stop();
      if (this.connections.get(key) !== connection) return;
      this.connections.delete(key);
      for (const alias of connection.aliases) if (this.aliases.get(alias) === key) this.aliases.delete(alias);
      if (code === 1009)
        this.guard.logThrottled('websocket message too large, connection closed', { remote: key });
      this.handler.connectionClosed?.(source);
    });
  }
}

/** RFC 9112 §6.3: a request has a body when it has Transfer-Encoding or a non-zero Content-Length. */
function hasBody(request: http.IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0);
}

/** The answer Node's HTTP server gives a client error it is left to handle itself. */
function httpErrorResponse(code: string | undefined): string {
  const status =
    code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? '408 Request Timeout'
      : code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : '400 Bad Request';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`;
}

/**
 * Node's own bounds for HTTP on the port, for what the guard does not time: a kept-alive
 * connection's later requests (their head and body within the message deadline) and the idle
 * time between them (Node's default 5 s, or the idle timeout if shorter). Its check runs every
 * `connectionsCheckingInterval`, so that must be well under the deadline.
 */
function httpServerOptions(limits: ConnectionLimits): http.ServerOptions {
  return {
    headersTimeout: limits.messageDeadlineMs,
    requestTimeout: limits.messageDeadlineMs,
    keepAliveTimeout: Math.min(5000, limits.idleTimeoutMs),
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.messageDeadlineMs / 4)))
  };
}
