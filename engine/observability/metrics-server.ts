/**
 * Serves an engine's Prometheus metrics over HTTP: `GET /metrics` (and HEAD) answers the
 * registry's exposition with its content type; any other path is 404, any other method on
 * /metrics 405. Started only when the engine's options name a port; binds 127.0.0.1 unless told
 * otherwise. A request whose Host is not an IP address or localhost gets 421, whatever its path:
 * on loopback, a web page whose domain was re-pointed at 127.0.0.1 (DNS rebinding) could read it
 * otherwise. `close()` is idempotent, drops idle keep-alive connections and frees the port.
 *
 * A scraper needs a connection or two: the server keeps at most `maxConnections` (16) and closes
 * one whose request has not fully arrived within `requestTimeoutMs` (10 s), so connections that
 * drip their headers (slowloris) neither pile up nor hold the process's descriptors.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostAllowed, PipelinedRequestLimit, SourceFilter } from '../../sip/index.js';
import { EngineError } from '../errors.js';
import type { EngineMetrics } from './metrics.js';

export interface MetricsServerOptions {
  /** Interface to bind. Default 127.0.0.1 (not reachable from other hosts). */
  host?: string;
  /**
   * CIDR blocks or addresses whose connections are taken; others are closed at accept. Empty or
   * absent: whoever reaches `host`. Each request renders every metric (about 0.4 ms of the
   * engine's thread), so a port bound off loopback wants its scrapers listed here.
   */
  allow?: readonly string[];
  /** TCP port; 0 picks a free one (read it back from `port`). */
  port: number;
  /** Connections open at once; more are closed as they arrive. Default 16. */
  maxConnections?: number;
  /** How long a request may take to arrive, headers and body. Default 10 000 ms. */
  requestTimeoutMs?: number;
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

/**
 * Requests one connection may have waiting for their answers; past it, it is closed. Scrapers do
 * not pipeline. Node's parser reads a whole chunk of pipelined requests before it pauses a
 * connection whose answers are not read, and each answer is a rendering of every metric: 16
 * connections that each wrote 64 KB of `GET /metrics` (1,524 requests) and read nothing took the
 * engine from 181 to 974 MB of RSS and a core for 8 s, held for as long as they stayed open.
 */
const MAX_PENDING_REQUESTS = 2;

/** Starts the HTTP endpoint; resolves once listening, rejects if the port cannot be bound. */
export function startMetricsServer(
  metrics: EngineMetrics,
  options: MetricsServerOptions
): Promise<MetricsServer> {
  const { host = '127.0.0.1', port, maxConnections = 16, requestTimeoutMs = 10_000 } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    return Promise.reject(new RangeError(`metrics port must be an integer 0-65535, got ${String(port)}`));
  }
  const pipelining = new PipelinedRequestLimit(MAX_PENDING_REQUESTS);
  const sources = new SourceFilter({ allow: options.allow ?? [] }, { allow: 'metrics allow', deny: '' });
  const server = createServer(
    {
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      // Node looks for overdue requests this often (default 30 s, past the deadline itself).
      connectionsCheckingInterval: Math.min(1000, requestTimeoutMs)
    },
    (req, res) => {
      if (pipelining.admit(req, res)) void handle(metrics, req, res);
      else req.socket.destroy();
    }
  );
  server.maxConnections = maxConnections;
  server.on('connection', (socket: Socket) => {
    if (!sources.allows(socket.remoteAddress ?? '')) socket.destroy();
  });
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void =>
      reject(
        new EngineError('ERR_LISTEN_FAILED', `cannot serve metrics on ${host}:${port}: ${error.message}`, {
          cause: error
        })
      );
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
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
