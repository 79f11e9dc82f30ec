/**
 * The connection guard's counters in the engine's Prometheus metrics: refusals and closures
 * caused over real TCP and WebSocket-port sockets show up, by transport and reason, in a scrape
 * of the engine's registry, beside the CRLF keep-alive pongs, open connections and the
 * overload guard's state; so do the UDP datagrams the per-source rate dropped.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/engine.js';
import { waitFor, waitForAsync } from '../support/wait.js';
import { connectStreamPeer, type StreamPeer } from '../support/stream-peer.js';
import { parseExposition, type Exposition } from './exposition.js';
import { UdpTestPeer, optionsText } from '../support/sip-udp-peer.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function raw(port: number, localAddress: string): Promise<StreamPeer> {
  return connectStreamPeer(cleanups, { port, localAddress });
}

async function scrape(engine: Engine): Promise<Exposition> {
  return parseExposition(await engine.metrics.metrics());
}

const refused = (transport: string, reason: string): string =>
  `uasmedia_connections_refused_total{transport="${transport}",reason="${reason}"}`;
const closedBy = (transport: string, reason: string): string =>
  `uasmedia_connections_closed_total{transport="${transport}",reason="${reason}"}`;

describe('connection guard metrics', () => {
  it('counts refusals, closures and keep-alive pongs by transport and reason', async () => {
    const engine = new Engine({
      kernels: 'js',
      sip: {
        host: '127.0.0.1',
        port: 0,
        transports: ['tcp'],
        connections: { maxConnectionsPerSource: 1, messageDeadlineMs: 1000 }
      },
      webSocket: { port: 0 },
      overloadGuard: false
    });
    await engine.start();
    cleanups.push(() => engine.stop());
    const tcpPort = engine.sipAddresses().find((a) => a.protocol === 'tcp')!.port;
    const wsPort = engine.sipAddresses().find((a) => a.protocol === 'ws')!.port;

    const before = await scrape(engine);
    expect(before.types.get('uasmedia_connections_refused_total')).toBe('counter');
    expect(before.get(refused('tcp', 'connections_per_source'))).toBe(0);
    expect(before.get(closedBy('ws', 'message_deadline'))).toBe(0);
    expect(before.get('uasmedia_overloaded')).toBe(0);

    // TCP from 127.0.0.2: one admitted, one refused; the admitted one pings, then stalls mid-message.
    const admitted = await raw(tcpPort, '127.0.0.2');
    const second = await raw(tcpPort, '127.0.0.2');
    await second.closed;
    admitted.socket.write('\r\n\r\n');
    await waitFor(() => admitted.received() === '\r\n');
    expect((await scrape(engine)).get('uasmedia_connections_open{transport="tcp"}')).toBe(1);
    admitted.socket.write('OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.2');
    await admitted.closed;

    // The WebSocket port from 127.0.0.3: one connection that never upgrades, one refused beside it.
    const neverUpgrades = await raw(wsPort, '127.0.0.3');
    const refusedWs = await raw(wsPort, '127.0.0.3');
    await refusedWs.closed;
    await neverUpgrades.closed;

    const after = await scrape(engine);
    expect(after.get(refused('tcp', 'connections_per_source'))).toBe(1);
    expect(after.get(closedBy('tcp', 'message_deadline'))).toBe(1);
    expect(after.get(refused('ws', 'connections_per_source'))).toBe(1);
    expect(after.get(closedBy('ws', 'message_deadline'))).toBe(1);
    expect(after.get(closedBy('tcp', 'idle'))).toBe(0);
    expect(after.get(closedBy('ws', 'ping_timeout'))).toBe(0);
    expect(after.get(refused('tls', 'connections_total'))).toBe(0);
    expect(after.get('uasmedia_keepalive_pongs_total{transport="tcp"}')).toBe(1);
    // The server side may see the closes a moment after the peers did.
    const open = async (): Promise<number> => {
      const s = await scrape(engine);
      return (
        (s.get('uasmedia_connections_open{transport="tcp"}') ?? -1) +
        (s.get('uasmedia_connections_open{transport="ws"}') ?? -1)
      );
    };
    await waitForAsync(async () => (await open()) === 0, 15_000);
    expect(after.get('uasmedia_overload_engaged_total')).toBe(0);
  });

  it('counts the datagrams a flooding source had dropped, and the episode', async () => {
    const engine = new Engine({
      kernels: 'js',
      sip: {
        host: '127.0.0.1',
        port: 0,
        transports: ['udp'],
        connections: { maxMessagesPerSecondPerSource: 1, messageBurstPerSource: 10 }
      },
      overloadGuard: false,
      logLevel: 'silent'
    });
    await engine.start();
    cleanups.push(() => engine.stop());
    const port = engine.sipAddresses()[0].port;
    expect((await scrape(engine)).get('uasmedia_sip_datagrams_dropped_total')).toBe(0);
    const flooder = await new UdpTestPeer().open('127.0.0.4');
    cleanups.push(() => flooder.close());
    for (let i = 0; i < 100; i++) await flooder.send(optionsText(`m-${i}`, 'UDP', flooder.port, port), port);
    await waitForAsync(async () => (await scrape(engine)).get('uasmedia_sip_datagrams_dropped_total')! >= 80);
    const after = await scrape(engine);
    expect(after.types.get('uasmedia_sip_datagrams_dropped_total')).toBe('counter');
    expect(after.get('uasmedia_sip_datagrams_dropped_total')).toBeLessThanOrEqual(90);
    expect(after.get('uasmedia_sip_datagram_rate_exceeded_total')).toBe(1);
  });
});
