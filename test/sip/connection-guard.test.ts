/**
 * TCP connection limits over real sockets (sip/transport/connection-guard.ts): slow senders
 * and idle connections are closed by their deadlines and logged once, the per-source and total
 * limits refuse the connection past them, and well-behaved connections are left alone. The
 * limits are configured small so the tests are quick; assertions are on closure and counters,
 * never on how long something took.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import {
  ConnectionGuard,
  resolveConnectionLimits,
  type ConnectionLimits
} from '../../sip/transport/connection-guard.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { TcpTestPeer, optionsText } from '../support/sip-udp-peer.js';
import { sleep, waitFor } from '../support/wait.js';
import { hasPeer } from '../support/peers.js';
import { connectStreamPeer } from '../support/stream-peer.js';
import { makeTestCertificate } from '../support/tls-certificate.js';
import { warningLogger, type LoggedWarning } from '../support/warning-logger.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function agent(
  connections: Partial<ConnectionLimits>
): Promise<{ ua: SipUserAgent; port: number; warnings: LoggedWarning[] }> {
  const { logger, warnings } = warningLogger();
  const ua = new SipUserAgent({
    transports: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
    connections,
    logger
  });
  await ua.start();
  cleanups.push(() => ua.close());
  return { ua, port: ua.addresses()[0].port, warnings };
}

/** A started user agent on TLS with a fresh test certificate and the given connection limits. */
async function tlsAgent(
  connections: Partial<ConnectionLimits>,
  logger?: ReturnType<typeof warningLogger>['logger']
): Promise<SipUserAgent> {
  const certificate = makeTestCertificate();
  cleanups.push(() => certificate.remove());
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'tls', host: '127.0.0.1', port: 0, tls: { cert: certificate.cert, key: certificate.key } }
    ],
    connections,
    logger
  });
  await ua.start();
  return ua;
}

const ok = (callId: string) => (m: AnySipMessage) =>
  m instanceof SipResponse && m.callId === callId && m.status === 200;

async function connect(port: number, localAddress?: string): Promise<TcpTestPeer> {
  const peer = await new TcpTestPeer().connect(port, localAddress);
  cleanups.push(() => peer.close());
  return peer;
}

async function ping(peer: TcpTestPeer, port: number, callId: string): Promise<void> {
  await peer.send(optionsText(callId, 'TCP', peer.localPort, port));
  await peer.next(ok(callId), 10_000);
}

/** Whether the server closes `peer` within `ms` (generous: a busy host may run timers late). */
function closesWithin(peer: TcpTestPeer, ms: number): Promise<boolean> {
  return Promise.race([peer.closed.then(() => true), sleep(ms).then(() => false)]);
}

describe('TCP connection guard', () => {
  it('closes a sender that trickles a message slower than the message deadline, and logs it once', async () => {
    const { ua, port, warnings } = await agent({ messageDeadlineMs: 300, idleTimeoutMs: 60_000 });
    const slow = await connect(port);
    const text = Buffer.from(optionsText('trickle', 'TCP', slow.localPort, port));
    let sent = 0;
    let closed = false;
    void slow.closed.then(() => (closed = true));
    // One byte every 20 ms: the connection is never idle, but the message never completes in time.
    while (!closed && sent < text.length) {
      await slow.send(text.subarray(sent, sent + 1)).catch(() => undefined);
      sent++;
      await sleep(20);
    }
    await slow.closed;
    expect(sent).toBeLessThan(text.length);
    expect(ua.connectionGuard.stats.closedDeadline).toBe(1);
    const logged = warnings.filter((w) => w.msg.includes('not complete in time'));
    expect(logged).toHaveLength(1);
    expect(logged[0].details).toMatchObject({ limitMs: 300 });
    expect(ua.connectionGuard.openConnections).toBe(0);
  });

  it('keeps a connection whose messages each complete in time, however long it lasts', async () => {
    const { ua, port } = await agent({ messageDeadlineMs: 600, idleTimeoutMs: 60_000 });
    const peer = await connect(port);
    // Each message goes in two halves 60 ms apart, and the next one starts in the same write
    // that ends the one before: over 0.9 s some message is always partial, longer than the
    // deadline, yet each one completes long before its own.
    let next = optionsText('steady-0', 'TCP', peer.localPort, port);
    await peer.send(next.slice(0, 50));
    for (let i = 0; i < 15; i++) {
      await sleep(60);
      const following = optionsText(`steady-${i + 1}`, 'TCP', peer.localPort, port);
      await peer.send(next.slice(50) + following.slice(0, 50));
      await peer.next(ok(`steady-${i}`), 10_000);
      next = following;
    }
    expect(ua.connectionGuard.stats.closedDeadline).toBe(0);
    expect(await closesWithin(peer, 50)).toBe(false);
  });

  it('closes an idle connection after the idle timeout and logs it once, but not one that talks', async () => {
    const { ua, port, warnings } = await agent({ idleTimeoutMs: 1000 });
    const idle = await connect(port);
    const talker = await connect(port);
    let round = 0;
    while (!(await closesWithin(idle, 50))) await ping(talker, port, `talk-${round++}`);
    // The talker outlived the idle one by at least a few idle periods of its own.
    for (let i = 0; i < 20; i++) {
      await ping(talker, port, `talk-more-${i}`);
      await sleep(50);
    }
    expect(await closesWithin(talker, 0)).toBe(false);
    expect(ua.connectionGuard.stats.closedIdle).toBe(1);
    expect(warnings.filter((w) => w.msg.includes('idle'))).toHaveLength(1);
  });

  it('refuses the connections past the per-source limit, logging the burst once, and admits one from another source', async () => {
    const { ua, port, warnings } = await agent({ maxConnectionsPerSource: 2 });
    const first = await connect(port);
    const second = await connect(port);
    await ping(first, port, 'first');
    await ping(second, port, 'second');
    const third = await connect(port);
    expect(await closesWithin(third, 10_000)).toBe(true);
    expect(ua.connectionGuard.stats.refusedPerSource).toBe(1);
    // A burst of refusals is counted, but logged once, not once per connection.
    for (let i = 0; i < 5; i++) expect(await closesWithin(await connect(port), 10_000)).toBe(true);
    expect(ua.connectionGuard.stats.refusedPerSource).toBe(6);
    expect(warnings.filter((w) => w.msg.includes('from this source'))).toHaveLength(1);
    // The first two still work, and another source address has its own allowance.
    await ping(first, port, 'first-again');
    const elsewhere = await connect(port, '127.0.0.2');
    await ping(elsewhere, port, 'elsewhere');
    // Closing one frees a place for the source.
    first.close();
    await first.closed;
    await waitForOpen(ua, 2);
    const fourth = await connect(port);
    await ping(fourth, port, 'fourth');
  });

  it('counts the addresses of one IPv6 /64 as one source, and an IPv4 host however it is spelled', () => {
    // Loopback has one IPv6 address, so the addresses here are the guard's input, not sockets'.
    const guard = new ConnectionGuard({ maxConnectionsPerSource: 2 });
    const admit = (host: string) => guard.admit(host, `${host}:5060`, () => {});
    const held = [admit('2001:db8:1:2::1'), admit('2001:db8:1:2::2')];
    expect(held.every((c) => c !== undefined)).toBe(true);
    expect(admit('2001:db8:1:2:dead:beef:0:1')).toBeUndefined();
    const neighbour = admit('2001:db8:1:3::1');
    expect(neighbour).toBeDefined();
    const v4 = [admit('192.0.2.7'), admit('::ffff:192.0.2.7')];
    expect(admit('192.0.2.7')).toBeUndefined();
    expect(guard.stats.refusedPerSource).toBe(2);
    held[0]?.release();
    const again = admit('2001:db8:1:2::3');
    expect(again).toBeDefined();
    for (const c of [held[1], again, neighbour, ...v4]) c?.release();
    expect(guard.openConnections).toBe(0);
  });

  it('closes connections that send nothing by the message deadline from their accept, freeing the budget for a newcomer', async () => {
    const { ua, port, warnings } = await agent({
      maxConnections: 4,
      messageDeadlineMs: 300,
      idleTimeoutMs: 600_000
    });
    const silent = await Promise.all([1, 2, 3, 4].map((n) => connect(port, `127.0.0.${10 + n}`)));
    await Promise.all(silent.map((peer) => peer.closed));
    expect(ua.connectionGuard.stats.closedDeadline).toBe(4);
    expect(ua.connectionGuard.stats.closedIdle).toBe(0);
    expect(warnings.filter((w) => w.msg.includes('not complete in time'))).toHaveLength(4);
    await ping(await connect(port, '127.0.0.20'), port, 'newcomer');
  });

  it('holds a connection whose first message came to the idle timeout, not to a deadline from its accept', async () => {
    const { ua, port } = await agent({ messageDeadlineMs: 300, idleTimeoutMs: 600_000 });
    const silent = await connect(port);
    const talker = await connect(port);
    await ping(talker, port, 'first');
    await silent.closed;
    // The silent one's deadline has passed, so the talker's (from the same moment) has too.
    expect(await closesWithin(talker, 600)).toBe(false);
    await ping(talker, port, 'second');
    expect(ua.connectionGuard.stats.closedDeadline).toBe(1);
  });

  it('closes a TLS connection that finishes its handshake but sends no message within the deadline', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const ua = await tlsAgent({ messageDeadlineMs: 300 });
    cleanups.push(() => ua.close());
    const { closed } = await connectStreamPeer(cleanups, { port: ua.addresses()[0].port, tls: true });
    await closed;
    expect(ua.connectionGuard.stats.closedDeadline).toBe(1);
  });

  it('refuses the connection past the total limit, whatever its source', async () => {
    const { ua, port } = await agent({ maxConnections: 2 });
    const a = await connect(port, '127.0.0.2');
    const b = await connect(port, '127.0.0.3');
    await ping(a, port, 'a');
    await ping(b, port, 'b');
    const c = await connect(port, '127.0.0.4');
    expect(await closesWithin(c, 10_000)).toBe(true);
    expect(ua.connectionGuard.stats.refusedTotal).toBe(1);
    await ping(a, port, 'a-again');
  });

  it('closes a TLS connection whose handshake does not finish within the message deadline', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const ua = await tlsAgent({ messageDeadlineMs: 300 });
    cleanups.push(() => ua.close());
    // A client that opens the connection and sends half a ClientHello, then nothing.
    const { socket, closed } = await connectStreamPeer(cleanups, { port: ua.addresses()[0].port });
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    await closed;
    expect(socket.destroyed).toBe(true);
  });

  it('holds TLS handshakes to the connection limits, and counts and logs the ones the deadline ends', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const { logger, warnings } = warningLogger();
    const ua = await tlsAgent(
      { maxConnectionsPerSource: 2, messageDeadlineMs: 400, idleTimeoutMs: 60_000 },
      logger
    );
    cleanups.push(() => ua.close());
    const port = ua.addresses()[0].port;
    // Two connections that never start their handshake, then a third from the same source.
    const silent = [await connectStreamPeer(cleanups, { port }), await connectStreamPeer(cleanups, { port })];
    await waitFor(() => ua.connectionGuard.openByTransport.tls === 2);
    const third = await connectStreamPeer(cleanups, { port });
    await third.closed;
    const stats = ua.connectionGuard.statsByTransport.tls;
    expect(stats.refusedPerSource).toBe(1);
    await Promise.all(silent.map((peer) => peer.closed));
    expect(stats.closedDeadline).toBe(2);
    expect(warnings.filter((w) => w.msg.includes('not complete in time'))).toHaveLength(2);
    await waitFor(() => ua.connectionGuard.openByTransport.tls === 0);
  });

  it('closes promptly while a TLS handshake is still running', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const ua = await tlsAgent({ messageDeadlineMs: 600_000 });
    const { closed } = await connectStreamPeer(cleanups, { port: ua.addresses()[0].port });
    // Without closing the half-open connection itself, close() would wait out the handshake.
    await ua.close();
    await closed;
  });

  it('refuses a source that opens connections faster than its rate, each /64 and IPv4 host as one source', () => {
    const guard = new ConnectionGuard({ maxConnectionsPerSecondPerSource: 1, connectionBurst: 3 });
    const openAndClose = (host: string): boolean => {
      const connection = guard.admit(host, `${host}:5060`, () => {});
      connection?.release();
      return connection !== undefined;
    };
    // A busy host can only add a token or two while this runs: one a second.
    const admitted = Array.from({ length: 10 }, () => openAndClose('192.0.2.7')).filter(Boolean).length;
    expect(admitted).toBeGreaterThanOrEqual(3);
    expect(admitted).toBeLessThanOrEqual(5);
    expect(openAndClose('::ffff:192.0.2.7')).toBe(false);
    expect(guard.stats.refusedRate).toBe(10 - admitted + 1);
    expect(openAndClose('192.0.2.8')).toBe(true);
    const sameSlash64 = ['2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4', '2001:db8::5'];
    expect(sameSlash64.map(openAndClose).filter(Boolean).length).toBeLessThanOrEqual(4);
    expect(guard.openConnections).toBe(0);
  });

  it('refuses TLS connections past the per-source connection rate before their handshake, and logs the burst once', async (ctx) => {
    if (!hasPeer('openssl')) return ctx.skip();
    const { logger, warnings } = warningLogger();
    const ua = await tlsAgent({ maxConnectionsPerSecondPerSource: 1, connectionBurst: 5 }, logger);
    cleanups.push(() => ua.close());
    const port = ua.addresses()[0].port;
    const handshake = (localAddress: string): Promise<boolean> =>
      new Promise((resolve) => {
        const tcp = net.connect({ host: '127.0.0.1', port, localAddress });
        const socket = tls.connect({ socket: tcp, rejectUnauthorized: false }, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(false));
        socket.on('close', () => resolve(false));
      });
    let completed = 0;
    for (let i = 0; i < 30; i++) if (await handshake('127.0.0.2')) completed++;
    const stats = ua.connectionGuard.statsByTransport.tls;
    expect(completed).toBeGreaterThanOrEqual(5);
    // One more per second the loop took: a slow host adds a few, never the 25 refused.
    expect(completed).toBeLessThanOrEqual(12);
    expect(stats.refusedRate).toBe(30 - completed);
    // One line for the whole burst: a refused connection is not also reported as a failed handshake.
    expect(warnings.map((w) => w.msg)).toEqual([
      'connection refused: this source opens connections too fast'
    ]);
    expect(await handshake('127.0.0.3')).toBe(true);
  });

  it('closes a peer that sends requests and never reads the answers, once they pass maxWriteQueueBytes, and logs it once', async () => {
    const { ua, port, warnings } = await agent({ maxWriteQueueBytes: 4096, idleTimeoutMs: 60_000 });
    const deaf = await connectStreamPeer(cleanups, { port });
    deaf.socket.pause(); // reads nothing more: the kernel's buffers fill, then ours
    // Forty Via headers make each answer about 3 KB (a response copies them, §8.2.6.2).
    const vias = Array.from(
      { length: 40 },
      (_, i) => `Via: SIP/2.0/TCP 10.1.${i}.1:5060;branch=z9hG4bK-deaf-${i}`
    );
    let sent = 0;
    while (!deaf.isClosed() && sent < 20_000) {
      for (let k = 0; k < 50; k++)
        deaf.socket.write(optionsText(`deaf-${sent++}`, 'TCP', deaf.socket.localPort ?? 0, port, vias));
      await sleep(5);
    }
    await deaf.closed;
    expect(ua.connectionGuard.statsByTransport.tcp.closedWriteQueue).toBe(1);
    expect(warnings.filter((w) => w.msg.includes('does not read'))).toHaveLength(1);
    // Another connection is served as before.
    const fine = await connect(port);
    await ping(fine, port, 'after-deaf');
  });

  it('logs a burst of connections that break off mid-message, reset or send garbage once, not once each', async () => {
    const { ua, port, warnings } = await agent({
      maxConnectionsPerSecondPerSource: 1000,
      connectionBurst: 1000
    });
    const half = 'OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKcut\r\n';
    for (let i = 0; i < 10; i++) {
      // Part of a message, then closed.
      const cut = await connect(port);
      await cut.send(half);
      cut.close();
      // Part of a message, then reset.
      const reset = net.connect({ host: '127.0.0.1', port });
      reset.on('error', () => undefined);
      await new Promise<void>((resolve) => reset.once('connect', () => resolve()));
      await new Promise<void>((resolve) => reset.write(half, () => resolve()));
      reset.resetAndDestroy();
      // Garbage the framer refuses.
      const garbage = await connect(port);
      await garbage.send(`INVITE sip:x SIP/2.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`);
    }
    await waitForOpen(ua, 0);
    const lines = warnings.filter((w) => /mid-message|connection error|framing error/.test(w.msg));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(3);
  });

  it('checks its options', () => {
    expect(resolveConnectionLimits().idleTimeoutMs).toBe(120_000);
    expect(() => resolveConnectionLimits({ maxConnections: -1 })).toThrow(RangeError);
    expect(() => resolveConnectionLimits({ messageDeadlineMs: Number.NaN })).toThrow(/messageDeadlineMs/);
    expect(resolveConnectionLimits().wsPingIntervalMs).toBe(30_000);
    expect(resolveConnectionLimits().maxConnectionsPerSecondPerSource).toBe(20);
    expect(() => resolveConnectionLimits({ connectionBurst: 0.5 })).toThrow(/connectionBurst/);
    expect(resolveConnectionLimits().maxMessagesPerSecondPerSource).toBe(1000);
    expect(() => resolveConnectionLimits({ maxMessagesPerSecondPerSource: 0 })).toThrow(
      /maxMessagesPerSecondPerSource/
    );
    expect(() => resolveConnectionLimits({ wsPongTimeoutMs: 0 })).toThrow(/wsPongTimeoutMs/);
    expect(resolveConnectionLimits()).toMatchObject({ maxMessagesPerSecond: 500, messageBurst: 500 });
    expect(() => resolveConnectionLimits({ maxMessagesPerSecond: 0 })).toThrow(/maxMessagesPerSecond/);
    expect(() => resolveConnectionLimits({ messageBurst: 1.5 })).toThrow(/messageBurst/);
  });
});

async function waitForOpen(ua: SipUserAgent, count: number): Promise<void> {
  for (let i = 0; i < 500 && ua.connectionGuard.openConnections !== count; i++) await sleep(20);
  expect(ua.connectionGuard.openConnections).toBe(count);
}
