/**
 * The WebSocket port's HTTP side (the join page) against clients that make it work for nothing,
 * over real sockets. A connection with more than a few requests waiting for their answers is
 * closed: browsers never pipeline, and Node's parser reads a whole chunk of pipelined requests
 * before it pauses, each queued answer holding some 3 KB until the peer reads it. A request with
 * a body gets 413 and its connection is closed: nothing here takes an upload, and the body was
 * read and thrown away as fast as it came until the request deadline. Requests sent one after
 * another on a kept-alive connection are all answered, up to the source's request rate: past it
 * (`maxHttpRequestsPerSecondPerSource` and its burst), 429 and the connection closed. One source
 * fetching the join page over eight connections had taken 40 % of the engine's core.
 */
import { rawHttpConnection } from '../../support/http-request.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../../sip/transport/connection-guard.js';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { waitFor } from '../../support/wait.js';

const HOST = '127.0.12.1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(
  connections: Partial<ConnectionLimits> = {}
): Promise<{ port: number; handled: () => number }> {
  let handled = 0;
  const ua = new SipUserAgent({
    connections,
    transports: [
      {
        protocol: 'ws',
        host: HOST,
        port: 0,
        ws: {
          path: '/sip',
          httpHandler: (_req, res) => {
            handled++;
            res.writeHead(200, { 'content-type': 'text/plain' }).end('join page');
          }
        }
      }
    ]
  });
  await ua.start();
  cleanups.push(() => ua.close());
  return { port: ua.addresses()[0].port, handled: () => handled };
}

const connect = (port: number) => rawHttpConnection(HOST, port, '127.0.12.4', cleanups);

const request = `GET / HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`;
const answers = (text: string): number => text.split('HTTP/1.1 200 OK').length - 1;

describe('pipelined HTTP requests on the WebSocket port', () => {
  it('closes a connection that pipelines 500 requests, having answered only the first few', async () => {
    const { port, handled } = await server();
    const peer = await connect(port);
    peer.socket.write(request.repeat(500));
    await waitFor(() => peer.closed());
    expect(handled()).toBeLessThanOrEqual(4);
    expect(answers(peer.text())).toBeLessThanOrEqual(4);
  });

  it('answers requests sent one after another on a kept-alive connection', async () => {
    const { port, handled } = await server();
    const peer = await connect(port);
    for (let i = 1; i <= 10; i++) {
      peer.socket.write(request);
      await waitFor(() => answers(peer.text()) === i);
    }
    expect(handled()).toBe(10);
    expect(peer.closed()).toBe(false);
  });

  it('answers a request with a body 413 and closes its connection, however long the body goes on', async () => {
    // The request deadline would close it too, a minute on: what it read until then is the point.
    const { port, handled } = await server({ messageDeadlineMs: 60_000 });
    const peer = await connect(port);
    peer.socket.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nContent-Length: 1000000000000\r\n\r\n`);
    const chunk = Buffer.alloc(65_536, 0x61);
    let sent = 0;
    while (!peer.closed() && sent < 256 * 1024 * 1024) {
      sent += chunk.length;
      if (!peer.socket.write(chunk))
        await new Promise((resolve) => {
          peer.socket.once('drain', resolve);
          peer.socket.once('close', resolve);
        });
    }
    await waitFor(() => peer.closed());
    expect(peer.text()).toMatch(/^HTTP\/1\.1 413 /);
    expect(handled()).toBe(0);
  });

  it("answers a source's requests past its rate and burst 429 and closes that connection; other sources are served", async () => {
    const { port, handled } = await server({
      maxHttpRequestsPerSecondPerSource: 1,
      httpRequestBurstPerSource: 5
    });
    const peer = await connect(port);
    const startedMs = performance.now();
    let refused = false;
    for (let i = 1; i <= 50 && !refused; i++) {
      peer.socket.write(request);
      await waitFor(() => answers(peer.text()) === i || peer.text().includes('HTTP/1.1 429'));
      refused = peer.text().includes('HTTP/1.1 429');
    }
    const elapsedSeconds = (performance.now() - startedMs) / 1000;
    expect(refused).toBe(true);
    expect(peer.text()).toMatch(/HTTP\/1\.1 429 Too Many Requests\r\n(.*\r\n)*Retry-After: 1\r\n/i);
    await waitFor(() => peer.closed());
    // The burst, and the tokens the rate (1 a second) added while the requests went.
    expect(handled()).toBeGreaterThanOrEqual(5);
    expect(handled()).toBeLessThanOrEqual(5 + Math.ceil(elapsedSeconds));
    const other = await rawHttpConnection(HOST, port, '127.0.12.5', cleanups);
    other.socket.write(request);
    await waitFor(() => answers(other.text()) === 1);
  });
});
