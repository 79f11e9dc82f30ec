/**
 * An engine that answers every call, with a WebSocket for browsers, and the browsers that call it:
 * SIP-over-WebSocket clients, each from a loopback address of the test's choosing (a source).
 */
import { Engine, type EngineOptions } from '../../engine/index.js';
import { WsSipClient } from './ws-sip-client.js';

export class WsBrowserEngine {
  readonly #clients: WsSipClient[] = [];

  private constructor(
    readonly engine: Engine,
    readonly wsUrl: string
  ) {}

  static async start(options: Pick<EngineOptions, 'rtp' | 'webrtc'>): Promise<WsBrowserEngine> {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      logLevel: 'silent',
      webSocket: { port: 0 },
      overloadGuard: false,
      ...options
    });
    engine.on('call', (channel) => void channel.answer().catch(() => undefined));
    await engine.start();
    const port = engine.sipAddresses().find((a) => a.protocol === 'ws')!.port;
    return new WsBrowserEngine(engine, `ws://127.0.0.1:${port}/sip`);
  }

  async browserAt(localAddress: string): Promise<WsSipClient> {
    const client = await WsSipClient.connect(this.wsUrl, ['sip'], { localAddress });
    this.#clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.#clients) client.socket.terminate();
    await this.engine.stop();
  }
}
