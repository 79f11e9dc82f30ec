/**
 * transferToConferenceRoom with its full semantics, each behaviour on its own, over real SIP and
 * RTP on loopback: test phones call the engine, the test plays the application.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import {
  Engine,
  State,
  TransferCause,
  ConferencePartyMediaSettings,
  ConferenceLifetimeControl,
  InvalidArgumentError,
  InvalidStateError,
  AnnouncementError,
  UASCallChannel
} from '../../engine/index.js';
import { fileURLToPath } from 'node:url';
import { TonePhone } from '../support/tone-phone.js';
import { loudestDbfs, rmsDbfs, toneLevelDb } from '../support/tone-analysis.js';
import { sleep, waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
const incoming: UASCallChannel[] = [];
const phones: TonePhone[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 32000, maxPort: 32999 },
    promptFolder: fileURLToPath(new URL('../fixtures/wav/', import.meta.url))
  });
  engine.on('call', (channel) => {
    incoming.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await waitFor(() => engine.rooms.size === 0);
  incoming.length = 0;
});

afterAll(async () => {
  await engine?.stop();
});

/** A phone calls in; resolves with the engine's answered channel for it. */
async function caller(
  toneHz: number | null = null,
  user = 'caller'
): Promise<{ phone: TonePhone; channel: UASCallChannel }> {
  const phone = await TonePhone.create({ toneHz, user });
  phones.push(phone);
  const before = incoming.length;
  await phone.call(`sip:app@127.0.0.1:${sipPort}`);
  await waitFor(() => incoming.length > before && incoming[before].state === State.ANSWERED);
  return { phone, channel: incoming[before] };
}

function quietSettings(): ConferencePartyMediaSettings {
  return new ConferencePartyMediaSettings({ beepOnEntry: false });
}

describe('transferToConferenceRoom', () => {
  it('creates the room on first use and transfers the party', async () => {
    const { channel } = await caller();
    const other = engine.createChannel();
    expect(engine.rooms.has('first1')).toBe(false);
    const state = await channel.transferToConferenceRoom(other, 'first1', {
      conferencePartyMediaSettings: quietSettings()
    });
    expect(state).toBe(State.TRANSFERRED);
    expect(channel.transferCause()).toBe(TransferCause.NORMAL);
    expect(other.state).toBe(State.ANSWERED);
    expect(engine.rooms.has('first1')).toBe(true);
    // The leg is ANSWERED but carries no call of its own: what needs one is refused, typed.
    await expect(other.playText('hello')).rejects.toThrow(/conference leg and carries no call/);
    await expect(other.sendDtmf('1')).rejects.toBeInstanceOf(InvalidStateError);
    await expect(other.transferToConferenceRoom(engine.createChannel(), 'first2')).rejects.toBeInstanceOf(
      InvalidStateError
    );
  });

  it('rejects a room name that is not alphanumeric before any leg is placed', async () => {
    const { channel } = await caller();
    const other = engine.createChannel();
    for (const name of ['a b', 'room-1', '', 'caf\u00e9', 'x'.repeat(65)]) {
      await expect(channel.transferToConferenceRoom(other, name)).rejects.toBeInstanceOf(
        InvalidArgumentError
      );
    }
    expect(other.state).toBe(State.IDLE);
    expect(channel.state).toBe(State.ANSWERED);
    expect(engine.rooms.size).toBe(0);
  });

  it('rejects a transfer from a channel that is not answered, and an otherCall that is busy', async () => {
    const { channel } = await caller();
    const idle = engine.createChannel();
    await expect(idle.transferToConferenceRoom(engine.createChannel(), 'r1')).rejects.toMatchObject({
      code: 'ERR_HANGUP'
    });
    const busy = engine.createChannel();
    const t = channel.transferToConferenceRoom(busy, 'busy1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      secondsTimeout: 5
    });
    await waitFor(() => busy.state === State.RING_OUTGOING);
    const second = await caller();
    await expect(second.channel.transferToConferenceRoom(busy, 'busy1')).rejects.toBeInstanceOf(
      InvalidStateError
    );
    await channel.retrieveTransferredCall();
    await t;
  });

  it("refuses another engine's channel as otherCall, and an object that only looks like a channel", async () => {
    const { channel } = await caller();
    const elsewhere = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: 33000, maxPort: 33099 }
    });
    await elsewhere.start();
    try {
      // Taken, it was a leg of that engine and a party of this one: stopping that engine ended this call.
      await expect(
        channel.transferToConferenceRoom(elsewhere.createChannel(), 'cross1')
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      await elsewhere.stop();
    }
    const lookalike = Object.create(UASCallChannel.prototype) as UASCallChannel;
    await expect(channel.transferToConferenceRoom(lookalike, 'cross1')).rejects.toThrow(
      /otherCall must be a UASCallChannel/
    );
    expect(channel.state).toBe(State.ANSWERED);
    expect(engine.rooms.size).toBe(0);
  });

  it('refuses a signal that is not an AbortSignal before anything starts, and the channel goes on as it was', async () => {
    const { channel } = await caller();
    const fake = {} as AbortSignal;
    const refused = /signal must be an AbortSignal, got an object/;
    // getDigits used to start collecting first: every later getDigits was refused, and hangUp threw.
    await expect(channel.getDigits({ count: 1, signal: fake })).rejects.toThrow(refused);
    await expect(channel.record('refused.wav', { signal: fake })).rejects.toThrow(refused);
    await expect(channel.playText('hello', { signal: fake })).rejects.toThrow(refused);
    await expect(channel.playFile('beep.wav', { signal: fake })).rejects.toThrow(refused);
    const leg = engine.createChannel();
    await expect(channel.transferToConferenceRoom(leg, 'signal1', { signal: fake })).rejects.toThrow(refused);
    expect(leg.state).toBe(State.IDLE);
    expect(await channel.getDigits({ count: 1, secondsTimeout: 0.2 })).toBe('');
    const state = await channel.transferToConferenceRoom(leg, 'signal1', {
      conferencePartyMediaSettings: quietSettings()
    });
    expect(state).toBe(State.TRANSFERRED);
    await channel.hangUp();
    expect(channel.state).toBe(State.IDLE);
  });

  it('rings the leg until a startOnEntry party enters; the waiting party then enters too', async () => {
    const a = await caller();
    const legA = engine.createChannel();
    const waiting = a.channel.transferToConferenceRoom(legA, 'ring1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: quietSettings()
    });
    await waitFor(() => legA.state === State.RING_OUTGOING);
    expect(a.channel.state).toBe(State.TRANSFERRING);
    // While waiting the caller hears ringback (440 + 480 Hz, 2 s on, 4 s off): waited for, not
    // sampled at a fixed time that a slow host could push into the off part.
    a.phone.clearReceived();
    await waitFor(() => {
      const heard = a.phone.receivedPcm();
      return toneLevelDb(heard, 440, 8000) > -40 && toneLevelDb(heard, 480, 8000) > -40;
    }, 15_000);
    expect(a.channel.state).toBe(State.TRANSFERRING);

    const b = await caller();
    const legB = engine.createChannel();
    expect(
      await b.channel.transferToConferenceRoom(legB, 'ring1', {
        conferencePartyMediaSettings: quietSettings()
      })
    ).toBe(State.TRANSFERRED);
    expect(await waiting).toBe(State.TRANSFERRED);
    expect(legA.state).toBe(State.ANSWERED);
  });

  it('times out, returns to ANSWERED with TIMEOUT and leaves no room or leg behind', async () => {
    const { channel } = await caller();
    const other = engine.createChannel();
    const state = await channel.transferToConferenceRoom(other, 'timeout1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      secondsTimeout: 0.5
    });
    expect(state).toBe(State.ANSWERED);
    expect(channel.transferCause()).toBe(TransferCause.TIMEOUT);
    expect(other.state).toBe(State.IDLE);
    expect(other.cause()).toBe('TIMEOUT');
    expect(engine.rooms.size).toBe(0);
    // The channel's audio path is its own again.
    await channel.playText('still here');
  });

  it('ends the leg when the original caller hangs up while it rings', async () => {
    const { phone, channel } = await caller();
    const other = engine.createChannel();
    const result = channel.transferToConferenceRoom(other, 'hangup1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      secondsTimeout: null
    });
    await waitFor(() => other.state === State.RING_OUTGOING);
    await phone.hangUp();
    expect(await result).toBe(State.IDLE);
    expect(channel.transferCause()).toBe(TransferCause.HANGUP);
    expect(other.state).toBe(State.IDLE);
    expect(engine.rooms.size).toBe(0);
  });

  it('a party retrieved while it rings leaves the room as retrieved, not hung up', async () => {
    const { channel } = await caller();
    const other = engine.createChannel();
    const result = channel.transferToConferenceRoom(other, 'ringret1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      secondsTimeout: null
    });
    await waitFor(() => other.state === State.RING_OUTGOING);
    const left: string[] = [];
    engine.rooms.get('ringret1')!.on('partyLeft', ({ reason }) => left.push(reason));
    await channel.retrieveTransferredCall();
    expect(await result).toBe(State.ANSWERED);
    expect(left).toEqual(['retrieved']);
  });

  it('refuses play and record once transferred; allows hangUp and retrieval', async () => {
    const { channel } = await caller();
    await channel.transferToConferenceRoom(engine.createChannel(), 'locked1', {
      conferencePartyMediaSettings: quietSettings()
    });
    await expect(channel.playText('hello')).rejects.toBeInstanceOf(InvalidStateError);
    await expect(channel.record('/tmp/never.wav')).rejects.toBeInstanceOf(InvalidStateError);
    await expect(channel.getDigits()).rejects.toBeInstanceOf(InvalidStateError);
    expect(await channel.retrieveTransferredCall()).toBe(State.ANSWERED);
  });

  it('plays a prompt asked for before the transfer whose speech is ready only after it, as one playing then', async () => {
    const { phone, channel } = await caller();
    phone.clearReceived();
    // Text no cache holds: its speech is made in a worker, turns after the transfer has begun.
    const prompt = channel.playText(`Speech ready after the transfer, number ${process.hrtime.bigint()}.`);
    const transferred = channel.transferToConferenceRoom(engine.createChannel(), 'lateprompt1', {
      conferencePartyMediaSettings: quietSettings()
    });
    expect(channel.state).not.toBe(State.ANSWERED);
    await prompt; // it was refused with InvalidStateError (TRANSFERRED, expected ANSWERED)
    expect(loudestDbfs(phone.receivedPcm(), 8000)).toBeGreaterThan(-30);
    expect(await transferred).toBe(State.TRANSFERRED);
    expect(await channel.retrieveTransferredCall()).toBe(State.ANSWERED);
  });

  it('retrieves the party on its exit digit; the channel can then play and transfer again', async () => {
    const { phone, channel } = await caller();
    const media = new ConferencePartyMediaSettings({ beepOnEntry: false, exitOnDtmfDigit: '#' });
    await channel.transferToConferenceRoom(engine.createChannel(), 'exit1', {
      conferencePartyMediaSettings: media
    });
    const back = channel.waitForTransferredCallRetrieval({ secondsTimeout: 5 });
    await phone.infoDigit('#');
    expect(await back).toBe(State.ANSWERED);
    expect(engine.rooms.has('exit1')).toBe(false);
    await channel.playText('goodbye');
    expect(await channel.transferToConferenceRoom(engine.createChannel(), 'exit2')).toBe(State.TRANSFERRED);
  });

  it('destroyOnExit ends the conference and retrieves everyone else', async () => {
    const guest = await caller();
    const other = await caller();
    const chair = await caller();
    const guestIn = guest.channel.transferToConferenceRoom(engine.createChannel(), 'destroy1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: quietSettings()
    });
    const otherIn = other.channel.transferToConferenceRoom(engine.createChannel(), 'destroy1', {
      conferencePartyMediaSettings: quietSettings()
    });
    const chairMedia = new ConferencePartyMediaSettings({ beepOnEntry: false, exitOnDtmfDigit: '*' });
    await chair.channel.transferToConferenceRoom(engine.createChannel(), 'destroy1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true, destroyOnExit: true }),
      conferencePartyMediaSettings: chairMedia
    });
    expect(await guestIn).toBe(State.TRANSFERRED);
    expect(await otherIn).toBe(State.TRANSFERRED);
    const guestBack = guest.channel.waitForTransferredCallRetrieval({ secondsTimeout: 5 });
    const otherBack = other.channel.waitForTransferredCallRetrieval({ secondsTimeout: 5 });
    await chair.phone.infoDigit('*');
    expect(await guestBack).toBe(State.ANSWERED);
    expect(await otherBack).toBe(State.ANSWERED);
    expect(chair.channel.state).toBe(State.ANSWERED);
    expect(engine.rooms.has('destroy1')).toBe(false);
  });

  it(
    'plays prefix + entry to the room when a party enters, and prefix + exit when it leaves',
    { timeout: 180_000 },
    async () => {
      const host = await caller(null, 'host');
      await host.channel.transferToConferenceRoom(engine.createChannel(), 'prompts1', {
        conferencePartyMediaSettings: quietSettings()
      });
      await sleep(400);
      host.phone.clearReceived();
      await sleep(400);
      const silence = rmsDbfs(host.phone.receivedPcm());

      const george = await caller(null, 'george');
      const media = new ConferencePartyMediaSettings({ beepOnEntry: false, exitOnDtmfDigit: '#' });
      media.prefixMedia.textToSay('george');
      media.onEntryMedia.textToSay('has joined');
      media.onExitMedia.textToSay('has left');
      host.phone.clearReceived();
      await george.channel.transferToConferenceRoom(engine.createChannel(), 'prompts1', {
        conferencePartyMediaSettings: media
      });
      // Synthesis and playback run at the host's pace: wait (generously) until the room hears it.
      await waitFor(() => loudestDbfs(host.phone.receivedPcm(), 8000) > -40, 60_000);
      const entryDb = loudestDbfs(host.phone.receivedPcm(), 8000);
      console.log(`room silence ${silence.toFixed(1)} dBFS, entry announcement ${entryDb.toFixed(1)} dBFS`);
      expect(entryDb).toBeGreaterThan(silence + 20);

      host.phone.clearReceived();
      await george.phone.infoDigit('#');
      await waitFor(() => loudestDbfs(host.phone.receivedPcm(), 8000) > -40, 60_000); // "george" "has left"
      expect(loudestDbfs(host.phone.receivedPcm(), 8000)).toBeGreaterThan(silence + 20);
    }
  );

  it("a party's entry file that is missing fails while an earlier announcement is synthesised, and only that announcement is lost", async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    engine.on('error', onError);
    try {
      const host = await caller(null, 'host');
      const first = new ConferencePartyMediaSettings({ beepOnEntry: false });
      first.onEntryMedia.textToSay('a long entry announcement that takes a while to synthesise');
      await host.channel.transferToConferenceRoom(engine.createChannel(), 'annfail1', {
        conferencePartyMediaSettings: first
      });
      const guest = await caller(null, 'guest');
      const second = new ConferencePartyMediaSettings({ beepOnEntry: false });
      second.onEntryMedia.fileToPlay('no-such-prompt.wav');
      await guest.channel.transferToConferenceRoom(engine.createChannel(), 'annfail1', {
        conferencePartyMediaSettings: second
      });
      // Reported to the application, not thrown at the process (vitest fails a run on that).
      await waitFor(() => errors.length > 0, 60_000);
      expect(String(errors[0])).toMatch(/no-such-prompt/);
      expect(host.channel.state).toBe(State.TRANSFERRED);
      expect(guest.channel.state).toBe(State.TRANSFERRED);
    } finally {
      engine.off('error', onError);
    }
  });

  it("a party's prefix file outside the prompt folder: the rest of its entry announcement plays, and the error names the room and the channel", async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    engine.on('error', onError);
    try {
      const host = await caller(null, 'host');
      await host.channel.transferToConferenceRoom(engine.createChannel(), 'badpart1', {
        conferencePartyMediaSettings: quietSettings()
      });
      const guest = await caller(null, 'guest');
      const media = quietSettings();
      media.prefixMedia.fileToPlay('../../etc/passwd');
      media.onEntryMedia.fileToPlay('tone-8000-s16.wav');
      host.phone.clearReceived();
      expect(
        await guest.channel.transferToConferenceRoom(engine.createChannel(), 'badpart1', {
          conferencePartyMediaSettings: media
        })
      ).toBe(State.TRANSFERRED);
      // The entry file still plays to the room: the host hears its 440 Hz tone.
      await waitFor(() => toneLevelDb(host.phone.receivedPcm(), 440, 8000) > -30);
      await waitFor(() => errors.length > 0);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(AnnouncementError);
      expect(errors[0]).toMatchObject({
        code: 'ERR_ANNOUNCEMENT_FAILED',
        roomName: 'badpart1',
        channelId: guest.channel.id,
        kind: 'entry',
        cause: { code: 'ERR_FILE_ACCESS', reason: 'OUTSIDE_FOLDER', path: '../../etc/passwd' }
      });
    } finally {
      engine.off('error', onError);
    }
  });

  it('a waiting caller who hangs up in the turn the room starts is not put into it, and the room goes on', async () => {
    const [x, y, z] = [await caller(440, 'x'), await caller(null, 'y'), await caller(null, 'z')];
    const waiting = y.channel.transferToConferenceRoom(engine.createChannel(), 'race1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: quietSettings()
    });
    await waitFor(() => y.channel.state === State.TRANSFERRING && engine.rooms.get('race1')?.size === 1);
    const starting = x.channel.transferToConferenceRoom(engine.createChannel(), 'race1', {
      conferencePartyMediaSettings: quietSettings()
    });
    await y.channel.hangUp(); // in the same turn as the room's start
    expect(await starting).toBe(State.TRANSFERRED);
    expect(await waiting).toBe(State.IDLE);
    expect(y.channel.state).toBe(State.IDLE);
    expect(engine.rooms.get('race1')?.parties.map((p) => p.label)).toEqual([x.channel.id]);
    // The room still mixes: a newcomer hears the talker.
    await z.channel.transferToConferenceRoom(engine.createChannel(), 'race1', {
      conferencePartyMediaSettings: quietSettings()
    });
    await waitFor(() => toneLevelDb(z.phone.receivedPcm(), 440, 8000) > -30, 30_000);
  });

  it('a waiting party whose room starts and is destroyed in one turn comes back, and the transfer resolves', async () => {
    // A startOnEntry+destroyOnExit party retrieved in the turn it entered: the waiting party's
    // transfer used to reject with an internal error (the room had no media left to enter).
    const [a, b] = [await caller(null, 'wa'), await caller(null, 'wb')];
    const waiting = a.channel.transferToConferenceRoom(engine.createChannel(), 'race2', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: quietSettings(),
      secondsTimeout: 20
    });
    await waitFor(() => engine.rooms.get('race2')?.size === 1);
    const starting = b.channel.transferToConferenceRoom(engine.createChannel(), 'race2', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true, destroyOnExit: true }),
      conferencePartyMediaSettings: quietSettings()
    });
    const retrieving = b.channel.retrieveTransferredCall();
    expect(await waiting).toBe(State.ANSWERED);
    expect(a.channel.transferCause()).toBe(TransferCause.TARGETHANGUP);
    await starting;
    await retrieving;
    expect(engine.rooms.has('race2')).toBe(false);
  });

  it('a transfer whose room a waiting destroyOnExit party ends in the same turn resolves with the channel state', async () => {
    // The starter entered, then the room was destroyed as the waiting party was retrieved, all before
    // the transfer's promise resumed: it resolved TRANSFERRED on an ANSWERED channel, and the spec's
    // example then had waitForTransferredCallRetrieval() throw InvalidStateError.
    const [a, b] = [await caller(null, 'da'), await caller(null, 'db')];
    const waiting = a.channel.transferToConferenceRoom(engine.createChannel(), 'race5', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false, destroyOnExit: true }),
      conferencePartyMediaSettings: quietSettings(),
      secondsTimeout: 20
    });
    await waitFor(() => engine.rooms.get('race5')?.size === 1);
    const retrieving = a.channel.retrieveTransferredCall();
    const starting = b.channel.transferToConferenceRoom(engine.createChannel(), 'race5', {
      conferencePartyMediaSettings: quietSettings()
    });
    expect(await waiting).toBe(State.ANSWERED);
    await retrieving;
    const state = await starting;
    expect(state).toBe(b.channel.state);
    if (state === State.TRANSFERRED) await b.channel.waitForTransferredCallRetrieval();
    expect(b.channel.state).toBe(State.ANSWERED);
    expect(engine.rooms.has('race5')).toBe(false);
  });

  it('a transfer given an aborted signal fails at once and does not start the room for the waiting party', async () => {
    const [a, b] = [await caller(null, 'sa'), await caller(null, 'sb')];
    const waiting = a.channel.transferToConferenceRoom(engine.createChannel(), 'race3', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: quietSettings(),
      secondsTimeout: 2
    });
    await waitFor(() => engine.rooms.get('race3')?.size === 1);
    const aborted = AbortSignal.abort();
    const state = await b.channel.transferToConferenceRoom(engine.createChannel(), 'race3', {
      conferencePartyMediaSettings: quietSettings(),
      signal: aborted
    });
    expect(state).toBe(State.ANSWERED);
    expect(b.channel.transferCause()).toBe(TransferCause.FAIL);
    // The room never started: the waiting party times out rather than entering.
    expect(await waiting).toBe(State.ANSWERED);
    expect(a.channel.transferCause()).toBe(TransferCause.TIMEOUT);
  });

  it('removes the room when its last party leaves', async () => {
    const a = await caller();
    const b = await caller();
    await a.channel.transferToConferenceRoom(engine.createChannel(), 'empty1');
    await b.channel.transferToConferenceRoom(engine.createChannel(), 'empty1');
    await a.channel.retrieveTransferredCall();
    expect(engine.rooms.has('empty1')).toBe(true);
    await b.phone.hangUp();
    await waitFor(() => !engine.rooms.has('empty1'));
    expect(b.channel.state).toBe(State.IDLE);
  });

  it('hangUp on a transferred channel ends the call and takes the party out of the room', async () => {
    const a = await caller();
    const b = await caller();
    await a.channel.transferToConferenceRoom(engine.createChannel(), 'bye1');
    const legB = engine.createChannel();
    await b.channel.transferToConferenceRoom(legB, 'bye1');
    expect(await b.channel.hangUp()).toBe(State.IDLE);
    expect(b.channel.transferCause()).toBe(TransferCause.HANGUP);
    expect(legB.state).toBe(State.IDLE);
    await waitFor(() => b.phone.ended);
    expect(engine.rooms.get('bye1')?.size).toBe(1);
  });

  it('hanging up otherCall retrieves the caller with TARGETHANGUP', async () => {
    const { channel } = await caller();
    const leg = engine.createChannel();
    await channel.transferToConferenceRoom(leg, 'leg1');
    const back = channel.waitForTransferredCallRetrieval();
    expect(await leg.hangUp()).toBe(State.IDLE);
    expect(await back).toBe(State.ANSWERED);
    expect(channel.transferCause()).toBe(TransferCause.TARGETHANGUP);
    expect(engine.rooms.has('leg1')).toBe(false);
  });

  it('a waiting party hears its onConferenceStoppedFile instead of ringback', async () => {
    const { phone, channel } = await caller();
    const media = new ConferencePartyMediaSettings({ onConferenceStoppedFile: 'tone-8000-s16.wav' });
    const waiting = channel.transferToConferenceRoom(engine.createChannel(), 'stopped1', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: media,
      secondsTimeout: 30 // the test retrieves the call itself, however slow the host
    });
    await waitFor(() => toneLevelDb(phone.receivedPcm(), 440, 8000) > -30, 15_000); // the file's 440 Hz tone
    phone.clearReceived();
    await sleep(600);
    const heard = phone.receivedPcm();
    expect(toneLevelDb(heard, 440, 8000)).toBeGreaterThan(-30); // still the file's tone
    expect(toneLevelDb(heard, 480, 8000)).toBeLessThan(-45); // not the 440 + 480 Hz ringback
    await channel.retrieveTransferredCall();
    expect(await waiting).toBe(State.ANSWERED);
  });

  it('a waiting party hears the ringback cadence it names (ringbackTone)', async () => {
    const { phone, channel } = await caller();
    // France: 440 Hz alone, 1.5 s on and 3.5 s off, where the default adds 480 Hz.
    const media = new ConferencePartyMediaSettings({ ringbackTone: 'fr' });
    const waiting = channel.transferToConferenceRoom(engine.createChannel(), 'ringfr', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
      conferencePartyMediaSettings: media,
      secondsTimeout: 30 // the test retrieves the call itself, however slow the host
    });
    phone.clearReceived();
    // Over the blocks that carry sound (the median, so the onset's splatter does not count), 440 Hz
    // and no 480 Hz: the default cadence would give both at the same level.
    await waitFor(() => {
      const heard = phone.receivedPcm();
      return toneLevelDb(heard, 440, 8000) > -40 && toneLevelDb(heard, 480, 8000) < -45;
    }, 15_000);
    await channel.retrieveTransferredCall();
    expect(await waiting).toBe(State.ANSWERED);
  });

  it("runs the spec's usage example", async () => {
    const { phone, channel } = await caller(null, 'george');
    const otherCall = engine.createChannel();
    const conferenceRoomName = 'spec1';
    // The spec's example, in TypeScript (also in README.md):
    const confMediaSettings = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
    confMediaSettings.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
    confMediaSettings.prefixMedia.textToSay('george');
    confMediaSettings.onEntryMedia.textToSay('has joined');
    confMediaSettings.onExitMedia.textToSay('has left');
    const confLifetimeSettings = new ConferenceLifetimeControl({ startOnEntry: true, destroyOnExit: true });
    let retrieved: State | undefined;
    setTimeout(() => void phone.infoDigit('#'), 1500);
    if (
      (await channel.transferToConferenceRoom(otherCall, conferenceRoomName, {
        conferenceLifetimeControl: confLifetimeSettings,
        conferencePartyMediaSettings: confMediaSettings
      })) !== State.TRANSFERRED
    ) {
      console.log('could not transfer the call to the conference');
    } else {
      retrieved = await channel.waitForTransferredCallRetrieval();
    }
    await channel.hangUp();
    expect(retrieved).toBe(State.ANSWERED);
    expect(otherCall.state).toBe(State.IDLE);
    expect(engine.rooms.has('spec1')).toBe(false);
    // Hung up, not left connected to silence (the phone sends RTP, so no timeout would end it).
    await waitFor(() => phone.endedByRemote);
  });
});
