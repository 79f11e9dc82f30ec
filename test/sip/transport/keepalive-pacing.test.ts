/**
 * CRLFs between messages (RFC 5626 keep-alive pings, RFC 3261 §7.5's stray CRLFs) cost a stream
 * connection's message rate as SIP messages do, over real TCP and WebSocket connections: a
 * request sent behind a flood of them is answered no sooner than the rate allows, and the
 * connection stays. Unpaid, a peer sending nothing but CRLFs was read as fast as it could write.
 * Assertions are lower bounds against the process's clock (a slow host only makes it later).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../../sip/transport/connection-guard.js';
import { SipUserAgent } from '../../../sip/user-agent.js';
import { sipText } from '../../support/sip-udp-peer.js';
import { maskedTextFrame, webSocketUpgradeRequest } from '../../support/raw-websocket.js';
import { waitFor } from '../../support/wait.js';

const HOST = '127.0.12.1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const RATE: Partial<ConnectionLimits> = { maxMessagesPerSecond: 50, messageBurst: 10 };
const FLOOD = 60;

async function agent(): Promise<{ ua: SipUserAgent; tcpPort: number; wsPort: number }> {
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'tcp', host: HOST, port: 0 },
      { protocol: 'ws', host: HOST, port: 0, ws: { path: '/sip' } }
    ],
    connections: RATE
  });
  await ua.start();
  cleanups.push(() => ua.close());
  const [tcp, ws] = ua.addresses();
  return { ua, tcpPort: tcp.port, wsPort: ws.port };
}

async function peer(port: number): Promise<{ socket: net.Socket; received: () => string }> {
  const socket = net.connect({ host: HOST, port, localAddress: '127.0.12.2' });
  cleanups.push(() => void socket.destroy());
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, received: () => text };
}

function options(callId: string, transport: 'TCP' | 'WS', port: number): string {
  return sipText([
    `OPTIONS sip:ping@${HOST} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.12.2:${port};branch=z9hG4bK-${callId}`,
    'Max-Forwards: 70',
    'From: <sip:t@127.0.12.2>;tag=a',
    `To: <sip:ping@${HOST}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 OPTIONS'
  ]);
}

/** The request after FLOOD messages' worth of CRLFs is answered no sooner than the rate allows. */
async function expectPaced(write: () => void, received: () => string): Promise<void> {
  const startMs = performance.now();
  write();
  await waitFor(() => received().includes('SIP/2.0 200 OK'), 30_000);
  const earliestMs = ((FLOOD + 1 - RATE.messageBurst!) * 1000) / RATE.maxMessagesPerSecond!;
  // 2 ms: the loop's timer clock and performance.now() are read at different moments.
  expect(performance.now() - startMs).toBeGreaterThanOrEqual(earliestMs - 2);
}

describe('CRLFs between messages cost the message rate', () => {
  it('over TCP: a request behind a flood of keep-alive pings waits its turn', async () => {
    const { ua, tcpPort } = await agent();
    const p = await peer(tcpPort);
    await expectPaced(
      () => p.socket.write('\r\n\r\n'.repeat(FLOOD) + options('tcp-pings', 'TCP', p.socket.localPort!)),
      p.received
    );
    expect(ua.connectionGuard.statsByTransport.tcp.rateLimited).toBe(1);
    expect(p.socket.destroyed).toBe(false);
  });

  it('over TCP: stray CRs, which make no ping, cost the rate as much', async () => {
    const { tcpPort } = await agent();
    const p = await peer(tcpPort);
    await expectPaced(
      () => p.socket.write('\r'.repeat(4 * FLOOD) + options('tcp-crs', 'TCP', p.socket.localPort!)),
      p.received
    );
  });

  it('over WebSocket: a request behind a flood of CRLF keep-alive messages waits its turn', async () => {
    const { ua, wsPort } = await agent();
    const p = await peer(wsPort);
    p.socket.write(webSocketUpgradeRequest(wsPort).replace('127.0.0.1', HOST));
    await waitFor(() => p.received().includes('\r\n\r\n'));
    expect(p.received()).toMatch(/^HTTP\/1\.1 101 /);
    const flood = Buffer.concat([
      ...Array.from({ length: FLOOD }, () => maskedTextFrame('\r\n\r\n')),
      maskedTextFrame(options('ws-crlfs', 'WS', p.socket.localPort!))
    ]);
    await expectPaced(() => p.socket.write(flood), p.received);
    expect(ua.connectionGuard.statsByTransport.ws.rateLimited).toBe(1);
    // One pong a second at most, however the flood is spread out by the pacing.
    expect(ua.connectionGuard.statsByTransport.ws.keepalivePongs).toBeGreaterThanOrEqual(1);
    expect(ua.connectionGuard.statsByTransport.ws.keepalivePongs).toBeLessThanOrEqual(2);
  });
});
