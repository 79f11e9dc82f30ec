/**
 * A raw SIP peer on a real UDP (or TCP) socket for tests: sends text or bytes and waits for
 * parsed messages matching a predicate, with a bounded wait.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { parseMessage } from '../../sip/message/parser.js';
import { SipRequest, SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import { StreamFramer } from '../../sip/transport/stream-framer.js';

export class SipTestPeer {
  readonly received: AnySipMessage[] = [];
  private waiters: Array<{ match: (m: AnySipMessage) => boolean; resolve: (m: AnySipMessage) => void }> = [];
  private consumed = new Set<AnySipMessage>();

  protected deliver(data: Buffer): void {
    const parsed = parseMessage(data, { datagram: true });
    const message = parsed.kind === 'invalid' ? lenientResponse(data) : parsed.message;
    if (!message) return;
    this.received.push(message);
    for (const w of [...this.waiters]) {
      if (!this.consumed.has(message) && w.match(message)) {
        this.consumed.add(message);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(message);
      }
    }
  }

  /** Resolves with the first not-yet-consumed message matching `match`. */
  next(match: (m: AnySipMessage) => boolean, timeoutMs = 3000): Promise<AnySipMessage> {
    const already = this.received.find((m) => !this.consumed.has(m) && match(m));
    if (already) {
      this.consumed.add(already);
      return Promise.resolve(already);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: AnySipMessage) => {
          clearTimeout(timer);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('timed out waiting for a SIP message'));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

export class UdpTestPeer extends SipTestPeer {
  private socket = dgram.createSocket('udp4');
  port = 0;
  /** The address it is bound to. */
  host = '127.0.0.1';

  /**
   * Binds an ephemeral port on `host`: another loopback address (127.0.0.2 ...) to be a different
   * source, or ::1 to speak IPv6.
   */
  async open(host = '127.0.0.1'): Promise<this> {
    this.host = host;
    if (net.isIPv6(host)) this.socket = dgram.createSocket('udp6');
    this.socket.on('message', (data) => this.deliver(data));
    await new Promise<void>((resolve) => this.socket.bind(0, host, () => resolve()));
    this.port = this.socket.address().port;
    return this;
  }

  send(
    data: string | Buffer,
    port: number,
    address = net.isIPv6(this.host) ? '::1' : '127.0.0.1'
  ): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(typeof data === 'string' ? Buffer.from(data) : data, port, address, (e) =>
        e ? reject(e) : resolve()
      )
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

export class TcpTestPeer extends SipTestPeer {
  private socket?: net.Socket;
  private readonly framer = new StreamFramer();
  /** Resolves when the connection closes, from either side. */
  closed: Promise<void> = new Promise(() => {});

  /** Connects to 127.0.0.1:`port`, from `localAddress` (another loopback address) if given. */
  async connect(port: number, localAddress?: string): Promise<this> {
    const socket = net.connect({ host: '127.0.0.1', port, localAddress });
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk) => {
      for (const frame of this.framer.push(chunk)) this.deliver(frame);
    });
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return this;
  }

  get localPort(): number {
    return this.socket?.localPort ?? 0;
  }

  send(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket?.write(data, (e) => (e ? reject(e) : resolve())));
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** A peer that listens for TCP connections (its sent-by port) and reads what comes over any of them. */
export class TcpListeningTestPeer extends SipTestPeer {
  private readonly server = net.createServer((socket) => this.adopt(socket));
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  /** Listens on an ephemeral port of `host` (another loopback address to be a different host). */
  async listen(host = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, host, () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Connections accepted so far and still open. */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Sends over the connection accepted last. */
  send(data: string | Buffer): Promise<void> {
    const socket = [...this.sockets].at(-1);
    if (!socket) return Promise.reject(new Error('no connection accepted'));
    return new Promise((resolve, reject) => socket.write(data, (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private adopt(socket: net.Socket): void {
    const framer = new StreamFramer();
    this.sockets.add(socket);
    socket.on('data', (chunk) => {
      for (const frame of framer.push(chunk)) this.deliver(frame);
    });
    socket.on('error', () => {});
    socket.once('close', () => this.sockets.delete(socket));
  }
}

/** A request text with CRLF line ends and a correct Content-Length. */
export function sipText(lines: string[], body = ''): string {
  return [...lines, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}

/** The headers of a test OPTIONS sent from 127.0.0.1:`peerPort` (Via to CSeq, no Content-Length). */
export function optionsHeaders(callId: string, transport: 'UDP' | 'TCP', peerPort: number): string[] {
  return [
    `Via: SIP/2.0/${transport} 127.0.0.1:${peerPort};branch=z9hG4bK-${callId};rport`,
    'Max-Forwards: 70',
    'From: <sip:t@127.0.0.1>;tag=a',
    'To: <sip:ping@127.0.0.1>',
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS'
  ];
}

/** An OPTIONS to the user agent on 127.0.0.1:`uaPort`, with `extra` header lines and `body`. */
export function optionsText(
  callId: string,
  transport: 'UDP' | 'TCP',
  peerPort: number,
  uaPort: number,
  extra: string[] = [],
  body = ''
): string {
  return sipText(
    [
      `OPTIONS sip:ping@127.0.0.1:${uaPort} SIP/2.0`,
      ...optionsHeaders(callId, transport, peerPort),
      ...extra
    ],
    body
  );
}

/** Sends one OPTIONS from a fresh socket on `host` to the user agent on `uaHost`:`uaPort`; its answer. */
export async function optionsAnswer(
  uaPort: number,
  host = '127.0.0.1',
  uaHost = '127.0.0.1'
): Promise<SipResponse> {
  const peer = await new UdpTestPeer().open(host);
  try {
    const callId = `options-${process.pid}-${++optionsSent}`;
    await peer.send(optionsText(callId, 'UDP', peer.port, uaPort), uaPort, uaHost);
    return (await peer.next((m) => m instanceof SipResponse && m.callId === callId, 5000)) as SipResponse;
  } finally {
    await peer.close();
  }
}
let optionsSent = 0;

/**
 * A response our strict parser refuses, read leniently: a 400 to a malformed request copies
 * the request's malformed headers (§8.2.6.2), and the test still needs to see it.
 */
function lenientResponse(data: Buffer): SipResponse | undefined {
  const lines = data.toString('utf8').split('\r\n');
  const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const response = new SipResponse(Number(m[1]), m[2]);
  for (const line of lines.slice(1)) {
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon > 0) response.add(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return response;
}

/** A `next()` match: a request of `method`, of call `callId` when given. */
export const isRequest =
  (method: string, callId?: string) =>
  (m: AnySipMessage): boolean =>
    m instanceof SipRequest && m.method === method && (callId === undefined || m.callId === callId);
