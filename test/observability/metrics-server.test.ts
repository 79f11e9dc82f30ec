import { createServer } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../engine/errors.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { startMetricsServer, type MetricsServer } from '../../engine/observability/metrics-server.js';
import { parseExposition } from './exposition.js';
import { httpRequest, type HttpReply } from '../support/http-request.js';

function httpGet(port: number, path: string, method = 'GET'): Promise<HttpReply> {
  return httpRequest({ port, path, method });
}

/** Whether a fresh server can bind this port on 127.0.0.1 (then frees it again). */
function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

const open: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(metrics: EngineMetrics, port = 0): Promise<MetricsServer> {
  const server = await startMetricsServer(metrics, { port });
  open.push(server);
  return server;
}

describe('startMetricsServer', () => {
  it('serves the registry at GET /metrics with its content type', async () => {
    const metrics = new EngineMetrics();
    const server = await start(metrics);
    expect(server.port).toBeGreaterThan(0);
    metrics.rtp.packetsIn.inc(42);
    metrics.dtmf.info.inc();
    metrics.frameLatenessMs.observe(0.7);
    metrics.parties.set(6);
    const reply = await httpGet(server.port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(metrics.contentType);
    expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseExposition(reply.body);
    expect(s.get('uasmedia_rtp_packets_in_total')).toBe(42);
    expect(s.get('uasmedia_dtmf_digits_total{source="info"}')).toBe(1);
    expect(s.get('uasmedia_frame_lateness_ms_bucket{le="1"}')).toBe(1);
    expect(s.get('uasmedia_frame_lateness_ms_bucket{le="0.5"}')).toBe(0);
    expect(s.get('uasmedia_parties')).toBe(6);
    // A query string does not change the path.
    expect((await httpGet(server.port, '/metrics?x=1')).status).toBe(200);
  });

  it('answers 404 elsewhere and 405 for other methods on /metrics', async () => {
    const server = await start(new EngineMetrics());
    expect((await httpGet(server.port, '/')).status).toBe(404);
    expect((await httpGet(server.port, '/metricsx')).status).toBe(404);
    const post = await httpGet(server.port, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await httpGet(server.port, '/metrics', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers 421 to a Host that is not an IP address or localhost, whatever the path (DNS rebinding)', async () => {
    // On loopback, a page whose domain was re-pointed at 127.0.0.1 would read the metrics as its own.
    const server = await start(new EngineMetrics());
    const { port } = server;
    for (const path of ['/metrics', '/']) {
      const refused = await httpRequest({ port, path, host: `evil.example:${port}` });
      expect(refused.status, path).toBe(421);
      expect(refused.body).toMatch(/^misdirected request/);
    }
    expect((await httpRequest({ port, path: '/metrics', host: null })).status).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, 'localhost'])
      expect((await httpRequest({ port, path: '/metrics', host })).status, host).toBe(200);
  });

  it('answers 500 when the metrics were closed, and keeps serving', async () => {
    const metrics = new EngineMetrics();
    const server = await start(metrics);
    metrics.close();
    expect((await httpGet(server.port, '/metrics')).status).toBe(500);
    expect((await httpGet(server.port, '/')).status).toBe(404);
  });

  it('close() frees the port and is idempotent', async () => {
    const server = await startMetricsServer(new EngineMetrics(), { port: 0 });
    const { port } = server;
    expect(await canBind(port)).toBe(false);
    await httpGet(port, '/metrics');
    await Promise.all([server.close(), server.close()]);
    await server.close();
    expect(await canBind(port)).toBe(true);
    await expect(httpGet(port, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('keeps at most maxConnections, and closes one whose request drips in past requestTimeoutMs', async () => {
    const server = await startMetricsServer(new EngineMetrics(), {
      port: 0,
      maxConnections: 4,
      requestTimeoutMs: 300
    });
    open.push(server);
    // Six slowloris connections: each sends half a request and never finishes it.
    const closed = [0, 1, 2, 3, 4, 5].map(
      () =>
        new Promise<string>((resolve) => {
          let answer = '';
          const socket = connect(server.port, '127.0.0.1', () =>
            socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')
          );
          socket.on('data', (data: Buffer) => (answer += data.toString()));
          socket.on('error', () => undefined);
          socket.once('close', () => resolve(answer.split('\r\n')[0]));
        })
    );
    // Two over the limit are closed by the server as they arrive; the other four at the deadline.
    const answers = await Promise.all(closed);
    expect(answers.filter((a) => a === 'HTTP/1.1 408 Request Timeout')).toHaveLength(4);
    expect(answers.filter((a) => a === '')).toHaveLength(2);
    // And a scraper gets its answer once they are gone.
    expect((await httpGet(server.port, '/metrics')).status).toBe(200);
  });

  it('rejects when the port is taken (EngineError ERR_LISTEN_FAILED), and for an invalid port', async () => {
    const first = await start(new EngineMetrics());
    const taken = startMetricsServer(new EngineMetrics(), { port: first.port });
    await expect(taken).rejects.toBeInstanceOf(EngineError);
    await expect(taken).rejects.toMatchObject({
      code: 'ERR_LISTEN_FAILED',
      message: expect.stringContaining(`cannot serve metrics on 127.0.0.1:${first.port}`),
      cause: { code: 'EADDRINUSE' }
    });
    await expect(startMetricsServer(new EngineMetrics(), { port: 70000 })).rejects.toThrow(RangeError);
    await expect(startMetricsServer(new EngineMetrics(), { port: 1.5 })).rejects.toThrow(RangeError);
  });
});
