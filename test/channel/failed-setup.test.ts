/**
 * A call whose setup fails halfway gives back everything it took. MediaLeg used to throw after
 * binding its RTP ports and taking a DSP party slot (no room slot left for it), and nothing
 * released them: an INVITE flood that never ACKed lost thousands of port pairs and slots.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, State, type ResourceCounts, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { SipResponse } from '../../sip/message/message.js';

let engine: Engine | undefined;
const phones: TonePhone[] = [];

afterEach(async () => {
  for (const phone of phones.splice(0)) await phone.close();
  await engine?.stop();
  engine = undefined;
});

function held(
  e: Engine
): Pick<ResourceCounts, 'rtpPortPairs' | 'partySlots' | 'roomSlots' | 'channels' | 'rooms'> {
  const { rtpPortPairs, partySlots, roomSlots, channels, rooms } = e.resources();
  return { rtpPortPairs, partySlots, roomSlots, channels, rooms };
}

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts `engine` with `maxRooms` DSP room slots, answering every call; what it answered, and its SIP URI. */
async function answeringEngine(
  minPort: number,
  maxRooms: number
): Promise<{ started: Engine; answered: UASCallChannel[]; target: string }> {
  const started = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort, maxPort: minPort + 99 },
    dspSlots: { maxRooms }
  });
  engine = started;
  const answered: UASCallChannel[] = [];
  started.on('call', (channel) => {
    answered.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await started.start();
  return { started, answered, target: `sip:room@127.0.0.1:${started.sipAddresses()[0].port}` };
}

const NONE = { rtpPortPairs: 0, partySlots: 0, roomSlots: 0, channels: 0, rooms: 0 };

describe('a call whose media setup fails', () => {
  it('releases its RTP ports and party slot when no DSP room slot is left (503), and the call that holds the slot is undisturbed', async () => {
    const { started: e, answered, target } = await answeringEngine(43000, 1);
    const first = await TonePhone.create({ toneHz: 440 });
    phones.push(first);
    await first.call(target);
    expect(held(e)).toEqual({ rtpPortPairs: 1, partySlots: 1, roomSlots: 1, channels: 1, rooms: 0 });

    for (let i = 0; i < 3; i++) {
      const refused = await TonePhone.create({ toneHz: 440 });
      phones.push(refused);
      await expect(refused.call(target)).rejects.toMatchObject({ status: 503 });
      expect(held(e)).toEqual({ rtpPortPairs: 1, partySlots: 1, roomSlots: 1, channels: 1, rooms: 0 });
    }
    expect(answered).toHaveLength(1);
    expect(first.ended).toBe(false);

    await first.hangUp();
    await until(() => e.resources().channels === 0, 'the first call to end');
    expect(held(e)).toEqual(NONE);
  }, 30_000);

  it('a transfer into a new room with no DSP room slot left fails, leaves no room behind, and works once a slot is free', async () => {
    const { started: e, answered, target } = await answeringEngine(39900, 2);
    for (let i = 0; i < 2; i++) {
      const phone = await TonePhone.create({ toneHz: 440 });
      phones.push(phone);
      await phone.call(target);
    }
    await until(
      () => answered.length === 2 && answered.every((c) => c.state === State.ANSWERED),
      'two calls'
    );
    const [a, b] = answered;
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(a.transferToConferenceRoom(e.createChannel(), 'full1')).rejects.toThrow(
        /could not be set up/
      );
      expect(e.rooms.has('full1')).toBe(false);
    }
    await b.hangUp();
    await until(() => e.resources().roomSlots === 1, 'the second call to free its slot');
    expect(await a.transferToConferenceRoom(e.createChannel(), 'full1')).toBe(State.TRANSFERRED);
  }, 30_000);

  it('releases everything when the caller never ACKs the 200 OK (timer H, over a real UDP socket)', async () => {
    engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: 40, t2Ms: 160 } },
      rtp: { minPort: 43100, maxPort: 43199 }
    });
    engine.on('call', (channel) => void channel.answer().catch(() => undefined));
    await engine.start();
    const port = engine.sipAddresses()[0].port;
    const peer = await new UdpTestPeer().open();
    try {
      for (let i = 0; i < 5; i++) {
        const sdp = [
          'v=0',
          'o=- 1 1 IN IP4 127.0.0.1',
          's=-',
          'c=IN IP4 127.0.0.1',
          't=0 0',
          `m=audio ${40000 + 2 * i} RTP/AVP 0`,
          'a=rtpmap:0 PCMU/8000',
          ''
        ].join('\r\n');
        await peer.send(
          sipText(
            [
              `INVITE sip:room@127.0.0.1:${port} SIP/2.0`,
              `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKnoack${i}`,
              'Max-Forwards: 70',
              `From: <sip:flood@127.0.0.1>;tag=f${i}`,
              `To: <sip:room@127.0.0.1:${port}>`,
              `Call-ID: noack-${i}@127.0.0.1`,
              'CSeq: 1 INVITE',
              `Contact: <sip:flood@127.0.0.1:${peer.port}>`,
              'Content-Type: application/sdp'
            ],
            sdp
          ),
          port
        );
      }
      for (let i = 0; i < 5; i++) {
        await peer.next(
          (m) => m instanceof SipResponse && m.status === 200 && m.callId === `noack-${i}@127.0.0.1`,
          10_000
        );
      }
      expect(engine.resources().rtpPortPairs).toBe(5);
      // 64·T1 = 2.56 s without ACK: the engine gives up on each call and frees what it held.
      await until(
        () => engine!.resources().channels === 0 && engine!.resources().rtpPortPairs === 0,
        'the unacknowledged calls to be dropped'
      );
      expect(held(engine)).toEqual(NONE);
    } finally {
      await peer.close();
    }
  }, 30_000);

  it('a call cancelled while its RTP ports are bound reaches the application not at all, and leaves no ring timer', async () => {
    // A host name for RTP makes binding wait for a lookup, so the CANCEL sent right behind each
    // INVITE is read before the call's media exists.
    engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: 20, t4Ms: 100 } },
      rtp: { host: 'localhost', minPort: 57200, maxPort: 57299 },
      logLevel: 'silent'
    });
    const offered: State[] = [];
    engine.on('call', (channel) => offered.push(channel.state));
    await engine.start();
    const port = engine.sipAddresses()[0].port;
    const timersBefore = engine.resources().timers;
    const peer = await new UdpTestPeer().open();
    const CALLS = 6;
    try {
      for (let i = 0; i < CALLS; i++) {
        const head = (method: string): string[] => [
          `${method} sip:room@127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKcancelled${i}`,
          'Max-Forwards: 70',
          `From: <sip:quick@127.0.0.1>;tag=q${i}`,
          `To: <sip:room@127.0.0.1:${port}>`,
          `Call-ID: cancelled-${i}@127.0.0.1`,
          `CSeq: 1 ${method}`
        ];
        const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${40000 + 2 * i} RTP/AVP 0\r\n`;
        await peer.send(
          sipText(
            [
              ...head('INVITE'),
              `Contact: <sip:quick@127.0.0.1:${peer.port}>`,
              'Content-Type: application/sdp'
            ],
            sdp
          ),
          port
        );
        await peer.send(sipText(head('CANCEL')), port);
        const final = (await peer.next(
          (m) => m instanceof SipResponse && m.status >= 300 && m.callId === `cancelled-${i}@127.0.0.1`,
          10_000
        )) as SipResponse;
        expect(final.status).toBe(487);
        await peer.send(
          sipText([
            ...head('ACK').slice(0, 4),
            `To: <sip:room@127.0.0.1:${port}>;tag=${final.toTag}`,
            ...head('ACK').slice(5)
          ]),
          port
        );
      }
      // Whatever reached the application was still ringing; a cancelled call is not offered.
      expect(offered.every((state) => state === State.CALL_INCOMING)).toBe(true);
      await until(() => engine!.resources().channels === 0, 'the cancelled calls to end');
      // Each ring timer (180 s) outlived its call: one left per cancelled call.
      await until(() => engine!.resources().timers <= timersBefore + 1, 'the timers to settle');
      expect(held(engine)).toEqual(NONE);
    } finally {
      await peer.close();
    }
  }, 30_000);
});
