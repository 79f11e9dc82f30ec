/**
 * Bad input never takes the stack down: random datagrams, giant messages, TCP streams cut
 * mid-message, pipelined and fragmented TCP frames.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipResponse, type AnySipMessage } from '../../sip/message/message.js';
import { parseMessage } from '../../sip/message/parser.js';
import { StreamFramer, StreamFramingError } from '../../sip/transport/stream-framer.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { mulberry32, randomBytesSeeded } from '../support/sip-prng.js';
import { TcpTestPeer, UdpTestPeer, optionsText, sipText } from '../support/sip-udp-peer.js';
import { testSdp } from '../support/sip-sdp.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function agent(): Promise<{ ua: SipUserAgent; port: number }> {
  const ua = new SipUserAgent({
    transports: [
      { protocol: 'udp', host: '127.0.0.1', port: 0 },
      { protocol: 'tcp', host: '127.0.0.1', port: 0 }
    ],
    timers: { t1Ms: 50 }
  });
  await ua.start();
  cleanups.push(() => ua.close());
  return { ua, port: ua.addresses()[0].port };
}

const okFor = (callId: string) => (m: AnySipMessage) =>
  m instanceof SipResponse && m.callId === callId && m.status === 200;

describe('robustness against hostile input', () => {
  it('survives 500 seeded random datagrams and SIP-looking garbage, then answers OPTIONS', async () => {
    const { ua, port } = await agent();
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    const rand = mulberry32(4475);
    const template = Buffer.from(optionsText('template', 'UDP', peer.port, port));
    for (let i = 0; i < 500; i++) {
      let data: Buffer;
      if (i % 2 === 0) data = randomBytesSeeded(rand, 1 + Math.floor(rand() * 1400));
      else {
        // Mutate a valid request: flip bytes, truncate, or splice random bytes in.
        data = Buffer.from(template);
        const flips = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < flips; f++) data[Math.floor(rand() * data.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) data = data.subarray(0, Math.floor(rand() * data.length));
      }
      await peer.send(data, port);
      // Pace the flood a little so the kernel does not drop most of it before the agent reads.
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // Like any UDP client, retransmit the probe until it is answered.
    let answered = false;
    for (let attempt = 0; attempt < 5 && !answered; attempt++) {
      await peer.send(optionsText('after-garbage', 'UDP', peer.port, port), port);
      answered = await peer.next(okFor('after-garbage'), 500).then(
        () => true,
        () => false
      );
    }
    expect(answered).toBe(true);
    expect(ua.stats.received).toBeGreaterThan(100);
    expect(ua.stats.malformed).toBeGreaterThan(50);
  });

  it("answers 400 to an INVITE whose Contact names no SIP target (*, tel:, two of them), and takes RFC 2543's INVITE without one", async () => {
    const { ua, port } = await agent();
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    const offered: string[] = [];
    ua.on('invite', (invite) => {
      offered.push(invite.request.callId);
      void invite.reject(486);
    });
    const invite = (callId: string, contact: string[]): string =>
      sipText(
        [
          `INVITE sip:room1@127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${callId}`,
          'Max-Forwards: 70',
          'From: <sip:alice@127.0.0.1>;tag=caller',
          'To: <sip:room1@127.0.0.1>',
          `Call-ID: ${callId}`,
          'CSeq: 1 INVITE',
          ...contact,
          'Content-Type: application/sdp'
        ],
        testSdp(4000)
      );
    const answer = async (callId: string, contact: string[]): Promise<number> => {
      await peer.send(invite(callId, contact), port);
      const response = await peer.next(
        (m) => m instanceof SipResponse && m.callId === callId && m.status >= 200
      );
      return (response as SipResponse).status;
    };
    expect(await answer('contact-star', ['Contact: *'])).toBe(400);
    expect(await answer('contact-tel', ['Contact: <tel:+16505550100>'])).toBe(400);
    expect(await answer('contact-two', ['Contact: <sip:a@127.0.0.1>, <sip:b@127.0.0.1>'])).toBe(400);
    expect(
      await answer('contact-two-lines', ['Contact: <sip:a@127.0.0.1>', 'Contact: <sip:b@127.0.0.1>'])
    ).toBe(400);
    expect(offered).toEqual([]);
    expect(
      await answer('contact-quoted-comma', [`Contact: "Doe, Jane" <sip:jane@127.0.0.1:${peer.port}>`])
    ).toBe(486);
    expect(await answer('contact-none', [])).toBe(486);
    expect(offered).toEqual(['contact-quoted-comma', 'contact-none']);
  });

  it('answers a 60 kB datagram (one huge header line) with 513 Message Too Large and keeps serving', async () => {
    const { port } = await agent();
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    await peer.send(optionsText('giant', 'UDP', peer.port, port, [`X-Huge: ${'a'.repeat(60_000)}`]), port);
    await peer.next((m) => m instanceof SipResponse && m.callId === 'giant' && m.status === 513);
    await peer.send(optionsText('after-giant', 'UDP', peer.port, port), port);
    await peer.next(okFor('after-giant'));
  });

  it('drops a TCP connection that sends half a message and disconnects, and serves the next one', async () => {
    const { ua, port } = await agent();
    const half = await new TcpTestPeer().connect(port);
    await half.send(optionsText('half', 'TCP', 5060, port).slice(0, 120));
    half.close();
    const whole = await new TcpTestPeer().connect(port);
    cleanups.push(() => whole.close());
    await whole.send(optionsText('whole', 'TCP', whole.localPort, port));
    const ok = (await whole.next(okFor('whole'))) as SipResponse;
    expect(ok.getList('Via')[0]).toContain(`rport=${whole.localPort}`);
    expect(ua.activity.dialogs).toBe(0);
  });

  it('frames pipelined and byte-by-byte TCP messages by Content-Length', async () => {
    const { port } = await agent();
    const peer = await new TcpTestPeer().connect(port);
    cleanups.push(() => peer.close());
    const two =
      optionsText('pipe-1', 'TCP', peer.localPort, port) +
      '\r\n\r\n' +
      optionsText('pipe-2', 'TCP', peer.localPort, port);
    await peer.send(two);
    await peer.next(okFor('pipe-1'));
    await peer.next(okFor('pipe-2'));
    const third = Buffer.from(optionsText('pipe-3', 'TCP', peer.localPort, port));
    for (const byte of third) await peer.send(Buffer.from([byte]));
    await peer.next(okFor('pipe-3'));
  });

  it('closes a TCP connection whose Content-Length is not a number, without harm to others', async () => {
    const { port } = await agent();
    const bad = await new TcpTestPeer().connect(port);
    cleanups.push(() => bad.close());
    await bad.send(
      optionsText('bad-cl', 'TCP', bad.localPort, port).replace('Content-Length: 0', 'Content-Length: -5')
    );
    const good = await new TcpTestPeer().connect(port);
    cleanups.push(() => good.close());
    await good.send(optionsText('good-cl', 'TCP', good.localPort, port));
    await good.next(okFor('good-cl'));
  });

  it('answers 400 to two conflicting Content-Lengths and closes the connection, which no longer frames in step', async () => {
    const { port } = await agent();
    const peer = await new TcpTestPeer().connect(port);
    cleanups.push(() => peer.close());
    // Framed by the first value (50), the conflicting request would swallow the head of the next.
    const conflicting = optionsText('two-cl', 'TCP', peer.localPort, port).replace(
      'Content-Length: 0',
      'Content-Length: 50\r\nContent-Length: 0'
    );
    await peer.send(conflicting + optionsText('after-two-cl', 'TCP', peer.localPort, port));
    const answer = (await peer.next((m) => m instanceof SipResponse && m.callId === 'two-cl')) as SipResponse;
    expect(answer.status).toBe(400);
    await peer.closed;
    const next = await new TcpTestPeer().connect(port);
    cleanups.push(() => next.close());
    await next.send(optionsText('fresh', 'TCP', next.localPort, port));
    await next.next(okFor('fresh'));
  });
});

describe('StreamFramer', () => {
  it('skips CRLF keep-alives and holds a partial body until it is complete', () => {
    const framer = new StreamFramer();
    const msg = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 4\r\n\r\nbody';
    expect(framer.push(Buffer.from('\r\n\r\n' + msg.slice(0, 30)))).toEqual([]);
    const frames = framer.push(Buffer.from(msg.slice(30)));
    expect(frames.map((f) => f.toString())).toEqual([msg]);
    expect(framer.buffered).toBe(0);
  });

  it('refuses an endless header section', () => {
    const framer = new StreamFramer();
    expect(() => framer.push(Buffer.alloc(70_000, 0x61))).toThrow(StreamFramingError);
  });

  it('parses every frame it emits as the same message', () => {
    const framer = new StreamFramer();
    const body = 'v=0\r\n';
    const text = sipText(
      [
        'INFO sip:a@127.0.0.1 SIP/2.0',
        'Via: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>',
        'Call-ID: x',
        'CSeq: 1 INFO'
      ],
      body
    );
    const [frame] = framer.push(Buffer.from(text + text.slice(0, 10)));
    const parsed = parseMessage(frame, { datagram: false });
    expect(parsed.kind).toBe('request');
    expect(parsed.kind === 'request' && parsed.message.bodyText).toBe(body);
  });
});
