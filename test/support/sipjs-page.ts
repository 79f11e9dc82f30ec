/**
 * Serves browser/sipjs-caller.ts, bundled with sip.js by esbuild when the server starts, on a
 * loopback HTTP port: a page that calls a room over any SIP WebSocket its URL names, for tests
 * of what stands between a browser and the engine (the cluster's Kamailio front).
 */
import http from 'node:http';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const SCRIPT = fileURLToPath(new URL('./browser/sipjs-caller.ts', import.meta.url));
const PAGE =
  '<!doctype html><meta charset="utf-8"><title>sip.js caller</title><script type="module" src="/caller.js"></script>';

export class SipJsPage {
  private constructor(private readonly server: http.Server) {}

  static async start(host = '127.0.0.1'): Promise<SipJsPage> {
    const bundled = await build({
      entryPoints: [SCRIPT],
      bundle: true,
      format: 'esm',
      target: 'es2020',
      write: false,
      logLevel: 'warning'
    });
    const script = bundled.outputFiles[0].contents;
    const server = http.createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/') response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      else if (path === '/caller.js')
        response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script);
      else response.writeHead(404).end();
    });
    server.listen(0, host);
    await once(server, 'listening');
    return new SipJsPage(server);
  }

  /** The page's origin: what its browser's WebSocket handshakes name. */
  get origin(): string {
    const { address, port } = this.server.address() as { address: string; port: number };
    return `http://${address}:${port}`;
  }

  /** The page, calling `room` at `host` over `server`. */
  url(server: string, host: string, room: string): string {
    const query = new URLSearchParams({ server, host, room });
    return `${this.origin}/?${query.toString()}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
