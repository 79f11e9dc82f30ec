/**
 * Serves an engine's Prometheus metrics over HTTP: `GET /metrics` (and HEAD) answers the
 * registry's exposition with its content type; any other path is 404, any other method on
 * /metrics 405. Started only when the engine's options name a port; binds 127.0.0.1 unless told
 * otherwise. A request whose Host is not an IP address or localhost gets 421, whatever its path:
 * on loopback, a web page whose domain was re-pointed at 127.0.0.1 (DNS rebinding) could read it
 * otherwise. `close()` is idempotent, drops idle keep-alive connections and frees the port.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostAllowed } from '../../sip/index.js';
import type { EngineMetrics } from './metrics.js';

export interface MetricsServerOptions {
  /** Interface to bind. Default 127.0.0.1 (not reachable from other hosts). */
  host?: string;
  /** TCP port; 0 picks a free one (read it back from `port`). */
  port: number;
}

export interface MetricsServer {
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

async function handle(metrics: EngineMetrics, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostAllowed(req.headers.host))
    return send(res, 421, 'misdirected request: Host must be an IP address or localhost\n');
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') return send(res, 404, 'not found; metrics are at /metrics\n');
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });
  try {
    const body = await metrics.metrics();
    res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (error) {
    send(res, 500, `metrics unavailable: ${error instanceof Error ? error.message : String(error)}\n`);
  }
}

/** Starts the HTTP endpoint; resolves once listening, rejects if the port cannot be bound. */
export function startMetricsServer(
  metrics: EngineMetrics,
  options: MetricsServerOptions
): Promise<MetricsServer> {
  const { host = '127.0.0.1', port } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new RangeError(`metrics port must be an integer 0-65535, got ${String(port)}`));
  }
  const server = createServer((req, res) => {
    void handle(metrics, req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      // Later socket errors must not crash the process; the server keeps serving.
      server.on('error', () => {});
      let closing: Promise<void> | undefined;
      resolve({
        port: (server.address() as AddressInfo).port,
        close() {
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        }
      });
    });
  });
}
