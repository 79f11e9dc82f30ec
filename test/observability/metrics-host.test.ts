/**
 * Where the engine's metrics port listens: 127.0.0.1 unless `metricsHost` names another address,
 * as a Prometheus server on another host needs (`UASMEDIA_METRICS_HOST` for `npm start`). Before,
 * the port bound 127.0.0.1 whatever the application asked, so nothing off the host could scrape it.
 * Bound wider, `metricsAllow` names the scrapers: every request renders every metric, and two
 * connections asking again as each answer came took a quarter of the engine's core.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { httpRequest } from '../support/http-request.js';

const METRICS_ADDRESS = '127.0.0.61';

/** A TCP port free on `host` right now. */
async function freeTcpPort(host: string): Promise<number> {
  const server = net.createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Whether a TCP connection to `host:port` is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

/** An engine serving its metrics on METRICS_ADDRESS; resolves with the metrics port. */
async function startEngine(metricsAllow?: string[]): Promise<number> {
  const port = await freeTcpPort(METRICS_ADDRESS);
  engine = new Engine({
    sip: { host: METRICS_ADDRESS, port: 0, transports: ['udp'] },
    rtp: { minPort: 56700, maxPort: 56709 },
    logLevel: 'silent',
    metricsPort: port,
    metricsHost: METRICS_ADDRESS,
    ...(metricsAllow && { metricsAllow })
  });
  await engine.start();
  return port;
}

describe('EngineOptions.metricsHost', () => {
  it('binds the metrics port on the address it names, and only there', async () => {
    const port = await startEngine();
    const reply = await httpRequest({ address: METRICS_ADDRESS, port, path: '/metrics' });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatch(/^# HELP uasmedia_/m);
    expect(await accepts('127.0.0.1', port)).toBe(false);
  });

  it('takes connections only from the sources metricsAllow lists', async () => {
    const port = await startEngine(['127.0.0.62/31']);
    for (const localAddress of ['127.0.0.62', '127.0.0.63'])
      expect(
        (await httpRequest({ address: METRICS_ADDRESS, port, path: '/metrics', localAddress })).status
      ).toBe(200);
    await expect(
      httpRequest({ address: METRICS_ADDRESS, port, path: '/metrics', localAddress: '127.0.0.64' })
    ).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(() => new Engine({ metricsPort: 0, metricsAllow: ['10.0.0.0/33'] })).toThrow(
      "EngineOptions.metricsAllow list entry '10.0.0.0/33' has prefix length '33', expected 0-32"
    );
  });

  it('refuses what is not an IP address', () => {
    for (const [metricsHost, shown] of <[unknown, string][]>[
      ['metrics.example.com', "'metrics.example.com'"],
      ['', "''"],
      [9100, '9100']
    ])
      expect(() => new Engine({ metricsPort: 0, metricsHost: metricsHost as string }), shown).toThrow(
        new TypeError(`EngineOptions.metricsHost must be an IP address, got ${shown}`)
      );
  });
});
