/**
 * The WebSocket port under the connection guard, over real sockets: the per-source limit
 * refuses the connection past it at accept, a TCP connection that never completes its upgrade
 * (or its HTTP request) is closed by the message deadline, a WebSocket message trickled slower
 * than the deadline is too, a peer that does not answer our pings is closed while a silent one
 * that answers stays, an oversized message closes its connection with 1009, and a CRLF
 * keep-alive gets a CRLF back. Limits are configured small; assertions are on closure, codes
 * and counters, not on how long anything took.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { SipResponse } from '../../sip/message/message.js';
import type { ConnectionLimits } from '../../sip/transport/connection-guard.js';
import type { SipMessageLimits } from '../../sip/message/limits.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { hasPeer } from '../support/peers.js';
import { makeTestCertificate } from '../support/tls-certificate.js';
import { sleep, waitFor } from '../support/wait.js';
import { connectStreamPeer } from '../support/stream-peer.js';
import { WsSipClient } from '../support/ws-sip-client.js';
import { warningLogger, type LoggedWarning } from '../support/warning-logger.js';
import { maskedFrame, maskedTextFrame, webSocketUpgradeRequest } from '../support/raw-websocket.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Agent {
  ua: SipUserAgent;
  port: number;
  url: string;
  warnings: LoggedWarning[];
}

async function agent(
  connections: Partial<ConnectionLimits>,
  limits?: Partial<SipMessageLimits>,
  tls?: { cert: Buffer; key: Buffer }
): Promise<Agent> {
  const { logger, warnings } = warningLogger();
  const ua = new SipUserAgent({
    transports: [
      {
        protocol: 'ws',
        host: '127.0.0.1',
        port: 0,
        ws: {
          path: '/sip',
          tls,
          httpHandler: (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('join page')
        }
      }
    ],
    connections,
    limits,
    logger
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const port = ua.addresses()[0].port;
  return { ua, port, url: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/sip`, warnings };
}

/** A fresh self-signed certificate for the WSS port, removed after the test. */
function testCertificate(): { cert: Buffer; key: Buffer } {
  const certificate = makeTestCertificate();
  cleanups.push(() => certificate.remove());
  return { cert: certificate.cert, key: certificate.key };
}

async function client(url: string, options: WebSocket.ClientOptions = {}): Promise<WsSipClient> {
  const c = await WsSipClient.connect(url, ['sip'], options);
  cleanups.push(() => c.close());
  return c;
}

let calls = 0;
/** An OPTIONS over `c` answered 200: the connection works. */
async function works(c: WsSipClient): Promise<SipResponse> {
  const callId = `ws-guard-${++calls}`;
  c.send(c.request('OPTIONS', 'sip:room@127.0.0.1', { callId }));
  return c.response(callId, 200);
}

function closed(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve(-1);
    else socket.once('close', (code) => resolve(code));
  });
}

/** A raw TCP peer whose WebSocket upgrade was answered 101, to write frames by hand. */
async function upgradedPeer(port: number): Promise<Awaited<ReturnType<typeof connectStreamPeer>>> {
  const raw = await connectStreamPeer(cleanups, { port });
  raw.socket.write(webSocketUpgradeRequest(port));
  await waitFor(() => raw.received().includes('\r\n\r\n'));
  expect(raw.received()).toMatch(/^HTTP\/1\.1 101 /);
  return raw;
}

/** An OPTIONS as a hand-written WebSocket client sends it, with Call-ID `callId`. */
function pingerOptions(callId: string): string {
  return (
    `OPTIONS sip:room@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS pinger.invalid;branch=z9hG4bK-${callId}\r\n` +
    'Max-Forwards: 70\r\nFrom: <sip:p@example.invalid>;tag=p\r\nTo: <sip:room@127.0.0.1>\r\n' +
    `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`
  );
}

/** Writes `bytes` one at a time, 20 ms apart, until the server closes the connection; how many went. */
async function trickle(socket: net.Socket, done: Promise<void>, bytes: Buffer): Promise<number> {
  let isClosed = false;
  void done.then(() => (isClosed = true));
  let sent = 0;
  while (!isClosed && sent < bytes.length) {
    socket.write(bytes.subarray(sent, sent + 1));
    sent++;
    await sleep(20);
  }
  await done;
  return sent;
}

describe('WebSocket connection guard', () => {
  it('refuses the connection past the per-source limit at accept, while the others and another source still work', async () => {
    const { ua, url } = await agent({ maxConnectionsPerSource: 2 });
    const first = await client(url);
    const second = await client(url);
    await expect(WsSipClient.connect(url)).rejects.toThrow();
    expect(ua.connectionGuard.statsByTransport.ws.refusedPerSource).toBe(1);
    expect(ua.connectionGuard.statsByTransport.tcp.refusedPerSource).toBe(0);
    await works(first);
    await works(second);
    const elsewhere = await client(url, { localAddress: '127.0.0.2' });
    await works(elsewhere);
    // Closing one frees a place for its source.
    first.socket.close();
    await closed(first.socket);
    await waitFor(() => ua.connectionGuard.openByTransport.ws === 2);
    await works(await client(url));
  });

  it('closes a TCP connection that never sends its upgrade, or trickles it, by the message deadline', async () => {
    const { ua, port, url, warnings } = await agent({ messageDeadlineMs: 300, idleTimeoutMs: 60_000 });
    const member = await client(url);
    const silent = await connectStreamPeer(cleanups, { port });
    await silent.closed;
    const slow = await connectStreamPeer(cleanups, { port });
    const request = Buffer.from(webSocketUpgradeRequest(port));
    const sent = await trickle(slow.socket, slow.closed, request);
    expect(sent).toBeLessThan(request.length);
    expect(slow.received()).not.toContain('101 Switching Protocols');
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(2);
    expect(warnings.filter((w) => w.msg.includes('not complete in time'))).toHaveLength(2);
    // The member connected before, and its connection, are untouched.
    await works(member);
  });

  it('bounds a slow HTTP request on the join page: the first by the guard, a kept-alive one by the HTTP server', async () => {
    const { ua, port, warnings } = await agent({ messageDeadlineMs: 400, idleTimeoutMs: 60_000 });
    const page = Buffer.from(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Padding: ${'a'.repeat(200)}\r\n\r\n`
    );
    const first = await connectStreamPeer(cleanups, { port });
    expect(await trickle(first.socket, first.closed, page)).toBeLessThan(page.length);
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(1);
    // A connection whose first request was fine and whose second one trickles.
    const keptAlive = await connectStreamPeer(cleanups, { port });
    keptAlive.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await waitFor(() => keptAlive.received().includes('join page'));
    expect(await trickle(keptAlive.socket, keptAlive.closed, page)).toBeLessThan(page.length);
    // Node's request timeout closed that one; it is the same deadline, counted and logged once.
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(2);
    expect(warnings.filter((w) => w.msg.includes('not complete in time'))).toHaveLength(2);
  });

  it('survives refused upgrades whose peers reset at once, and closes one whose peer stays, without counting a deadline', async () => {
    const { ua, port, url } = await agent({ messageDeadlineMs: 60_000, idleTimeoutMs: 60_000 });
    const member = await client(url);
    // Node hands an upgrade's socket over with no error listener: our refusal's write meets the reset.
    for (let i = 0; i < 5; i++) {
      const rude = await connectStreamPeer(cleanups, { port });
      rude.socket.write(webSocketUpgradeRequest(port).replace('GET /sip ', 'GET /elsewhere '));
      rude.socket.resetAndDestroy();
      await rude.closed;
    }
    const stays = await connectStreamPeer(cleanups, { port });
    stays.socket.write(webSocketUpgradeRequest(port).replace('Sec-WebSocket-Protocol: sip\r\n', ''));
    await stays.closed;
    expect(stays.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(0);
    await works(member);
  });

  it('closes while a WSS handshake is under way, and the connection with it', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const { ua, port } = await agent(
      { messageDeadlineMs: 60_000, idleTimeoutMs: 60_000 },
      undefined,
      testCertificate()
    );
    const silent = await connectStreamPeer(cleanups, { port });
    await waitFor(() => ua.connectionGuard.openByTransport.ws === 1);
    await ua.close();
    await silent.closed;
    expect(silent.isClosed()).toBe(true);
  });

  it('answers a malformed HTTP request with 400 and closes it, without counting a deadline', async () => {
    const { ua, port, url } = await agent({ messageDeadlineMs: 5000, idleTimeoutMs: 60_000 });
    const member = await client(url);
    const garbage = await connectStreamPeer(cleanups, { port });
    garbage.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await garbage.closed;
    expect(garbage.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(0);
    await waitFor(() => ua.connectionGuard.openByTransport.ws === 1);
    await works(member);
  });

  it('closes a connection whose WebSocket message arrives slower than the message deadline', async () => {
    const { ua, port, url } = await agent({ messageDeadlineMs: 300, idleTimeoutMs: 60_000 });
    const member = await client(url);
    const raw = await upgradedPeer(port);
    const frame = maskedTextFrame(Buffer.from('OPTIONS sip:room@127.0.0.1 SIP/2.0\r\n'.padEnd(120, 'x')));
    expect(await trickle(raw.socket, raw.closed, frame)).toBeLessThan(frame.length);
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(1);
    await works(member);
  });

  it('closes a connection whose fragmented message is not finished by the deadline, though it pings and pongs between fragments', async () => {
    const { ua, port, url } = await agent({ messageDeadlineMs: 300, idleTimeoutMs: 60_000 });
    const member = await client(url);
    const raw = await upgradedPeer(port);
    // RFC 6455 §5.4: control frames may come between fragments; they are no progress on the message.
    raw.socket.write(maskedFrame(0x1, 'OPTIONS sip:room@127.0.0.1 SIP/2.0\r\n', undefined, false));
    let controls = 0;
    while (!raw.isClosed() && controls < 200) {
      await sleep(50);
      raw.socket.write(maskedFrame(controls % 2 === 0 ? 0x9 : 0xa, `c${controls++}`));
    }
    expect(raw.isClosed()).toBe(true);
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(1);
    await works(member);
  });

  it("holds pings to the connection's message rate with its SIP requests: a request behind a ping flood waits its turn", async () => {
    const rate = { maxMessagesPerSecond: 50, messageBurst: 10 };
    const { ua, port } = await agent({ ...rate, idleTimeoutMs: 60_000 });
    const peer = await upgradedPeer(port);
    const pings = 60;
    const options = pingerOptions('ws-ping-flood');
    const flood = Buffer.concat([
      ...Array.from({ length: pings }, (_, i) => maskedFrame(0x9, `ping${i}`)),
      maskedTextFrame(options)
    ]);
    const startMs = performance.now();
    peer.socket.write(flood);
    await waitFor(() => peer.received().includes('SIP/2.0 200 OK'), 30_000);
    // The request is the 61st message: at least (61 - burst) / rate seconds after the flood.
    const earliestMs = ((pings + 1 - rate.messageBurst) * 1000) / rate.maxMessagesPerSecond;
    expect(performance.now() - startMs).toBeGreaterThanOrEqual(earliestMs - 2);
    // The pings' pong goes out on the turn after the last ping is taken (ws-pong.ts), which may be
    // after the request's answer, taken in the same turn.
    await waitFor(() => peer.received().includes(`\x8a\x06ping${pings - 1}`), 10_000);
    expect(ua.connectionGuard.statsByTransport.ws.rateLimited).toBe(1);
    expect(peer.isClosed()).toBe(false);
  });

  it('closes a peer that sends requests and never reads the answers, logging the closure once and no failed send per answer', async () => {
    const { ua, port, url, warnings } = await agent({ maxWriteQueueBytes: 4096, idleTimeoutMs: 60_000 });
    const member = await client(url);
    const deaf = await connectStreamPeer(cleanups, { port });
    deaf.socket.write(webSocketUpgradeRequest(port));
    await waitFor(() => deaf.received().includes('\r\n\r\n'));
    deaf.socket.pause(); // reads nothing more: the kernel's buffers fill, then ours
    // Forty Via headers make each answer about 3 KB (a response copies them, §8.2.6.2).
    const vias = Array.from({ length: 40 }, (_, i) => `Via: SIP/2.0/WS 10.1.${i}.1;branch=z9hG4bK-deaf-${i}`);
    let sent = 0;
    while (!deaf.isClosed() && sent < 20_000) {
      const frames: Buffer[] = [];
      for (let k = 0; k < 50; k++) {
        const text = Buffer.from(
          [
            'OPTIONS sip:room@127.0.0.1 SIP/2.0',
            'Via: SIP/2.0/WS deaf.invalid;branch=z9hG4bK-deaf',
            ...vias,
            'Max-Forwards: 70',
            'From: <sip:deaf@example.invalid>;tag=deaf',
            'To: <sip:room@127.0.0.1>',
            `Call-ID: ws-deaf-${sent++}`,
            'CSeq: 1 OPTIONS',
            'Content-Length: 0',
            '',
            ''
          ].join('\r\n')
        );
        frames.push(maskedTextFrame(text, Buffer.alloc(4)));
      }
      deaf.socket.write(Buffer.concat(frames));
      await sleep(5);
    }
    await deaf.closed;
    expect(ua.connectionGuard.statsByTransport.ws.closedWriteQueue).toBe(1);
    expect(warnings.filter((w) => w.msg.includes('does not read'))).toHaveLength(1);
    expect(warnings.filter((w) => w.msg.startsWith('SIP send failed')).length).toBeLessThanOrEqual(1);
    await works(member);
  });

  it('answers 200 pings in one read with a pong for the latest, and the connection goes on', async () => {
    const { port, warnings } = await agent({ idleTimeoutMs: 60_000 });
    const peer = await upgradedPeer(port);
    peer.socket.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => maskedFrame(0x9, `ping${i}`))));
    // A pong (opcode 10, unmasked) carries its ping's payload (RFC 6455 §5.5.3).
    await waitFor(() => peer.received().includes('\x8a\x07ping199'));
    const pongs = peer.received().split('\x8a').length - 1;
    const options = pingerOptions('ws-pings');
    peer.socket.write(maskedTextFrame(options));
    await waitFor(() => peer.received().includes('SIP/2.0 200 OK'));
    expect(peer.isClosed()).toBe(false);
    expect(pongs).toBeLessThan(200);
    expect(warnings).toEqual([]);
  });

  it('closes a peer that does not answer our pings, and keeps one that does', async () => {
    const { ua, url, warnings } = await agent({
      wsPingIntervalMs: 100,
      wsPongTimeoutMs: 1000,
      idleTimeoutMs: 60_000
    });
    const answering = await client(url);
    let pings = 0;
    answering.socket.on('ping', () => pings++);
    const deaf = await client(url, { autoPong: false });
    expect(await closed(deaf.socket)).toBe(1006);
    expect(ua.connectionGuard.statsByTransport.ws.closedPingTimeout).toBe(1);
    expect(warnings.filter((w) => w.msg.includes('no pong'))).toHaveLength(1);
    expect(pings).toBeGreaterThan(0);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    await works(answering);
  });

  it('keeps a silent peer that answers pings across several idle periods, and closes a silent one that does not by then', async () => {
    const { ua, url } = await agent({ wsPingIntervalMs: 100, wsPongTimeoutMs: 60_000, idleTimeoutMs: 1500 });
    const answering = await client(url);
    let pings = 0;
    answering.socket.on('ping', () => pings++);
    const deaf = await client(url, { autoPong: false });
    // The deaf one is closed as idle (its pong deadline is far off): its pings prove nothing.
    expect(await closed(deaf.socket)).toBe(1006);
    expect(ua.connectionGuard.statsByTransport.ws.closedIdle).toBe(1);
    // 45 pings at 100 ms are at least three idle periods of silence but for the pongs.
    await waitFor(() => pings >= 45, 60_000);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
    expect(ua.connectionGuard.statsByTransport.ws.closedIdle).toBe(1);
    await works(answering);
  });

  it('over TLS (WSS): refuses past the per-source limit, and a connection that never starts its TLS handshake is closed by the deadline', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const { ua, port, url } = await agent(
      { maxConnectionsPerSource: 2, messageDeadlineMs: 1500, idleTimeoutMs: 60_000 },
      undefined,
      testCertificate()
    );
    const member = await client(url, { rejectUnauthorized: false });
    await works(member);
    const silent = await connectStreamPeer(cleanups, { port });
    await expect(WsSipClient.connect(url, ['sip'], { rejectUnauthorized: false })).rejects.toThrow();
    expect(ua.connectionGuard.statsByTransport.ws.refusedPerSource).toBe(1);
    await silent.closed;
    expect(ua.connectionGuard.statsByTransport.ws.closedDeadline).toBe(1);
    await works(member);
  });

  it('refuses a message over the SIP size limit with 1009, and the other connections go on', async () => {
    const { ua, url } = await agent({}, { maxMessageBytes: 2000 });
    const bystander = await client(url);
    const big = await client(url);
    big.socket.send('OPTIONS sip:room@127.0.0.1 SIP/2.0\r\n' + 'x'.repeat(3000));
    expect(await closed(big.socket)).toBe(1009);
    await works(bystander);
    expect(ua.connectionGuard.openByTransport.ws).toBe(1);
  });

  it('answers a double-CRLF keep-alive message with a CRLF, at most once a second, and ignores a lone CRLF', async () => {
    const { ua, url } = await agent({});
    const c = await client(url);
    const texts: string[] = [];
    c.socket.on('message', (data: Buffer) => texts.push(data.toString()));
    c.socket.send('\r\n');
    c.socket.send('\r\n\r\n');
    for (let i = 0; i < 50; i++) c.socket.send('\r\n\r\n');
    await works(c);
    expect(texts.filter((t) => t === '\r\n')).toHaveLength(1);
    expect(ua.connectionGuard.statsByTransport.ws.keepalivePongs).toBe(1);
    expect(ua.connectionGuard.statsByTransport.ws.keepalivePingsDropped).toBe(50);
    expect(ua.stats.malformed).toBe(0);
    await sleep(1100);
    c.socket.send('\r\n\r\n');
    await waitFor(() => texts.filter((t) => t === '\r\n').length === 2);
  });
});
