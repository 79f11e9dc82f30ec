/**
 * Hostile sizes over real sockets: the inputs that used to stall the engine (a 4 kB datagram of
 * spaces, a header name padded with 60 000 spaces over TCP) are answered or dropped while the
 * agent keeps answering OPTIONS, and each size limit earns the answer limits.ts documents.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import { parseMessage } from '../../sip/message/parser.js';
import {
  DEFAULT_MESSAGE_LIMITS,
  resolveMessageLimits,
  type SipMessageLimits
} from '../../sip/message/limits.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { TcpTestPeer, UdpTestPeer, optionsHeaders, optionsText } from '../support/sip-udp-peer.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function agent(limits?: Partial<SipMessageLimits>): Promise<{ ua: SipUserAgent; port: number }> {
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'tcp', host: '127.0.0.1', port: 0 }
    ],
    limits
  });
  await ua.start();
  cleanups.push(() => ua.close());
  return { ua, port: ua.addresses()[0].port };
}

const answer = (callId: string, status: number) => (m: AnySipMessage) =>
  m instanceof SipResponse && m.callId === callId && m.status === status;

async function udpPeer(): Promise<UdpTestPeer> {
  const peer = await new UdpTestPeer().open();
  cleanups.push(() => peer.close());
  return peer;
}

async function tcpPeer(port: number): Promise<TcpTestPeer> {
  const peer = await new TcpTestPeer().connect(port);
  cleanups.push(() => peer.close());
  return peer;
}

/** UDP can lose a datagram on a busy host: send until answered, like any UDP client. */
async function probeUdp(peer: UdpTestPeer, port: number, callId: string): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    await peer.send(optionsText(callId, 'UDP', peer.port, port), port);
    const ok = await peer.next(answer(callId, 200), 1000).then(
      () => true,
      () => false
    );
    if (ok) return;
  }
  throw new Error(`OPTIONS ${callId} never answered`);
}

describe('hostile sizes over UDP', () => {
  it('drops the 4 kB datagram of INVITE, 4000 spaces and x, twenty times over, and answers OPTIONS between them', async () => {
    const { ua, port } = await agent();
    const peer = await udpPeer();
    const hostile = Buffer.from(
      `INVITE${' '.repeat(4000)}x\r\n${optionsHeaders('spaces', 'UDP', peer.port).join('\r\n')}\r\n\r\n`
    );
    expect(hostile.length).toBeGreaterThan(4000);
    for (let round = 0; round < 20; round++) {
      const before = ua.stats.malformed;
      await peer.send(hostile, port);
      await probeUdp(peer, port, `between-${round}`);
      expect(ua.stats.malformed).toBeGreaterThan(before);
    }
    expect(peer.received.filter((m) => m.callId === 'spaces')).toEqual([]);
  });

  it('answers 400 to a Request-Line padded with 4000 spaces that still ends in SIP/2.0', async () => {
    const { port } = await agent();
    const peer = await udpPeer();
    const text = `OPTIONS${' '.repeat(4000)}sip:ping@127.0.0.1 SIP/2.0\r\n${optionsHeaders('padded', 'UDP', peer.port).join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
    await peer.send(text, port);
    await peer.next(answer('padded', 400), 5000);
    await probeUdp(peer, port, 'after-padded');
  });

  it('drops a datagram larger than maxMessageBytes unread and answers 513 to too many header fields', async () => {
    const { ua, port } = await agent({ maxMessageBytes: 4000, maxHeaderCount: 20 });
    const peer = await udpPeer();
    const big = optionsText('too-big', 'UDP', peer.port, port, [`X-Pad: ${'p'.repeat(5000)}`]);
    const before = ua.stats.malformed;
    await peer.send(big, port);
    const many = optionsText(
      'too-many',
      'UDP',
      peer.port,
      port,
      Array.from({ length: 30 }, (_, i) => `X-H${i}: ${i}`)
    );
    await peer.send(many, port);
    await peer.next(answer('too-many', 513), 5000);
    await probeUdp(peer, port, 'after-limits');
    expect(ua.stats.malformed).toBeGreaterThan(before);
    expect(peer.received.filter((m) => m.callId === 'too-big')).toEqual([]);
  });
});

describe('hostile sizes over TCP', () => {
  it('answers 513 to a header name padded with 60 000 spaces, closes that connection, and serves another meanwhile', async () => {
    const { port } = await agent();
    const hostile = await tcpPeer(port);
    const bystander = await tcpPeer(port);
    const padded = optionsText('padded-name', 'TCP', hostile.localPort, port, [`X${' '.repeat(60_000)}: 1`]);
    const sending = hostile.send(padded).catch(() => undefined);
    await bystander.send(optionsText('bystander-1', 'TCP', bystander.localPort, port));
    await bystander.next(answer('bystander-1', 200), 5000);
    const refused = (await hostile.next(answer('padded-name', 513), 5000)) as SipResponse;
    expect(refused.reason).toBe(`header section longer than ${DEFAULT_MESSAGE_LIMITS.maxHeaderBytes} bytes`);
    await sending;
    await hostile.closed;
    await bystander.send(optionsText('bystander-2', 'TCP', bystander.localPort, port));
    await bystander.next(answer('bystander-2', 200), 5000);
  });

  it('parses the 60 000-space header name when the limits allow it, and answers 200', async () => {
    const { port } = await agent({
      maxHeaderBytes: 100_000,
      maxLineBytes: 100_000,
      maxMessageBytes: 100_000
    });
    const peer = await tcpPeer(port);
    await peer.send(optionsText('allowed-pad', 'TCP', peer.localPort, port, [`X${' '.repeat(60_000)}: 1`]));
    await peer.next(answer('allowed-pad', 200), 5000);
  });

  it('answers 413 to a body over maxBodyBytes and closes the connection', async () => {
    const { port } = await agent({ maxBodyBytes: 1000 });
    const peer = await tcpPeer(port);
    const body = 'x'.repeat(2000);
    const sending = peer
      .send(optionsText('big-body', 'TCP', peer.localPort, port, ['Content-Type: text/plain'], body))
      .catch(() => undefined);
    await peer.next(answer('big-body', 413), 5000);
    await sending;
    await peer.closed;
  });
});

describe('limits in the parser', () => {
  it('answers 513 for an over-long header line and a header section over maxHeaderBytes, 414 for a long Request-Line, 413 for a body', () => {
    const limits = resolveMessageLimits({ maxLineBytes: 100, maxHeaderBytes: 400, maxBodyBytes: 10 });
    const long = parseMessage(Buffer.from(optionsText('l', 'UDP', 1, 2, [`X-Long: ${'a'.repeat(200)}`])), {
      datagram: true,
      limits
    });
    expect(long.kind === 'request' && long.error?.status).toBe(513);
    const head = parseMessage(
      Buffer.from(
        optionsText(
          'h',
          'UDP',
          1,
          2,
          Array.from({ length: 10 }, (_, i) => `X-${i}: ${'b'.repeat(50)}`)
        )
      ),
      { datagram: true, limits }
    );
    expect(head.kind === 'request' && head.error?.status).toBe(513);
    const body = parseMessage(
      Buffer.from(optionsText('b', 'UDP', 1, 2, ['Content-Type: text/plain'], 'x'.repeat(11))),
      { datagram: true, limits }
    );
    expect(body.kind === 'request' && body.error?.status).toBe(413);
    const uri = parseMessage(
      Buffer.from(optionsText('u', 'UDP', 1, 2).replace('sip:ping@', `sip:${'p'.repeat(200)}@`)),
      { datagram: true, limits }
    );
    expect(uri.kind === 'request' && uri.error?.status).toBe(414);
    const fine = parseMessage(
      Buffer.from(optionsText('f', 'UDP', 1, 2, ['Content-Type: text/plain'], 'x'.repeat(10))),
      { datagram: true, limits }
    );
    expect(fine.kind === 'request' && fine.error).toBeUndefined();
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => resolveMessageLimits({ maxLineBytes: 0 })).toThrow(RangeError);
    expect(() => resolveMessageLimits({ maxBodyBytes: 1.5 })).toThrow(/maxBodyBytes/);
  });
});
