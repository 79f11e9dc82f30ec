/**
 * The options of the channel's waits, `call()` and `waitForTransferredCallRetrieval()`, over real
 * SIP and RTP on loopback: a `secondsTimeout` no Node timer can hold is refused before anything
 * happens (such a timer fires at once, which read as NOANSWER), and an abort signal counts
 * whether it aborts during the wait or before it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConferencePartyMediaSettings, Engine, State, type UASCallChannel } from '../../engine/index.js';
import { SipRequest } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { sleep, waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
let incoming: UASCallChannel[];

/** Negative, not finite, past Node's 2^31-1 ms timer limit: RangeError everywhere. */
const OUT_OF_RANGE = [-1, Number.NaN, Infinity, -Infinity, 2_147_483.648];

beforeAll(async () => {
  ({ engine, sipPort, incoming } = await startAnsweringEngine({ minPort: 39500, maxPort: 39599 }));
});

afterAll(async () => {
  await engine?.stop();
});

describe('call() secondsTimeout', () => {
  it('refuses a timeout no timer can hold (RangeError, TypeError), and places no call', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const channel = engine.createChannel();
      const changes: State[] = [];
      channel.on('stateChange', ({ state }) => changes.push(state));
      // 0 too: a call that may not ring at all is a mistake (or 0 meant "no limit", which is null).
      const refused: [unknown, typeof RangeError][] = [
        ...[0, ...OUT_OF_RANGE].map((v): [unknown, typeof RangeError] => [v, RangeError]),
        ['60', TypeError]
      ];
      for (const [secondsTimeout, kind] of refused) {
        await expect(
          channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: secondsTimeout as number })
        ).rejects.toBeInstanceOf(kind);
        expect(channel.state).toBe(State.IDLE);
      }
      await sleep(300);
      expect(callee.received).toEqual([]);
      expect(changes).toEqual([]);

      // null still means no limit: this call leaves, and ends on the callee's 486.
      const placed = channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: null });
      const invite = (await callee.next(
        (m) => m instanceof SipRequest && m.method === 'INVITE'
      )) as SipRequest;
      const busy = [
        'SIP/2.0 486 Busy Here',
        ...invite.getAll('Via').map((v) => `Via: ${v}`),
        `From: ${invite.get('From')}`,
        `To: ${invite.get('To')};tag=busy`,
        `Call-ID: ${invite.callId}`,
        `CSeq: ${invite.get('CSeq')}`
      ];
      await callee.send(sipText(busy), sipPort);
      expect(await placed).toBe(State.IDLE);
      expect(changes[0]).toBe(State.CALL_OUTGOING);
    } finally {
      await callee.close();
    }
  });
});

/** `phone` calls in; resolves with the engine's channel once it has answered. */
async function answeredCall(phone: TonePhone): Promise<UASCallChannel> {
  const before = incoming.length;
  await phone.call(`sip:app@127.0.0.1:${sipPort}`);
  await waitFor(() => incoming.length > before && incoming[before].state === State.ANSWERED);
  return incoming[before];
}

/** A phone calls in, is answered, and is transferred into room `roomName`; `run` then has its channel. */
async function withTransferredCall(
  roomName: string,
  run: (channel: UASCallChannel) => Promise<void>
): Promise<void> {
  const phone = await TonePhone.create({ toneHz: null });
  try {
    const channel = await answeredCall(phone);
    const state = await channel.transferToConferenceRoom(engine.createChannel(), roomName, {
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
    });
    expect(state).toBe(State.TRANSFERRED);
    await run(channel);
    expect(await channel.retrieveTransferredCall()).toBe(State.ANSWERED);
  } finally {
    await phone.close();
  }
  await waitFor(() => engine.rooms.size === 0);
}

describe('waitForTransferredCallRetrieval options', () => {
  it('refuses a timeout no timer can hold with RangeError; 0 returns at once; the call stays transferred', async () => {
    await withTransferredCall('waits1', async (channel) => {
      for (const secondsTimeout of OUT_OF_RANGE) {
        await expect(channel.waitForTransferredCallRetrieval({ secondsTimeout })).rejects.toBeInstanceOf(
          RangeError
        );
      }
      expect(await channel.waitForTransferredCallRetrieval({ secondsTimeout: 0 })).toBe(State.TRANSFERRED);
      expect(channel.state).toBe(State.TRANSFERRED);
    });
  });

  it('ends the wait at once on a signal aborted before the call, as on one aborted during it', async () => {
    await withTransferredCall('waits2', async (channel) => {
      const during = new AbortController();
      const waiting = channel.waitForTransferredCallRetrieval({ signal: during.signal });
      during.abort();
      expect(await waiting).toBe(State.TRANSFERRED);

      const settled = await Promise.race([
        channel.waitForTransferredCallRetrieval({ signal: AbortSignal.abort() }),
        sleep(1000).then(() => 'still waiting')
      ]);
      expect(settled).toBe(State.TRANSFERRED);
      expect(channel.state).toBe(State.TRANSFERRED);
    });
  });
});

describe('transferToConferenceRoom secondsTimeout', () => {
  it('refuses one no timer can hold with RangeError, before any room or leg exists', async () => {
    const phone = await TonePhone.create({ toneHz: null });
    try {
      const channel = await answeredCall(phone);
      const leg = engine.createChannel();
      // Past Node's longest timer: the wait for the room would have timed out at once.
      await expect(
        channel.transferToConferenceRoom(leg, 'waits3', { secondsTimeout: 2_147_483.648 })
      ).rejects.toBeInstanceOf(RangeError);
      expect(channel.state).toBe(State.ANSWERED);
      expect(leg.state).toBe(State.IDLE);
      expect(engine.rooms.size).toBe(0);
      await channel.hangUp();
    } finally {
      await phone.close();
    }
  });
});
