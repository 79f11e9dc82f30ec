/**
 * A stream connection's messages go to the SIP stack at most `maxMessagesPerSecond` (after a
 * burst of `messageBurst`), over real TCP and WebSocket connections: past the rate the
 * connection is read more slowly, nothing is lost or refused, and the episode is logged and
 * counted once. Assertions are counts against the process's own clock as a lower bound (a slow
 * host only makes the flood take longer), never an upper bound on time.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../../sip/transport/connection-guard.js';
import { MESSAGES_PER_TURN } from '../../../sip/transport/message-pacer.js';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { optionsText } from '../../support/sip-udp-peer.js';
import { WsSipClient } from '../../support/ws-sip-client.js';
import { waitFor } from '../../support/wait.js';
import { warningLogger, type LoggedWarning } from '../../support/warning-logger.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function agent(
  connections: Partial<ConnectionLimits>,
  afterMessage?: () => void
): Promise<{ ua: SipUserAgent; tcpPort: number; wsUrl: string; warnings: LoggedWarning[] }> {
  const { logger, warnings } = warningLogger();
  const ua = new SipUserAgent({
    afterMessage,
    transports: [
      { protocol: 'tcp', host: '127.0.0.1', port: 0 },
      { protocol: 'ws', host: '127.0.0.1', port: 0, ws: { path: '/sip' } }
    ],
    connections,
    logger
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const [tcp, ws] = ua.addresses();
  return { ua, tcpPort: tcp.port, wsUrl: `ws://127.0.0.1:${ws.port}/sip`, warnings };
}

/** Counts the 200 answers in a stream of SIP text, and when each arrived. */
function answerCounter(): { take(text: string): void; answeredAtMs: number[] } {
  const answeredAtMs: number[] = [];
  let received = '';
  let from = 0;
  return {
    answeredAtMs,
    take(text: string) {
      received += text;
      for (
        let at = received.indexOf('SIP/2.0 200 ', from);
        at >= 0;
        at = received.indexOf('SIP/2.0 200 ', from)
      ) {
        answeredAtMs.push(performance.now());
        from = at + 1;
      }
    }
  };
}

const RATE = { maxMessagesPerSecond: 50, messageBurst: 10 };
const FLOOD = 60;

/** At least (n - burst) / rate seconds pass before the n-th answer, for every n. */
function expectRateHeld(startMs: number, answeredAtMs: number[]): void {
  expect(answeredAtMs).toHaveLength(FLOOD);
  for (let n = RATE.messageBurst + 1; n <= FLOOD; n++) {
    const earliestMs = ((n - RATE.messageBurst) * 1000) / RATE.maxMessagesPerSecond;
    // 2 ms: the loop's timer clock and performance.now() are read at different moments.
    expect(answeredAtMs[n - 1] - startMs).toBeGreaterThanOrEqual(earliestMs - 2);
  }
}

describe('message pacing on stream connections', () => {
  it('over TCP: answers every pipelined request, no faster than the configured rate, and logs the episode once', async () => {
    const { ua, tcpPort, warnings } = await agent(RATE);
    const socket = net.connect({ host: '127.0.0.1', port: tcpPort });
    cleanups.push(() => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const counter = answerCounter();
    socket.on('data', (chunk: Buffer) => counter.take(chunk.toString('latin1')));
    let text = '';
    for (let i = 0; i < FLOOD; i++) text += optionsText(`pace-tcp-${i}`, 'TCP', socket.localPort!, tcpPort);
    const startMs = performance.now();
    socket.write(text);
    await waitFor(() => counter.answeredAtMs.length >= FLOOD, 30_000);
    expectRateHeld(startMs, counter.answeredAtMs);
    expect(ua.connectionGuard.stats.rateLimited).toBe(1);
    expect(ua.connectionGuard.statsByTransport.tcp.rateLimited).toBe(1);
    expect(warnings.filter((w) => w.msg.includes('more messages per second'))).toHaveLength(1);
    expect(socket.destroyed).toBe(false);
  });

  it("over several TCP connections from one source: holds them to the source's rate together, and another source is not held", async () => {
    // Each connection alone may go far faster: only the source's rate binds.
    const { ua, tcpPort } = await agent({
      maxMessagesPerSecond: 1000,
      messageBurst: 1000,
      maxMessagesPerSecondPerSource: RATE.maxMessagesPerSecond,
      messageBurstPerSource: RATE.messageBurst
    });
    const connect = async (localAddress: string): Promise<net.Socket> => {
      const socket = net.connect({ host: '127.0.0.1', port: tcpPort, localAddress });
      cleanups.push(() => void socket.destroy());
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const flooders = [await connect('127.0.0.2'), await connect('127.0.0.2'), await connect('127.0.0.2')];
    const counter = answerCounter();
    const answered: number[] = [];
    for (const socket of flooders) {
      const own = answerCounter();
      socket.on('data', (chunk: Buffer) => {
        const before = own.answeredAtMs.length;
        own.take(chunk.toString('latin1'));
        answered.push(...own.answeredAtMs.slice(before));
      });
    }
    const texts = flooders.map((socket, c) => {
      let text = '';
      for (let i = 0; i < FLOOD / flooders.length; i++)
        text += optionsText(`source-${c}-${i}`, 'TCP', socket.localPort!, tcpPort);
      return text;
    });
    const startMs = performance.now();
    flooders.forEach((socket, c) => socket.write(texts[c]));
    const other = await connect('127.0.0.3');
    other.on('data', (chunk: Buffer) => counter.take(chunk.toString('latin1')));
    other.write(optionsText('other-source', 'TCP', other.localPort!, tcpPort));
    await waitFor(() => counter.answeredAtMs.length === 1);
    expect(answered.length).toBeLessThan(FLOOD);
    await waitFor(() => answered.length >= FLOOD, 30_000);
    expectRateHeld(
      startMs,
      answered.sort((a, b) => a - b)
    );
    expect(ua.connectionGuard.statsByTransport.tcp.rateLimited).toBeGreaterThanOrEqual(1);
  });

  it('over WebSocket: answers every request sent at once, no faster than the configured rate, and logs the episode once', async () => {
    const { ua, wsUrl, warnings } = await agent(RATE);
    const client = await WsSipClient.connect(wsUrl);
    cleanups.push(() => client.close());
    const counter = answerCounter();
    client.socket.on('message', (data: Buffer) => counter.take(data.toString('latin1')));
    const startMs = performance.now();
    for (let i = 0; i < FLOOD; i++)
      client.send(client.request('OPTIONS', 'sip:room@127.0.0.1', { callId: `pace-ws-${i}` }));
    await waitFor(() => counter.answeredAtMs.length >= FLOOD, 30_000);
    expectRateHeld(startMs, counter.answeredAtMs);
    expect(ua.connectionGuard.statsByTransport.ws.rateLimited).toBe(1);
    expect(warnings.filter((w) => w.msg.includes('more messages per second'))).toHaveLength(1);
    expect(client.closeCode).toBeUndefined();
  });

  it("hands a pipelining connection's messages to the stack a few per event-loop turn, so other callbacks run between", async () => {
    let handled = 0;
    const { tcpPort } = await agent(
      { maxMessagesPerSecond: 1_000_000, messageBurst: 1_000_000 },
      () => handled++
    );
    const socket = net.connect({ host: '127.0.0.1', port: tcpPort });
    cleanups.push(() => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const counter = answerCounter();
    socket.on('data', (chunk: Buffer) => counter.take(chunk.toString('latin1')));
    const flood = 1000;
    let text = '';
    for (let i = 0; i < flood; i++) text += optionsText(`turns-${i}`, 'TCP', socket.localPort!, tcpPort);
    // One sample per event-loop turn (the check phase): how many messages the stack took since the last.
    let most = 0;
    let turns = 0;
    let last = handled;
    let sampling = true;
    const sample = (): void => {
      most = Math.max(most, handled - last);
      last = handled;
      turns++;
      if (sampling) setImmediate(sample);
    };
    setImmediate(sample);
    socket.write(text);
    await waitFor(() => counter.answeredAtMs.length >= flood, 60_000);
    sampling = false;
    expect(handled).toBeGreaterThanOrEqual(flood);
    // A turn's budget, plus one more when a new read starts in the turn the last batch ended.
    expect(most).toBeLessThanOrEqual(2 * MESSAGES_PER_TURN);
    expect(turns).toBeGreaterThanOrEqual(flood / (2 * MESSAGES_PER_TURN));
  });

  it('leaves a connection within its rate alone', async () => {
    const { ua, tcpPort, warnings } = await agent({ maxMessagesPerSecond: 1000, messageBurst: 100 });
    const socket = net.connect({ host: '127.0.0.1', port: tcpPort });
    cleanups.push(() => void socket.destroy());
    await new Promise((resolve) => socket.once('connect', resolve));
    const counter = answerCounter();
    socket.on('data', (chunk: Buffer) => counter.take(chunk.toString('latin1')));
    let text = '';
    for (let i = 0; i < 100; i++) text += optionsText(`calm-${i}`, 'TCP', socket.localPort!, tcpPort);
    socket.write(text);
    await waitFor(() => counter.answeredAtMs.length >= 100, 30_000);
    expect(ua.connectionGuard.stats.rateLimited).toBe(0);
    expect(warnings.filter((w) => w.msg.includes('more messages per second'))).toHaveLength(0);
  });
});
