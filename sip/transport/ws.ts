/**
 * SIP over WebSocket (RFC 7118): an HTTP(S) server whose upgrades carrying the `sip`
 * subprotocol become SIP connections, one SIP message per WebSocket message (§5.2). Browsers
 * only ever connect to us, and their Via and Contact hosts are unresolvable `*.invalid`
 * names (§5.2, §7), so requests to them go over the connection they opened: the user agent
 * tells the transport which host names arrived on which connection (`learnRoute`).
 * Plain HTTP requests on the same port go to an optional handler (the join page).
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { SipError } from '../errors.js';
import type { SipTransport, TransportAddress, TransportHandler } from './transport.js';

export interface WsTransportOptions {
  /** Only upgrades on this path are accepted (default: any path). */
  path?: string;
  /** PEM certificate and key: the server speaks HTTPS/WSS and Via says WSS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest WebSocket message accepted; a larger one closes its connection with 1009. */
  maxMessageBytes?: number;
  /** Answers plain HTTP requests on the same port; without it they get 404. */
  httpHandler?: (request: http.IncomingMessage, response: http.ServerResponse) => void;
}

const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

function keyOf(host: string, port: number): string {
  return `${host.replace(/^::ffff:/, '')}:${port}`;
}

/** RFC 6455 §4.2.2: refuse an upgrade with an HTTP status before any WebSocket exists. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The tokens of a Sec-WebSocket-Protocol header (RFC 6455 §11.3.4). */
function offeredProtocols(header: string | undefined): string[] {
  return (header ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token.length > 0);
}

interface Connection {
  socket: WebSocket;
  key: string;
  aliases: Set<string>;
}

export class WsTransport implements SipTransport {
  readonly protocol = 'ws' as const;
  readonly reliable = true;
  readonly viaTransport: 'WS' | 'WSS';
  private server?: http.Server;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, Connection>();
  /** Host names (Via sent-by, Contact) seen on a connection → that connection's key. */
  private readonly aliases = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly bind: TransportAddress,
    private readonly handler: TransportHandler,
    private readonly options: WsTransportOptions = {}
  ) {
    this.viaTransport = options.tls ? 'WSS' : 'WS';
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      // §4.1: the handshake names `sip`; we answer with it.
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false)
    });
  }

  listen(): Promise<void> {
    const onRequest = (request: http.IncomingMessage, response: http.ServerResponse): void => {
      if (this.options.httpHandler) this.options.httpHandler(request, response);
      else response.writeHead(404).end();
    };
    const tls = this.options.tls;
    const server = tls
      ? https.createServer({ cert: tls.cert, key: tls.key }, onRequest)
      : http.createServer(onRequest);
    this.server = server;
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

  /** RFC 7118 §5: `host` (a Via sent-by or Contact host) is reached over the connection at `source`. */
  learnRoute(host: string, source: TransportAddress): void {
    const key = keyOf(source.host, source.port);
    const connection = this.connections.get(key);
    if (!connection || this.aliases.get(host) === key) return;
    const previous = this.aliases.get(host);
    if (previous !== undefined) this.connections.get(previous)?.aliases.delete(host);
    this.aliases.set(host, key);
    connection.aliases.add(host);
  }

  async send(data: Buffer, destination: TransportAddress): Promise<void> {
    if (this.closed) throw new SipError('ERR_CLOSED', 'WebSocket transport closed');
    const key = keyOf(destination.host, destination.port);
    const connection =
      this.connections.get(key) ?? this.connections.get(this.aliases.get(destination.host) ?? '');
    if (!connection)
      throw new SipError(
        'ERR_SIP_TRANSPORT',
        `no WebSocket connection to ${destination.host}:${destination.port}`
      );
    const socket = connection.socket;
    // §5.2: SIP text goes in text frames (it is UTF-8).
    await new Promise<void>((resolve, reject) =>
      socket.send(data, { binary: false }, (err) => (err ? reject(err) : resolve()))
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
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

  private upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    const path = (request.url ?? '/').split('?')[0];
    if (this.options.path !== undefined && path !== this.options.path) {
      refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    // RFC 7118 §4.1: a client that does not offer `sip` is not a SIP client.
    if (!offeredProtocols(request.headers['sec-websocket-protocol']).includes('sip')) {
      this.handler.warning?.('websocket handshake without the sip subprotocol refused', {
        remote: request.socket.remoteAddress
      });
      refuseUpgrade(socket, 400, 'Bad Request (subprotocol sip required)');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.adopt(ws, request));
  }

  private adopt(socket: WebSocket, request: http.IncomingMessage): void {
    const host = (request.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const port = request.socket.remotePort ?? 0;
    const key = keyOf(host, port);
    const connection: Connection = { socket, key, aliases: new Set() };
    this.connections.set(key, connection);
    socket.on('message', (data: RawData) => {
      const message = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data);
      this.handler.message(message, { protocol: 'ws', host, port });
    });
    socket.on('error', (err) =>
      this.handler.warning?.('websocket connection error', { remote: key, err: err.message })
    );
    socket.on('close', (code) => {
      if (this.connections.get(key) !== connection) return;
      this.connections.delete(key);
      for (const alias of connection.aliases) if (this.aliases.get(alias) === key) this.aliases.delete(alias);
      if (code === 1009)
        this.handler.warning?.('websocket message too large, connection closed', { remote: key });
      this.handler.connectionClosed?.({ protocol: 'ws', host, port });
    });
  }
}
