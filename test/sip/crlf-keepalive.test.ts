/**
 * CRLF keep-alive over TCP and TLS (RFC 5626 §3.5.1, §4.4.1), over real sockets: a double CRLF
 * between messages is answered with a single CRLF, however it is split across writes; a lone
 * CRLF (RFC 3261 §7.5) is skipped unanswered; a flood of pings gets one pong a second and no
 * more; pings are activity, so a connection that only pings is not idle.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionLimits } from '../../sip/transport/connection-guard.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { hasPeer } from '../support/peers.js';
import { sipText } from '../support/sip-udp-peer.js';
import { makeTestCertificate } from '../support/tls-certificate.js';
import { connectStreamPeer, type StreamPeer } from '../support/stream-peer.js';
import { sleep, waitFor } from '../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Protocol = 'tcp' | 'tls';

async function agent(protocol: Protocol, connections: Partial<ConnectionLimits> = {}): Promise<SipUserAgent> {
  let spec: ConstructorParameters<typeof SipUserAgent>[0]['transports'][number] = {
    protocol: 'tcp',
    host: '127.0.0.1',
    port: 0
  };
  if (protocol === 'tls') {
    const certificate = makeTestCertificate();
    cleanups.push(() => certificate.remove());
    spec = {
      protocol: 'tls',
      host: '127.0.0.1',
      port: 0,
      tls: { cert: certificate.cert, key: certificate.key }
    };
  }
  const ua = new SipUserAgent({ transports: [spec], connections });
  await ua.start();
  cleanups.push(() => ua.close());
  return ua;
}

function connect(ua: SipUserAgent, protocol: Protocol): Promise<StreamPeer> {
  return connectStreamPeer(cleanups, { port: ua.addresses()[0].port, tls: protocol === 'tls' });
}

let calls = 0;
/** Sends an OPTIONS and waits for its 200; returns what arrived before that 200. */
async function options(peer: StreamPeer, protocol: Protocol): Promise<string> {
  const callId = `crlf-${++calls}`;
  const from = peer.received().length;
  peer.socket.write(
    sipText([
      'OPTIONS sip:ping@127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/${protocol.toUpperCase()} 127.0.0.1:${peer.socket.localPort};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:t@127.0.0.1>;tag=a',
      'To: <sip:ping@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS'
    ])
  );
  await waitFor(() => peer.received().includes(`Call-ID: ${callId}`));
  const text = peer.received().slice(from);
  expect(text).toMatch(/SIP\/2\.0 200 OK/);
  return text.slice(0, text.indexOf('SIP/2.0 200'));
}

const pongs = (text: string): number => text.split('\r\n').length - 1;

for (const protocol of ['tcp', 'tls'] as const) {
  describe(`CRLF keep-alive over ${protocol.toUpperCase()}`, () => {
    it('answers a double CRLF with one CRLF, split across writes or not, and skips a lone CRLF', async (ctx) => {
      if (protocol === 'tls' && !hasPeer('openssl')) return ctx.skip();
      const ua = await agent(protocol);
      // A lone CRLF on a fresh connection (no pong sent yet, so the rate cap cannot hide one).
      const lone = await connect(ua, protocol);
      lone.socket.write('\r\n');
      expect(await options(lone, protocol)).toBe('');
      const whole = await connect(ua, protocol);
      whole.socket.write('\r\n\r\n');
      await waitFor(() => whole.received() === '\r\n');
      const split = await connect(ua, protocol);
      split.socket.write('\r\n\r');
      await sleep(50);
      expect(split.received()).toBe('');
      split.socket.write('\n');
      await waitFor(() => split.received() === '\r\n');
      // The connection goes on carrying SIP, and the pong came before any answer.
      expect(await options(split, protocol)).toBe('');
      expect(ua.connectionGuard.statsByTransport[protocol].keepalivePongs).toBe(2);
      expect(ua.stats.malformed).toBe(0);
    });

    it('answers a ping between two messages sent in one write', async (ctx) => {
      if (protocol === 'tls' && !hasPeer('openssl')) return ctx.skip();
      const ua = await agent(protocol);
      const peer = await connect(ua, protocol);
      await options(peer, protocol);
      peer.socket.write('\r\n\r\n');
      await waitFor(() => peer.received().endsWith('\r\n\r\n\r\n'));
      expect(ua.connectionGuard.statsByTransport[protocol].keepalivePongs).toBe(1);
    });

    it('answers a flood of pings once a second at most, and counts the rest as dropped', async (ctx) => {
      if (protocol === 'tls' && !hasPeer('openssl')) return ctx.skip();
      // Pings cost the message rate (keepalive-pacing.test.ts): lifted here, where the pongs are counted.
      const unlimited = 1_000_000;
      const ua = await agent(protocol, {
        maxMessagesPerSecond: unlimited,
        messageBurst: unlimited,
        maxMessagesPerSecondPerSource: unlimited,
        messageBurstPerSource: unlimited
      });
      const peer = await connect(ua, protocol);
      peer.socket.write('\r\n\r\n'.repeat(10_000));
      for (let i = 0; i < 10; i++) peer.socket.write('\r\n\r\n'.repeat(1000));
      // Everything before the answer to a later request has been read by then. The flood is
      // read within milliseconds: one pong (two only if the host stalled a second meanwhile).
      const answered = pongs(await options(peer, protocol));
      const stats = ua.connectionGuard.statsByTransport[protocol];
      expect(answered).toBeGreaterThanOrEqual(1);
      expect(answered).toBeLessThanOrEqual(2);
      expect(stats.keepalivePongs).toBe(answered);
      expect(stats.keepalivePingsDropped).toBe(20_000 - answered);
      // A second later a ping is answered again.
      await sleep(1100);
      peer.socket.write('\r\n\r\n');
      await waitFor(() => stats.keepalivePongs === answered + 1);
      await waitFor(() => peer.received().endsWith('\r\n\r\n'));
    });

    it('counts pings as activity: a connection that only pings outlives the idle timeout, a silent one does not', async (ctx) => {
      if (protocol === 'tls' && !hasPeer('openssl')) return ctx.skip();
      const ua = await agent(protocol, { idleTimeoutMs: 800 });
      const pinging = await connect(ua, protocol);
      const silent = await connect(ua, protocol);
      while (!silent.isClosed()) {
        pinging.socket.write('\r\n\r\n');
        await sleep(100);
      }
      // Several idle periods more on pings alone.
      for (let i = 0; i < 30; i++) {
        pinging.socket.write('\r\n\r\n');
        await sleep(100);
      }
      expect(pinging.isClosed()).toBe(false);
      const stats = ua.connectionGuard.statsByTransport[protocol];
      expect(stats.closedIdle).toBe(1);
      // Over three seconds of pings, one pong a second at most: each one reached the peer.
      await options(pinging, protocol);
      const beforeAnswer = pinging.received().slice(0, pinging.received().indexOf('SIP/2.0'));
      expect(pongs(beforeAnswer)).toBe(stats.keepalivePongs);
      expect(stats.keepalivePongs).toBeGreaterThanOrEqual(2);
    });
  });
}
