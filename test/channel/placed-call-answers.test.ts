/**
 * How a call the engine places takes its callee's answer, over real SIP and RTP on loopback.
 *
 * Early media: a 183 with SDP, then the 200. RFC 3261 §13.2.1 has the answer in the 2xx; an SDP in an
 * unreliable provisional response is a copy of it ahead of time. Before, the 183's SDP was taken
 * as the answer, the 200's then met no offer waiting and the call failed with ACK and BYE: the
 * usual carrier pattern (ringback or announcements as early media, then the answer) never
 * connected. Now the 2xx's answer is the call's (a new one moves the media), and a 200 that
 * leaves it out keeps the 183's. A 180 with SDP is early media too (RFC 3960 §3, a gateway's
 * ringback): its SDP was ignored, and a 200 without SDP after it failed the call with ACK and BYE.
 *
 * A 200 whose remote target we cannot send the ACK to (its Contact names port 0): the call is not
 * taken (§13.2.2.4). Before, call() resolved ANSWERED while the callee, never ACKed,
 * retransmitted its 200 and gave the call up.
 *
 * A callee on a multi-homed host whose SDP names another of its interfaces than its 200 and its
 * RTP come from (baresip names its eth0 address, called on 127.0.0.1): its media is taken, as an
 * incoming call's from where its INVITE came. Before, every packet was a stranger's: the callee's
 * audio and DTMF were dropped for the whole call. RTP from an address neither named is still a
 * stranger's, and the log says so once (it showed only in a metric).
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cause, Engine, State } from '../../engine/index.js';
import type { SipRequest } from '../../sip/message/message.js';
import { responseTo } from '../support/sip-messages.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';
import { countingUdpPort } from '../support/counting-udp-port.js';
import { countingSocket, sendRtp } from '../support/raw-rtp.js';

let engine: Engine;
let sipPort: number;

/** The engine's warnings, as JSON lines. */
const warnings: string[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 58520, maxPort: 58559 },
    logger: pino(
      { level: 'warn' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          warnings.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        }
      })
    )
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

/** The callee's answer: PCMU and telephone-event at `host`:`port`. */
function answerSdp(port: number, version = 1, host = '127.0.0.1'): string {
  return [
    'v=0',
    `o=- 7 ${version} IN IP4 ${host}`,
    's=-',
    `c=IN IP4 ${host}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 101`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=sendrecv',
    ''
  ].join('\r\n');
}

/** The engine calls the callee: the channel, its call() and the INVITE the callee got. */
async function placeCall(
  callee: UdpTestPeer
): Promise<{ channel: ReturnType<Engine['createChannel']>; placing: Promise<State>; offer: SipRequest }> {
  const channel = engine.createChannel();
  const placing = channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: 10 });
  const offer = (await callee.next(isRequest('INVITE'), 10_000)) as SipRequest;
  return { channel, placing, offer };
}

/** The callee answers `offer` with `status`, `body` as its SDP if given, and `contact` (its own by default). */
async function respond(
  callee: UdpTestPeer,
  offer: SipRequest,
  status: number,
  body: string | undefined,
  contact = `<sip:bob@127.0.0.1:${callee.port}>`
): Promise<void> {
  const response = responseTo(offer, status, 'bob');
  response.add('Contact', contact);
  if (body !== undefined) {
    response.add('Content-Type', 'application/sdp');
    response.body = Buffer.from(body);
  }
  await callee.send(response.toBuffer(), sipPort);
}

/**
 * The engine calls the callee, which answers the INVITE with a 183 (or `provisional`) carrying
 * `early` and then a 200 carrying `final` (none when undefined). Resolves with the call's state,
 * the channel and the callee's INVITE once the callee has the ACK.
 */
async function earlyThenAnswer(
  callee: UdpTestPeer,
  early: string,
  final: string | undefined,
  provisional = 183
): Promise<{ state: State; channel: ReturnType<Engine['createChannel']>; offer: SipRequest }> {
  const { channel, placing, offer } = await placeCall(callee);
  await respond(callee, offer, provisional, early);
  await waitFor(() => channel.state === State.RING_OUTGOING);
  await respond(callee, offer, 200, final);
  const state = await placing;
  await callee.next(isRequest('ACK', offer.callId), 10_000);
  return { state, channel, offer };
}

/** Hangs the call up from the engine's side; the callee answers the BYE. */
async function hangUp(
  callee: UdpTestPeer,
  channel: ReturnType<Engine['createChannel']>,
  offer: SipRequest
): Promise<void> {
  const ended = channel.hangUp();
  const bye = (await callee.next(isRequest('BYE', offer.callId), 10_000)) as SipRequest;
  await callee.send(responseTo(bye, 200).toBuffer(), sipPort);
  await ended;
  await waitFor(() => engine.rtpPortsInUse === 0);
}

describe('a placed call with early media (183 with SDP, then 200)', () => {
  it('connects when the 200 repeats the 183 answer, and its media goes there', async () => {
    const callee = await new UdpTestPeer().open();
    const media = await countingUdpPort();
    try {
      const sdp = answerSdp(media.port);
      const { state, channel, offer } = await earlyThenAnswer(callee, sdp, sdp);
      expect(state).toBe(State.ANSWERED);
      expect(channel.cause()).toBe(Cause.NORMAL);
      await channel.sendDtmf('5');
      await waitFor(() => media.count() > 0);
      expect(callee.received.some((m) => isRequest('BYE', offer.callId)(m))).toBe(false);
      await hangUp(callee, channel, offer);
    } finally {
      media.close();
      await callee.close();
    }
  });

  it('takes the 200 answer when it differs from the 183 one: the media moves to it', async () => {
    const callee = await new UdpTestPeer().open();
    const [early, final] = [await countingUdpPort(), await countingUdpPort()];
    try {
      const { state, channel, offer } = await earlyThenAnswer(
        callee,
        answerSdp(early.port),
        answerSdp(final.port, 2)
      );
      expect(state).toBe(State.ANSWERED);
      const before = early.count();
      await channel.sendDtmf('7');
      await waitFor(() => final.count() > 0);
      expect(early.count()).toBe(before);
      await hangUp(callee, channel, offer);
    } finally {
      early.close();
      final.close();
      await callee.close();
    }
  });

  for (const provisional of [183, 180]) {
    it(`keeps the ${provisional} answer when the 200 carries none`, async () => {
      const callee = await new UdpTestPeer().open();
      const media = await countingUdpPort();
      try {
        const { state, channel, offer } = await earlyThenAnswer(
          callee,
          answerSdp(media.port),
          undefined,
          provisional
        );
        expect(state).toBe(State.ANSWERED);
        await channel.sendDtmf('9');
        await waitFor(() => media.count() > 0);
        await hangUp(callee, channel, offer);
      } finally {
        media.close();
        await callee.close();
      }
    });
  }
});

describe('a placed call whose 200 names a target the ACK cannot reach', () => {
  it('is not taken when its Contact names port 0', async () => {
    const callee = await new UdpTestPeer().open();
    const media = await countingUdpPort();
    try {
      const { channel, placing, offer } = await placeCall(callee);
      await respond(callee, offer, 200, answerSdp(media.port), '<sip:bob@127.0.0.1:0>');
      const state = await placing;
      expect(state).toBe(State.IDLE);
      expect(channel.cause()).toBe(Cause.FAILED);
      await waitFor(() => engine.rtpPortsInUse === 0);
    } finally {
      media.close();
      await callee.close();
    }
  });
});

describe('a placed call whose callee names another of its interfaces in its SDP', () => {
  it("takes the callee's RTP from where its 200 came from", async () => {
    const callee = await new UdpTestPeer().open();
    const media = await countingSocket('127.0.0.1');
    try {
      const { channel, placing, offer } = await placeCall(callee);
      // Its SDP names 127.0.0.9; its signalling and its packets leave from 127.0.0.1.
      await respond(callee, offer, 200, answerSdp(media.port, 1, '127.0.0.9'));
      expect(await placing).toBe(State.ANSWERED);
      const ourPort = Number(/^m=audio (\d+)/m.exec(offer.body.toString())![1]);
      await sendRtp(media.socket, ourPort, 10, 100);
      await waitFor(() => (channel.rtpStats()?.packetsReceived ?? 0) > 0);
      expect(channel.rtpStats()?.packetsFromOtherSources).toBe(0);
      await hangUp(callee, channel, offer);
    } finally {
      await media.close();
      await callee.close();
    }
  });
});

describe("a placed call whose callee's RTP comes from an address neither its SDP nor its 200 named", () => {
  it("is dropped as a stranger's, and the log says so once", async () => {
    const callee = await new UdpTestPeer().open();
    const elsewhere = await countingSocket('127.0.0.8');
    try {
      const { channel, placing, offer } = await placeCall(callee);
      await respond(callee, offer, 200, answerSdp(40_222));
      expect(await placing).toBe(State.ANSWERED);
      const ourPort = Number(/^m=audio (\d+)/m.exec(offer.body.toString())![1]);
      await sendRtp(elsewhere.socket, ourPort, 60, 500);
      const said = (): string[] => warnings.filter((l) => l.includes("none from the call's peer"));
      await waitFor(() => said().length > 0);
      await sendRtp(elsewhere.socket, ourPort, 60, 560);
      expect(said()).toHaveLength(1);
      expect(JSON.parse(said()[0])).toMatchObject({ callId: offer.callId, peer: '127.0.0.1' });
      expect(channel.rtpStats()?.packetsReceived).toBe(0);
      await hangUp(callee, channel, offer);
    } finally {
      await elsewhere.close();
      await callee.close();
    }
  });
});
