/**
 * Offers and answers whose media address is of a family the engine's RTP sockets cannot reach,
 * over real SIP and RTP on loopback (IPv4 127.0.0.1 and IPv6 ::1). Before, an engine on an IPv4
 * address answered an IPv6-only offer with 200 OK and `c=IN IP4`: the call connected and stayed
 * silent both ways, its sends to the IPv6 address failing. Now such an offer gets 488 with
 * `Warning: 301` (RFC 3261 §20.43) as soon as the INVITE comes (nothing rings, the application
 * never sees the call), a re-INVITE moving to it gets the same and the call goes on, an offer that
 * also has a stream we reach is answered on that one, and an answer to our own offer that names
 * the other family ends the call with BYE. An engine on :: (dual stack) answers an offer in the
 * offer's family, whichever family its SIP came over: before, in the SIP peer's.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cause, Engine, State, type UASCallChannel } from '../../engine/index.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { responseTo } from '../support/sip-messages.js';
import { UdpTestPeer, isRequest, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';
import { countingUdpPort, type CountingUdpPort } from '../support/counting-udp-port.js';

interface Bound {
  engine: Engine;
  host: string;
  sipPort: number;
  calls: UASCallChannel[];
  answers: Promise<unknown>[];
}

async function startOn(host: string, minPort: number, maxPort: number): Promise<Bound> {
  const engine = new Engine({
    sip: { host, port: 0, transports: ['udp'] },
    rtp: { minPort, maxPort },
    logLevel: 'silent'
  });
  const bound: Bound = { engine, host, sipPort: 0, calls: [], answers: [] };
  // As the meet-me app does: ring, then answer.
  engine.on('call', (channel) => {
    bound.calls.push(channel);
    const answering = channel.ring().then(() => channel.answer());
    answering.catch(() => undefined);
    bound.answers.push(answering);
  });
  await engine.start();
  bound.sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
  return bound;
}

let ipv4: Bound;
let ipv6: Bound;
let dualStack: Bound;

beforeAll(async () => {
  ipv4 = await startOn('127.0.0.1', 58400, 58439);
  ipv6 = await startOn('::1', 58440, 58479);
  dualStack = await startOn('::', 58480, 58519);
});

afterAll(async () => {
  await ipv4?.engine.stop();
  await ipv6?.engine.stop();
  await dualStack?.engine.stop();
});

/** An audio SDP body; each stream is `[address type, address, port]` with its own c= line. */
function sdp(...streams: ['IP4' | 'IP6', string, number][]): string {
  const [type, address] = streams[0];
  return [
    'v=0',
    `o=- 1 1 IN ${type} ${address}`,
    's=-',
    't=0 0',
    ...streams.flatMap(([t, a, port]) => [
      `m=audio ${port} RTP/AVP 0`,
      `c=IN ${t} ${a}`,
      'a=rtpmap:0 PCMU/8000',
      'a=sendrecv'
    ]),
    ''
  ].join('\r\n');
}

/** Where a peer reaches an engine bound to `host`: the loopback address of the peer's own family for a wildcard. */
const engineHost = (bound: Bound, peer: UdpTestPeer): string =>
  bound.host === '::' ? (peer.host.includes(':') ? '::1' : '127.0.0.1') : bound.host;

/** A host as a Via or URI names it: an IPv6 address in brackets (RFC 5118). */
const uriHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

function requestLines(
  bound: Bound,
  peer: UdpTestPeer,
  method: string,
  callId: string,
  cseq: number,
  to: string
): string[] {
  const me = `${uriHost(peer.host)}:${peer.port}`;
  return [
    `${method} sip:room@${uriHost(engineHost(bound, peer))}:${bound.sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${me};branch=z9hG4bK-${callId}-${method}-${cseq};rport`,
    'Max-Forwards: 70',
    `From: <sip:raw@${me}>;tag=caller`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    `Contact: <sip:raw@${me}>`
  ];
}

const finalTo = (method: string, cseq: number) => (m: unknown) =>
  m instanceof SipResponse && m.status >= 200 && m.cseq.seq === cseq && m.cseq.method === method;

/** Sends an INVITE (or re-INVITE) with `body` and returns the final response, ACKed. */
async function invite(
  bound: Bound,
  peer: UdpTestPeer,
  callId: string,
  body: string,
  cseq = 1,
  to = `<sip:room@${uriHost(engineHost(bound, peer))}:${bound.sipPort}>`
): Promise<SipResponse> {
  const lines = [...requestLines(bound, peer, 'INVITE', callId, cseq, to), 'Content-Type: application/sdp'];
  await peer.send(sipText(lines, body), bound.sipPort);
  const response = (await peer.next(finalTo('INVITE', cseq), 10_000)) as SipResponse;
  const ackTo = response.get('To')!;
  await peer.send(sipText(requestLines(bound, peer, 'ACK', callId, cseq, ackTo)), bound.sipPort);
  return response;
}

/** Hangs `channel` up, answering its BYE as the caller `peer`. */
async function hangUp(channel: UASCallChannel, peer: UdpTestPeer, bound: Bound): Promise<void> {
  const hangingUp = channel.hangUp();
  const bye = (await peer.next(isRequest('BYE'), 10_000)) as SipRequest;
  await peer.send(responseTo(bye, 200).toBuffer(), bound.sipPort);
  await hangingUp;
}

/** The ports of an SDP body's m= lines. */
function mediaPorts(body: string): number[] {
  return [...body.matchAll(/^m=audio (\d+) /gm)].map((m) => Number(m[1]));
}

/** Twenty PCMU packets of silence from `socket` to `port` on `host`. */
async function sendRtp(socket: dgram.Socket, host: string, port: number): Promise<void> {
  for (let seq = 0; seq < 20; seq++) {
    const packet = Buffer.alloc(172, 0xff);
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt16BE(seq, 2);
    packet.writeUInt32BE(seq * 160, 4);
    packet.writeUInt32BE(0x1234, 8);
    socket.send(packet, port, host);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Call `index` of `bound`, answered: RTP reaches the engine from `media` (on `host`) at `port`, the
 * engine's reaches `media`, and the call is hung up.
 */
async function expectAudioBothWays(
  bound: Bound,
  index: number,
  peer: UdpTestPeer,
  media: RtpPort,
  host: string,
  port: number
): Promise<void> {
  await bound.answers[index];
  await sendRtp(media.socket, host, port);
  await waitFor(() => media.count() > 0, 10_000);
  expect(bound.calls[index].rtpStats()?.packetsReceived).toBeGreaterThan(0);
  await hangUp(bound.calls[index], peer, bound);
}

type RtpPort = CountingUdpPort;

/** Runs `test` with a caller: a SIP peer on `sipHost` and its RTP port on `mediaHost`, both closed after. */
async function withCaller(
  sipHost: string,
  mediaHost: string,
  test: (peer: UdpTestPeer, media: RtpPort) => Promise<void>
): Promise<void> {
  const peer = await new UdpTestPeer().open(sipHost);
  const media = await countingUdpPort(mediaHost);
  try {
    await test(peer, media);
  } finally {
    media.socket.close();
    await peer.close();
  }
}

describe('a media address of a family our RTP cannot reach', () => {
  it('an IPv4 engine refuses an IPv6-only offer with 488 and Warning 301 at once: no ringing, no call, no port', async () => {
    const peer = await new UdpTestPeer().open();
    try {
      const before = ipv4.calls.length;
      const response = await invite(ipv4, peer, 'v6-offer', sdp(['IP6', '::1', 40000]));
      expect(response.status).toBe(488);
      expect(response.getAll('Warning')).toEqual(['301 uasmedia "Incompatible network address formats"']);
      // Refused when the INVITE came: the application never heard of it, and nothing rang.
      expect(ipv4.calls.length).toBe(before);
      expect(peer.received.some((m) => m instanceof SipResponse && m.status === 180)).toBe(false);
      expect(ipv4.engine.activeChannels().length).toBe(0);
      expect(ipv4.engine.rtpPortsInUse).toBe(0);
    } finally {
      await peer.close();
    }
  });

  it('an offer with no codec in common is refused with Warning 305', async () => {
    const peer = await new UdpTestPeer().open();
    try {
      const body = sdp(['IP4', '127.0.0.1', 40000])
        .replace('RTP/AVP 0', 'RTP/AVP 18')
        .replace('0 PCMU', '18 G729');
      const before = ipv4.calls.length;
      const response = await invite(ipv4, peer, 'no-codec', body);
      expect(response.status).toBe(488);
      expect(response.getAll('Warning')).toEqual(['305 uasmedia "Incompatible media format"']);
      expect(ipv4.calls.length).toBe(before);
    } finally {
      await peer.close();
    }
  });

  it('of an offer with an IPv6 and an IPv4 stream, the IPv4 one is answered and carries the audio', async () => {
    await withCaller('127.0.0.1', '127.0.0.1', async (peer, media) => {
      const before = ipv4.calls.length;
      const response = await invite(
        ipv4,
        peer,
        'v6-and-v4',
        sdp(['IP6', '::1', 40000], ['IP4', '127.0.0.1', media.port])
      );
      expect(response.status).toBe(200);
      const [first, second] = mediaPorts(response.bodyText);
      expect(first).toBe(0);
      expect(second).toBeGreaterThanOrEqual(58400);
      expect(response.bodyText).toMatch(/^c=IN IP4 127\.0\.0\.1\r$/m);
      await expectAudioBothWays(ipv4, before, peer, media, '127.0.0.1', second);
    });
  });

  it('a re-INVITE moving the audio to IPv6 gets 488 with Warning 301, and the call goes on', async () => {
    await withCaller('127.0.0.1', '127.0.0.1', async (peer, media) => {
      const before = ipv4.calls.length;
      const ok = await invite(ipv4, peer, 'v6-reinvite', sdp(['IP4', '127.0.0.1', media.port]));
      expect(ok.status).toBe(200);
      await ipv4.answers[before];
      const channel = ipv4.calls[before];
      const refused = await invite(ipv4, peer, 'v6-reinvite', sdp(['IP6', '::1', 40000]), 2, ok.get('To')!);
      expect(refused.status).toBe(488);
      expect(refused.getAll('Warning')).toEqual(['301 uasmedia "Incompatible network address formats"']);
      expect(channel.state).toBe(State.ANSWERED);
      const sent = media.count();
      await waitFor(() => media.count() > sent + 10, 10_000);
      await hangUp(channel, peer, ipv4);
    });
  });

  it('an engine on ::1 refuses an IPv4-only offer, and answers an IPv6 one with c=IN IP6 and audio both ways', async () => {
    await withCaller('::1', '::1', async (peer, media) => {
      const refused = await invite(ipv6, peer, 'v4-offer-to-v6', sdp(['IP4', '127.0.0.1', 40000]));
      expect(refused.status).toBe(488);
      expect(refused.getAll('Warning')).toEqual(['301 uasmedia "Incompatible network address formats"']);

      const before = ipv6.calls.length;
      const ok = await invite(ipv6, peer, 'v6-offer-to-v6', sdp(['IP6', '::1', media.port]));
      expect(ok.status).toBe(200);
      expect(ok.bodyText).toMatch(/^c=IN IP6 ::1\r$/m);
      await expectAudioBothWays(ipv6, before, peer, media, '::1', mediaPorts(ok.bodyText)[0]);
    });
  });

  it("an answer to the engine's offer that names IPv6 ends the call with BYE, and call() ends FAILED", async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const channel = ipv4.engine.createChannel();
      const placing = channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: 10 });
      const offer = (await callee.next(isRequest('INVITE'), 10_000)) as SipRequest;
      const ok = responseTo(offer, 200, 'bob');
      ok.add('Contact', `<sip:bob@127.0.0.1:${callee.port}>`);
      ok.add('Content-Type', 'application/sdp');
      ok.body = Buffer.from(sdp(['IP6', '::1', 40000]));
      await callee.send(ok.toBuffer(), ipv4.sipPort);
      expect(await placing).toBe(State.IDLE);
      expect(channel.cause()).toBe(Cause.FAILED);
      await callee.next(isRequest('ACK', offer.callId), 10_000);
      const bye = (await callee.next(isRequest('BYE', offer.callId), 10_000)) as SipRequest;
      await callee.send(responseTo(bye, 200).toBuffer(), ipv4.sipPort);
      await waitFor(() => ipv4.engine.rtpPortsInUse === 0);
    } finally {
      await callee.close();
    }
  });

  it('an engine on :: answers each offer in its own family, whatever SIP came over, with audio both ways', async () => {
    for (const [sipHost, mediaHost, type] of [
      ['127.0.0.1', '::1', 'IP6'],
      ['::1', '127.0.0.1', 'IP4']
    ] as const) {
      await withCaller(sipHost, mediaHost, async (peer, media) => {
        const before = dualStack.calls.length;
        const ok = await invite(dualStack, peer, `dual-${type}`, sdp([type, mediaHost, media.port]));
        expect(ok.status).toBe(200);
        expect(ok.bodyText).toContain(`c=IN ${type} ${mediaHost}\r\n`);
        await expectAudioBothWays(dualStack, before, peer, media, mediaHost, mediaPorts(ok.bodyText)[0]);
      });
    }
  });
});
