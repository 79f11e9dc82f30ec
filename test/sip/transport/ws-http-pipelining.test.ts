/**
 * The WebSocket port's HTTP side (the join page) closes a connection with more than a few
 * requests waiting for their answers, over real sockets: browsers never pipeline, and Node's
 * parser reads a whole chunk of pipelined requests before it pauses, each queued answer holding
 * some 3 KB until the peer reads it. Requests sent one after another on a kept-alive connection
 * are all answered.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { waitFor } from '../../support/wait.js';

const HOST = '127.0.12.1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(): Promise<{ port: number; handled: () => number }> {
  let handled = 0;
  const ua = new SipUserAgent({
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

async function connect(
  port: number
): Promise<{ socket: net.Socket; text: () => string; closed: () => boolean }> {
  const socket = net.connect({ host: HOST, port, localAddress: '127.0.12.4' });
  cleanups.push(() => void socket.destroy());
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.once('close', () => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, text: () => text, closed: () => closed };
}

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
});
