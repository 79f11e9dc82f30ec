/**
 * The 200 to an INVITE is sent again until the ACK comes over TCP as over UDP (RFC 3261
 * §13.3.1.4: "independent of whatever transport protocols are used"): the 2xx goes end to end,
 * and a proxy that takes it over TCP may carry it on over UDP, where only our retransmissions make
 * up for a loss. Before, over TCP the 200 went once and the caller behind such a proxy that lost
 * it heard nothing until our BYE 32 s later. T1 is 25 ms here (T2 100 ms).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import { connectStreamPeer } from '../support/stream-peer.js';
import { sipText } from '../support/sip-udp-peer.js';
import { testSdp } from '../support/sip-sdp.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['tcp'], timers: { t1Ms: 25, t2Ms: 100 } },
    rtp: { minPort: 61900, maxPort: 61949 },
    logLevel: 'silent',
    overloadGuard: false
  });
  engine.on('call', (channel) => void channel.answer().catch(() => undefined));
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await engine?.stop();
});

const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0;

describe('2xx retransmission over TCP', () => {
  it('sends the 200 again until the ACK, then stops', async () => {
    const peer = await connectStreamPeer(cleanups, { port });
    const { localPort } = peer.socket;
    const head = (method: string, cseq: number, toTag = ''): string[] => [
      `${method} sip:room@127.0.0.1:${port};transport=tcp SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.1:${localPort};branch=z9hG4bK-tcp2xx-${method}`,
      'Max-Forwards: 70',
      'From: <sip:caller@127.0.0.1>;tag=tcp2xx',
      `To: <sip:room@127.0.0.1:${port}>${toTag}`,
      'Call-ID: tcp-2xx-retransmission',
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:caller@127.0.0.1:${localPort};transport=tcp>`
    ];
    peer.socket.write(sipText([...head('INVITE', 1), 'Content-Type: application/sdp'], testSdp(40_100)));
    // 25, 75, 175 ms after the first: three more copies well before the ACK would be given up.
    await waitFor(() => count(peer.received(), /^SIP\/2\.0 200 /gm) >= 4, 10_000);
    const toTag = /^To: .*(;tag=[^\s;]+)/m.exec(peer.received())![1];
    peer.socket.write(sipText(head('ACK', 1, toTag)));
    await waitFor(() => engine.activeChannels().length === 1);
    const copies = count(peer.received(), /^SIP\/2\.0 200 /gm);
    // 64*T1 (1.6 s) later the call is still up and no copy came after the ACK.
    await new Promise((resolve) => setTimeout(resolve, 1700));
    expect(count(peer.received(), /^SIP\/2\.0 200 /gm)).toBeLessThanOrEqual(copies + 1);
    expect(peer.received()).not.toMatch(/^BYE /m);
    expect(engine.metrics.sipAckTimeouts.value).toBe(0);
  }, 30_000);
});
