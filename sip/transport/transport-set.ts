/**
 * The user agent's transports, one per protocol, bound together: with port 0 the first picks
 * an ephemeral port and the others take the same number, as SIP peers expect (a URI names
 * one port for every transport). A clash on that number is retried with a fresh port.
 */
import { SipError } from '../errors.js';
import { TcpTransport, type StreamTransportOptions } from './tcp.js';
import { TlsTransport, type TlsTransportOptions } from './tls.js';
import type { SipTransport, TransportAddress, TransportHandler, TransportProtocol } from './transport.js';
import { UdpTransport } from './udp.js';
import { WsTransport, type WsTransportOptions } from './ws.js';

export interface TransportSpec {
  protocol: 'udp' | 'tcp' | 'tls' | 'ws';
  host: string;
  port: number;
  /** Certificate and key; required for TLS. */
  tls?: TlsTransportOptions;
  /** WebSocket only: path, TLS, message limit and the HTTP handler beside it. */
  ws?: WsTransportOptions;
  /**
   * What the application calls this listener's port (`EngineOptions.webSocket.port`), named by
   * the error of a bind that fails; without it, the protocol is named.
   */
  portOption?: string;
}

const BIND_ATTEMPTS = 5;

export class TransportSet {
  private readonly transports = new Map<TransportProtocol, SipTransport>();
  /** Those listening now: while they bind (and after close) the others have no address. */
  private readonly listening = new Set<TransportProtocol>();

  constructor(
    private readonly specs: TransportSpec[],
    private readonly handler: TransportHandler,
    private readonly streamOptions: StreamTransportOptions = {}
  ) {
    if (specs.length === 0) throw new RangeError('at least one transport is required');
    for (const spec of specs) {
      if (this.transports.has(spec.protocol)) throw new RangeError(`transport ${spec.protocol} given twice`);
    }
    this.recreate();
  }

  has(protocol: TransportProtocol): boolean {
    return this.transports.has(protocol);
  }

  get(protocol: TransportProtocol): SipTransport | undefined {
    return this.transports.get(protocol);
  }

  /** The first configured transport (its address is the UA's default host). */
  get first(): SipTransport {
    return this.transports.get(this.specs[0].protocol)!;
  }

  get firstSpec(): TransportSpec {
    return this.specs[0];
  }

  async listen(): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      try {
        await this.bindAll();
        return;
      } catch (error) {
        lastError = error;
        await this.close();
        this.recreate();
      }
    }
    throw lastError;
  }

  /** Where the transports listen, in the order given; one still binding (or closed) is left out. */
  addresses(): Array<TransportAddress & { protocol: TransportProtocol }> {
    return this.specs
      .filter((spec) => this.listening.has(spec.protocol))
      .map((spec) => ({ protocol: spec.protocol, ...this.transports.get(spec.protocol)!.address() }));
  }

  async close(): Promise<void> {
    this.listening.clear();
    await Promise.all([...this.transports.values()].map((t) => t.close()));
  }

  private async bindAll(): Promise<void> {
    let sharedPort: number | undefined;
    for (const spec of this.specs) {
      // TLS and the WebSocket listener are TCP listeners too: they never share the TCP port
      // number (RFC 3261 §19.1.2: 5061; the WebSocket port is the HTTP server's).
      const shares = spec.port === 0 && spec.protocol !== 'tls' && spec.protocol !== 'ws';
      if (shares && sharedPort !== undefined)
        this.transports.set(spec.protocol, this.create({ ...spec, port: sharedPort }));
      const transport = this.transports.get(spec.protocol)!;
      try {
        await transport.listen();
      } catch (error) {
        // Which of the listeners failed: Node's message names only an address, and a SIP port and
        // a WebSocket port in use read alike ("listen EADDRINUSE ... 127.0.0.1:8088").
        const name = spec.portOption ?? `the ${spec.protocol} port`;
        throw new SipError(
          'ERR_SIP_TRANSPORT',
          `${name} (${spec.protocol}): ${(error as Error).message}`,
          undefined,
          undefined,
          { cause: error }
        );
      }
      this.listening.add(spec.protocol);
      if (shares) sharedPort ??= transport.address().port;
    }
  }

  private recreate(): void {
    for (const spec of this.specs) this.transports.set(spec.protocol, this.create(spec));
  }

  private create(spec: TransportSpec): SipTransport {
    const bind = { host: spec.host, port: spec.port };
    if (spec.protocol === 'udp') return new UdpTransport(bind, this.handler);
    if (spec.protocol === 'tcp') return new TcpTransport(bind, this.handler, this.streamOptions);
    if (spec.protocol === 'ws') return new WsTransport(bind, this.handler, spec.ws, this.streamOptions);
    if (!spec.tls) throw new TypeError('a TLS transport needs a certificate and key (tls: { cert, key })');
    return new TlsTransport(bind, this.handler, spec.tls, this.streamOptions);
  }
}
