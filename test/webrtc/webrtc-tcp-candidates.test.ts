/**
 * A browser's offer may not make the engine open TCP connections to addresses it names. Before,
 * @roamhq/wrtc connected from each of its TCP host candidates to every TCP candidate of the offer
 * and kept the connection for the call (one offer of 32 such candidates: 64 connections to ports
 * of the caller's choosing). The offer's TCP candidates are dropped; its UDP ones still get checks.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPeerConnections } from '../../engine/webrtc/webrtc-peer.js';
import { browserOffer } from '../support/browser-offer.js';
import { waitFor } from '../support/wait.js';
import { startBrowserEngine, type BrowserEngine } from '../support/websocket-browser-engine.js';

const TARGET = '127.0.6.2';
let setup: BrowserEngine;
let tcpTarget: net.Server;
let udpTarget: dgram.Socket;
let connections = 0;
let checks = 0;

beforeAll(async () => {
  setup = await startBrowserEngine(
    { minPort: 36200, maxPort: 36299 },
    { portRange: { min: 36300, max: 36399 } }
  );
  tcpTarget = net.createServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.destroy();
  });
  await new Promise<void>((resolve) => tcpTarget.listen(0, TARGET, () => resolve()));
  udpTarget = dgram.createSocket('udp4');
  udpTarget.on('message', () => checks++);
  await new Promise<void>((resolve) => udpTarget.bind(0, TARGET, () => resolve()));
});

afterAll(async () => {
  await setup?.stop();
  udpTarget?.close();
  await new Promise((resolve) => tcpTarget?.close(resolve));
  expect(openPeerConnections()).toBe(0);
});

describe("a browser offer's ICE candidates", () => {
  it('sends checks to its UDP candidate and opens no connection to its TCP ones', async () => {
    const tcpPort = (tcpTarget.address() as net.AddressInfo).port;
    // The TCP candidates rank first, so their pairs would be made before the UDP one's are checked.
    const candidates = [
      `a=candidate:1 1 tcp 2122260223 ${TARGET} ${tcpPort} typ host tcptype passive`,
      `a=candidate:2 1 TCP 2122260222 ${TARGET} ${tcpPort} typ host tcptype so`,
      `a=candidate:3 1 udp 1 ${TARGET} ${udpTarget.address().port} typ host`
    ];
    const final = await setup.inviteRoom(browserOffer(candidates), 'tcp-cands');
    expect(final.status).toBe(200);
    await waitFor(() => checks >= 3);
    expect(connections).toBe(0);
  }, 30_000);
});
