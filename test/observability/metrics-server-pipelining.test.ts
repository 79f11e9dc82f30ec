/**
 * The metrics endpoint closes a connection with more than two requests waiting for their
 * answers, over real sockets: each answer renders every metric, and Node's parser reads a whole
 * chunk of pipelined requests before it pauses, so 64 KB of `GET /metrics` held some 1,500
 * renderings for as long as the peer left them unread. A scraper's sequential requests on one
 * kept-alive connection are all answered.
 */
import { rawHttpConnection } from '../support/http-request.js';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../engine/observability/metrics-server.js';
import { waitFor } from '../support/wait.js';

const HOST = '127.0.12.1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(): Promise<MetricsServer> {
  const server = await startMetricsServer(new EngineMetrics(), { host: HOST, port: 0 });
  cleanups.push(() => server.close());
  return server;
}

const connect = (port: number) => rawHttpConnection(HOST, port, '127.0.12.5', cleanups);

const request = `GET /metrics HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
const answers = (text: string): number => text.split('HTTP/1.1 200 OK').length - 1;

describe('pipelined requests to the metrics endpoint', () => {
  it('closes a connection that pipelines 300 requests, having answered at most two', async () => {
    const { port } = await start();
    const peer = await connect(port);
    peer.socket.write(request.repeat(300));
    await waitFor(() => peer.closed());
    expect(answers(peer.text())).toBeLessThanOrEqual(2);
  });

  it("answers a scraper's requests sent one after another on a kept-alive connection", async () => {
    const { port } = await start();
    const peer = await connect(port);
    for (let i = 1; i <= 5; i++) {
      peer.socket.write(request);
      await waitFor(() => answers(peer.text()) === i);
    }
    expect(peer.closed()).toBe(false);
  });
});
