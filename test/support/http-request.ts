/**
 * One HTTP request to a loopback server, as a browser or a rebinding page would send it: a
 * chosen Host header and source address, or (`host: null`) an HTTP/1.0 request with no Host
 * at all, which Node's client cannot send, over a bare socket.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface HttpReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRequestOptions {
  port: number;
  /** The server's address (default 127.0.0.1). */
  address?: string;
  path?: string;
  method?: string;
  /** The Host header (default `127.0.0.1:<port>`); null sends HTTP/1.0 without one. */
  host?: string | null;
  /** Source address (a loopback address other than 127.0.0.1 is another caller). */
  localAddress?: string;
  /** HTTPS, taking whatever certificate the server shows. */
  tls?: boolean;
  /** More request headers. */
  headers?: Record<string, string>;
}

export function httpRequest(options: HttpRequestOptions): Promise<HttpReply> {
  const {
    port,
    address = '127.0.0.1',
    path = '/',
    method = 'GET',
    host,
    localAddress,
    tls = false
  } = options;
  const { headers = {} } = options;
  if (host === null) return withoutHost(port, path, method);
  return new Promise((resolve, reject) => {
    const request = (tls ? https : http).request(
      {
        host: address,
        port,
        path,
        method,
        localAddress,
        agent: false,
        headers: host === undefined ? headers : { ...headers, Host: host },
        rejectUnauthorized: false
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body })
        );
      }
    );
    request.on('error', reject);
    request.end();
  });
}

/** HTTP/1.0 (no Host required) over a plain socket; resolves with the status and the rest as body. */
function withoutHost(port: number, path: string, method: string): Promise<HttpReply> {
  return rawHttpRequest(port, `${method} ${path} HTTP/1.0\r\n\r\n`);
}

/** `head` written as is over a plain socket (no client library to tidy it up); the status and the rest as body. */
export function rawHttpRequest(port: number, head: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1] ?? 0), headers: {}, body: rest.join('\r\n\r\n') });
    });
  });
}

/** A bare connection to `host:port` from `localAddress`: what it has read, and whether it closed. */
export async function rawHttpConnection(
  host: string,
  port: number,
  localAddress: string,
  cleanups: Array<() => unknown>
): Promise<{ socket: net.Socket; text: () => string; closed: () => boolean }> {
  const socket = net.connect({ host, port, localAddress });
  cleanups.push(() => void socket.destroy());
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.once('close', () => (closed = true));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, text: () => text, closed: () => closed };
}
