/**
 * The application as a conference's moderator (`engine.conference(name)`): it lists the callers,
 * mutes, unmutes and removes one, speaks to the whole room and ends it. Three phones over real
 * SIP and RTP on loopback, each sending its own tone; what each hears is measured at that tone.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  EngineError,
  InvalidArgumentError,
  InvalidStateError,
  State,
  TransferCause,
  type LeaveReason,
  type Party
} from '../../engine/index.js';
import { MUTE_TONE_HZ } from '../../engine/media/tones.js';
import { TonePhone } from '../support/tone-phone.js';
import { rmsDbfs, toneLevelDb } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';
import { sine } from '../support/dsp-prng.js';
import { waitFor } from '../support/wait.js';

const TONES = [400, 1200, 1500] as const;
const HEARD_DB = -30;
const ABSENT_DB = -50;

/** What a held party hears, from the play folder: a second of it, looped; and other music. */
const HOLD_HZ = 700;
const OTHER_HOLD_HZ = 900;

let rooms: ToneRoomEngine;
let playFolder: string;
/** The engine's log, line by line. */
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  playFolder = await mkdtemp(join(tmpdir(), 'uasmedia-hold-'));
  const music = new wavefile.WaveFile();
  music.fromScratch(1, 8000, '16', Array.from(sine(8000, HOLD_HZ, 8000, 6000)));
  await writeFile(join(playFolder, 'music.wav'), music.toBuffer());
  const other = new wavefile.WaveFile();
  other.fromScratch(1, 8000, '16', Array.from(sine(8000, OTHER_HOLD_HZ, 8000, 6000)));
  await writeFile(join(playFolder, 'other.wav'), other.toBuffer());
  rooms = await ToneRoomEngine.start({
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) }),
    rtp: { minPort: 22000, maxPort: 22099 },
    media: () => new ConferencePartyMediaSettings({ beepOnEntry: false }),
    // A listener alone does not start its room: it waits for a talker.
    talkerAndListener: (user) => !user.startsWith('quiet'),
    files: { playFolders: [playFolder] }
  });
});

afterAll(async () => {
  await rooms?.stop();
  await rm(playFolder, { recursive: true, force: true });
});

async function joinAll(
  room: string,
  users: string[],
  tones: Array<number | null> = [...TONES]
): Promise<TonePhone[]> {
  const phones = await Promise.all(users.map((user, i) => TonePhone.create({ toneHz: tones[i], user })));
  await rooms.join(room, phones);
  await Promise.all(phones.map((p) => p.listen(300))); // the audio settles
  return phones;
}

function conference(room: string) {
  const media = rooms.engine.conference(room);
  if (!media) throw new Error(`no conference ${room}`);
  return media;
}

const channelId = (user: string): string => rooms.channels.get(user)!.id;

/** The loudest any 20 ms block of `pcm` has the tone `hz`. */
function loudestBlockDb(pcm: Int16Array, hz: number): number {
  let loudest = -200;
  for (let at = 0; at + 160 <= pcm.length; at += 160)
    loudest = Math.max(loudest, toneLevelDb(pcm.subarray(at, at + 160), hz, 8000));
  return loudest;
}

/** 20 ms blocks of `pcm` louder than −40 dBFS. */
function loudBlocks(pcm: Int16Array): number {
  let loud = 0;
  for (let at = 0; at + 160 <= pcm.length; at += 160) if (rmsDbfs(pcm.subarray(at, at + 160)) > -40) loud++;
  return loud;
}

/** The level of each of the phones' tones in what `phone` hears over `ms`. */
async function tonesHeard(phone: TonePhone, ms = 600): Promise<number[]> {
  const pcm = await phone.listen(ms);
  return TONES.map((hz) => toneLevelDb(pcm, hz, 8000));
}

describe("a conference's moderator", () => {
  it('lists the callers in entry order, with their channel ids, and says who was muted', async () => {
    const phones = await joinAll('modlist', ['ann', 'ben']);
    try {
      const parties = conference('modlist').parties;
      expect(parties.map((p) => p.channelId)).toEqual([channelId('ann'), channelId('ben')]);
      expect(parties.every((p) => !p.muted && !p.left)).toBe(true);
      const room = conference('modlist');
      const changes: string[] = [];
      room.on('muteChanged', ({ party, muted }) => changes.push(`${party.channelId} ${muted}`));
      // A misspelt event had been taken and never fired, as an Engine's and a channel's had.
      expect(() =>
        (room as unknown as { on(e: string, l: () => void): unknown }).on('mutedChanged', () => {})
      ).toThrow("ConferenceMedia has no event 'mutedChanged'");
      const roster = await room.roster();
      expect(roster).toEqual([
        {
          nodeId: undefined,
          party: channelId('ann'),
          muted: false,
          held: false,
          talkVolumeDb: 0,
          listenVolumeDb: 0
        },
        {
          nodeId: undefined,
          party: channelId('ben'),
          muted: false,
          held: false,
          talkVolumeDb: 0,
          listenVolumeDb: 0
        }
      ]);
      await room.mute(roster[1]); // an entry is a target as it is
      expect((await room.roster())[1].muted).toBe(true);
      expect(changes).toEqual([`${channelId('ben')} true`]);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('mutes a party by its channel id: the others stop hearing it, it hears its mute notes; unmute undoes it', async () => {
    const phones = await joinAll('modmute', ['alice', 'bob', 'carol']);
    const [alice, bob, carol] = phones;
    try {
      const room = conference('modmute');
      expect((await tonesHeard(alice))[1]).toBeGreaterThan(HEARD_DB);

      const bobHears = bob.listen(800);
      await room.mute(channelId('bob'));
      const party = room.parties.find((p) => p.channelId === channelId('bob')) as Party;
      expect(party.muted).toBe(true);
      const notes = await bobHears;
      expect(loudestBlockDb(notes, MUTE_TONE_HZ.high)).toBeGreaterThan(HEARD_DB);
      expect(loudestBlockDb(notes, MUTE_TONE_HZ.low)).toBeGreaterThan(HEARD_DB);
      for (const other of [alice, carol]) {
        const heard = await tonesHeard(other);
        expect(heard[1]).toBeLessThan(ABSENT_DB);
        // Bob still hears the others, and they each other.
        expect(Math.max(...heard.filter((_, i) => i !== 1))).toBeGreaterThan(HEARD_DB);
      }
      expect((await tonesHeard(bob))[0]).toBeGreaterThan(HEARD_DB);

      // An operator can read who was muted, in which room.
      expect(logLines).toContainEqual(
        expect.objectContaining({
          msg: 'moderated',
          action: 'mute',
          channelId: channelId('bob'),
          roomName: 'modmute'
        })
      );
      await room.mute(party); // muted already: nothing changes
      await room.unmute(party);
      expect(party.muted).toBe(false);
      await bob.listen(300); // the rising notes
      expect((await tonesHeard(alice))[1]).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('removes a party: its call is retrieved and it hears the room no more, nor the room it', async () => {
    const phones = await joinAll('modremove', ['dora', 'eve', 'fay']);
    const [dora, , fay] = phones;
    const left: Array<{ channelId?: string; reason: LeaveReason }> = [];
    const room = conference('modremove');
    room.on('partyLeft', ({ party, reason }) => left.push({ channelId: party.channelId, reason }));
    try {
      const fayChannel = rooms.channels.get('fay')!;
      await room.remove(channelId('fay'));
      await waitFor(() => fayChannel.state === State.ANSWERED);
      expect(fayChannel.transferCause()).toBe(TransferCause.NORMAL);
      expect(left).toEqual([{ channelId: fayChannel.id, reason: 'removed' }]);
      expect(room.parties.map((p) => p.channelId)).toEqual([channelId('dora'), channelId('eve')]);
      await Promise.all([dora.listen(200), fay.listen(200)]);
      const [doraHears, fayHears] = await Promise.all([tonesHeard(dora), tonesHeard(fay)]);
      expect(doraHears[2]).toBeLessThan(ABSENT_DB);
      expect(doraHears[1]).toBeGreaterThan(HEARD_DB);
      expect(Math.max(...fayHears)).toBeLessThan(ABSENT_DB);
      // Its channel is the application's again: it can speak to it.
      await fayChannel.playText('back with you');
      await expect(room.remove(fayChannel.id)).rejects.toBeInstanceOf(InvalidArgumentError);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('holds a party: it hears its hold music and not the room, nor the room it; unhold brings it back', async () => {
    const phones = await joinAll('modhold', ['hank', 'ivy', 'joe']);
    const [hank, ivy, joe] = phones;
    try {
      const room = conference('modhold');
      const holds: string[] = [];
      room.on('holdChanged', ({ party, held }) => holds.push(`${party.channelId} ${held}`));
      await room.hold(channelId('ivy'), { fileToPlay: 'music.wav' });
      expect((await room.roster()).map((e) => e.held)).toEqual([false, true, false]);
      await ivy.listen(200); // what was on its way
      const [hankHears, ivyHears, joeHears] = await Promise.all(phones.map((p) => p.listen(800)));
      expect(toneLevelDb(hankHears, TONES[1], 8000)).toBeLessThan(ABSENT_DB);
      expect(toneLevelDb(joeHears, TONES[1], 8000)).toBeLessThan(ABSENT_DB);
      expect(toneLevelDb(hankHears, TONES[2], 8000)).toBeGreaterThan(HEARD_DB);
      expect(loudestBlockDb(ivyHears, HOLD_HZ)).toBeGreaterThan(HEARD_DB);
      for (const hz of [TONES[0], TONES[2]]) expect(toneLevelDb(ivyHears, hz, 8000)).toBeLessThan(ABSENT_DB);

      // Held again with other music: it hears that one instead.
      await room.hold(channelId('ivy'), { fileToPlay: 'other.wav' });
      await ivy.listen(200);
      const ivyOther = await ivy.listen(800);
      expect(loudestBlockDb(ivyOther, OTHER_HOLD_HZ)).toBeGreaterThan(HEARD_DB);
      expect(toneLevelDb(ivyOther, HOLD_HZ, 8000)).toBeLessThan(ABSENT_DB);

      await room.unhold(channelId('ivy'));
      await ivy.listen(200);
      const [hankAgain, ivyAgain] = await Promise.all([hank.listen(600), ivy.listen(600)]);
      expect(toneLevelDb(hankAgain, TONES[1], 8000)).toBeGreaterThan(HEARD_DB);
      expect(toneLevelDb(ivyAgain, TONES[0], 8000)).toBeGreaterThan(HEARD_DB);
      expect(toneLevelDb(ivyAgain, HOLD_HZ, 8000)).toBeLessThan(ABSENT_DB);
      expect(holds).toEqual([
        `${channelId('ivy')} true`,
        `${channelId('ivy')} true`,
        `${channelId('ivy')} false`
      ]);

      // A file it cannot play: refused, and nothing changes.
      await expect(room.hold(channelId('joe'), { fileToPlay: 'missing.wav' })).rejects.toBeInstanceOf(Error);
      expect(room.parties[2].held).toBe(false);
      // Held without music, then removed: its call comes back to it with no music left playing.
      await room.hold(channelId('joe'), { fileToPlay: 'music.wav' });
      const joeChannel = rooms.channels.get('joe')!;
      await room.remove(channelId('joe'));
      await waitFor(() => joeChannel.state === State.ANSWERED);
      await joe.listen(200);
      expect(rmsDbfs(await joe.listen(600))).toBeLessThan(-50);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it("sets how loud the room hears a party, and takes the same gain out of that party's own mix-minus", async () => {
    const phones = await joinAll('modvol', ['kay', 'lee', 'moe']);
    const [kay, lee] = phones;
    try {
      const room = conference('modvol');
      const before = toneLevelDb(await kay.listen(600), TONES[1], 8000);
      await room.setTalkVolume(channelId('lee'), -12);
      await kay.listen(200);
      const quieter = toneLevelDb(await kay.listen(600), TONES[1], 8000);
      expect(quieter - before).toBeCloseTo(-12, 0);
      expect(toneLevelDb(await lee.listen(600), TONES[1], 8000)).toBeLessThan(ABSENT_DB);
      await room.setTalkVolume(channelId('lee'), 6);
      await kay.listen(200);
      const louder = toneLevelDb(await kay.listen(600), TONES[1], 8000);
      expect(louder - before).toBeCloseTo(6, 0);
      expect(room.parties[1].talkVolumeDb).toBe(6);
      expect((await room.roster())[1]).toMatchObject({ party: channelId('lee'), talkVolumeDb: 6 });
      await expect(room.setTalkVolume(channelId('lee'), 13)).rejects.toBeInstanceOf(RangeError);
      await expect(room.setTalkVolume(channelId('lee'), Number.NaN)).rejects.toBeInstanceOf(RangeError);
      expect(room.parties[1].talkVolumeDb).toBe(6);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('sets how loud a party hears the room, and that party alone', async () => {
    const phones = await joinAll('modlisten', ['nia', 'oli', 'pam']);
    const [nia, oli] = phones;
    try {
      const room = conference('modlisten');
      const [niaBefore, oliBefore] = await Promise.all([tonesHeard(nia), tonesHeard(oli)]);
      await room.setListenVolume(channelId('nia'), -12);
      await nia.listen(200);
      const [niaQuiet, oliSame] = await Promise.all([tonesHeard(nia), tonesHeard(oli)]);
      // Both others' tones, 12 dB down for nia; oli hears as before.
      for (const i of [1, 2]) expect(niaQuiet[i] - niaBefore[i]).toBeCloseTo(-12, 0);
      for (const i of [0, 2]) expect(oliSame[i] - oliBefore[i]).toBeCloseTo(0, 0);
      await room.setListenVolume(channelId('nia'), 6);
      await nia.listen(200);
      const niaLoud = await tonesHeard(nia);
      for (const i of [1, 2]) expect(niaLoud[i] - niaBefore[i]).toBeCloseTo(6, 0);
      expect(niaLoud[0]).toBeLessThan(ABSENT_DB); // still not itself
      expect(room.parties[0].listenVolumeDb).toBe(6);
      expect((await room.roster())[0]).toMatchObject({
        party: channelId('nia'),
        talkVolumeDb: 0,
        listenVolumeDb: 6
      });
      await expect(room.setListenVolume(channelId('nia'), 7)).rejects.toBeInstanceOf(RangeError);
      expect(room.parties[0].listenVolumeDb).toBe(6);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('holds a party that waits for the room: it enters held', async () => {
    const listener = await TonePhone.create({ toneHz: null, user: 'quietnina' });
    const talker = await TonePhone.create({ toneHz: TONES[0], user: 'otto' });
    try {
      await listener.call(`sip:modwaithold@127.0.0.1:${rooms.sipPort}`);
      await waitFor(() => (rooms.engine.conference('modwaithold')?.parties.length ?? 0) === 1);
      const room = conference('modwaithold');
      await room.hold(room.parties[0]);
      await rooms.join('modwaithold', [talker]);
      await waitFor(() => rooms.channels.get('quietnina')?.state === State.TRANSFERRED);
      await listener.listen(300);
      expect(toneLevelDb(await listener.listen(800), TONES[0], 8000)).toBeLessThan(ABSENT_DB);
      await room.unhold(room.parties[0]);
      await listener.listen(200);
      expect(toneLevelDb(await listener.listen(600), TONES[0], 8000)).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all([listener.close(), talker.close()]);
    }
  });

  it('removes a party that waits for the room: its transfer ends, and its ringback with it', async () => {
    const listener = await TonePhone.create({ toneHz: null, user: 'quietpete' });
    try {
      await listener.call(`sip:modwaitremove@127.0.0.1:${rooms.sipPort}`);
      await waitFor(() => (rooms.engine.conference('modwaitremove')?.parties.length ?? 0) === 1);
      const channel = rooms.channels.get('quietpete')!;
      expect(channel.state).toBe(State.TRANSFERRING);
      await conference('modwaitremove').remove(channel.id);
      await waitFor(() => channel.state === State.ANSWERED);
      expect(channel.transferCause()).toBe(TransferCause.TARGETHANGUP);
      expect(rooms.engine.conference('modwaitremove')).toBeUndefined();
      await listener.listen(200);
      expect(rmsDbfs(await listener.listen(600))).toBeLessThan(-50);
    } finally {
      await listener.close();
    }
  });

  it('says a text to the whole room and resolves once it has been played', async () => {
    const phones = await joinAll('modsay', ['gus', 'hal'], [null, null]);
    try {
      const quiet = await Promise.all(phones.map((p) => p.listen(400)));
      for (const pcm of quiet) expect(rmsDbfs(pcm)).toBeLessThan(-60);
      const heard = phones.map((p) => p.listen(3500));
      await conference('modsay').say('The meeting ends in five minutes.');
      const loudAtResolve = phones.map((p) => loudBlocks(p.receivedPcm()));
      const loudAtEnd = (await Promise.all(heard)).map(loudBlocks);
      for (const [i, loud] of loudAtEnd.entries()) {
        // A second and more of speech, not a click, and all but the jitter buffer's last frames had come.
        expect(loud).toBeGreaterThan(50);
        expect(loud - loudAtResolve[i]).toBeLessThanOrEqual(12);
      }
      await expect(conference('modsay').say('')).rejects.toBeInstanceOf(RangeError);
      await expect(conference('modsay').playFile('../outside.wav')).rejects.toMatchObject({
        code: 'ERR_FILE_ACCESS'
      });
      const fake = {} as AbortSignal;
      await expect(conference('modsay').say('hello', { signal: fake })).rejects.toThrow(
        /must be an AbortSignal/
      );
      await expect(conference('modsay').playFile('beep.wav', { signal: fake })).rejects.toThrow(
        /must be an AbortSignal/
      );
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('refuses to speak to a room that waits (its parties hear ringback) or has ended', async () => {
    const { room, party } = rooms.engine.rooms.join('modwait', {
      lifetime: new ConferenceLifetimeControl({ startOnEntry: false })
    });
    const media = conference('modwait');
    const refused = await media.say('hello').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidStateError);
    expect(refused).toMatchObject({ state: 'waiting', expected: ['started'] });
    room.leave(party, 'hangup');
    expect(room.destroyed).toBe(true);
    await expect(media.playFile('x.wav')).rejects.toMatchObject({ state: 'destroyed' });
  });

  it('ends the room: every call is retrieved and the room is gone', async () => {
    const phones = await joinAll('modend', ['ida', 'jon', 'kim']);
    try {
      const room = conference('modend');
      const reasons: LeaveReason[] = [];
      room.on('partyLeft', ({ reason }) => reasons.push(reason));
      room.end();
      const channels = ['ida', 'jon', 'kim'].map((user) => rooms.channels.get(user)!);
      await waitFor(() => channels.every((c) => c.state === State.ANSWERED));
      expect(reasons).toEqual(['roomDestroyed', 'roomDestroyed', 'roomDestroyed']);
      expect(rooms.engine.conference('modend')).toBeUndefined();
      room.end(); // again: nothing
      const refused = await room.mute(channels[0].id).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(InvalidStateError);
      await expect(room.roster()).rejects.toBeInstanceOf(InvalidStateError);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('refuses what is not a party of the room, and changes nothing', async () => {
    const phones = await joinAll('modwrong', ['lea', 'max']);
    try {
      const room = conference('modwrong');
      await expect(room.mute(42 as unknown as string)).rejects.toBeInstanceOf(TypeError);
      await expect(room.mute({ nodeId: 'n1' } as unknown as string)).rejects.toBeInstanceOf(TypeError);
      // A party of another node, in an engine that is in no cluster.
      await expect(room.mute({ nodeId: 'n2', party: channelId('lea') })).rejects.toBeInstanceOf(
        InvalidArgumentError
      );
      const unknown = await room.mute('no-such-channel').catch((error: unknown) => error);
      expect(unknown).toBeInstanceOf(InvalidArgumentError);
      expect((unknown as EngineError).code).toBe('ERR_INVALID_ARGUMENT');
      const other = await joinAll('modwrong2', ['ned']);
      try {
        const stranger = conference('modwrong2').parties[0];
        await expect(room.remove(stranger)).rejects.toBeInstanceOf(InvalidStateError);
        expect(stranger.left).toBe(false);
      } finally {
        await Promise.all(other.map((p) => p.close()));
      }
      expect(room.parties.every((p) => !p.muted && !p.left)).toBe(true);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});

describe('coaching (a whisper only one party hears)', () => {
  it('lets a coach speak to its agent alone while it hears everyone; stopCoaching gives it back to the room', async () => {
    const phones = await joinAll('modcoach', ['sue', 'tom', 'una']);
    const [sue, tom, una] = phones;
    try {
      const room = conference('modcoach');
      const changes: string[] = [];
      room.on('coachingChanged', ({ party, agent }) =>
        changes.push(`${party.channelId} ${agent?.channelId}`)
      );
      await room.coach(channelId('sue'), channelId('tom'));
      const [sueParty, tomParty] = room.parties;
      expect(sueParty.coaching).toBe(tomParty);
      expect((await room.roster())[0]).toEqual({
        nodeId: undefined,
        party: channelId('sue'),
        muted: false,
        held: false,
        talkVolumeDb: 0,
        listenVolumeDb: 0,
        coaching: channelId('tom')
      });
      expect(changes).toEqual([`${channelId('sue')} ${channelId('tom')}`]);
      await Promise.all(phones.map((p) => p.listen(200)));
      const [sueHears, tomHears, unaHears] = await Promise.all(phones.map((p) => tonesHeard(p)));
      expect(tomHears[0]).toBeGreaterThan(HEARD_DB); // the agent hears its coach
      expect(tomHears[2]).toBeGreaterThan(HEARD_DB); // and the room
      expect(unaHears[0]).toBeLessThan(ABSENT_DB); // the customer does not hear the coach
      expect(unaHears[1]).toBeGreaterThan(HEARD_DB);
      expect(Math.min(sueHears[1], sueHears[2])).toBeGreaterThan(HEARD_DB); // the coach hears everyone
      expect(sueHears[0]).toBeLessThan(ABSENT_DB); // but never itself
      expect(logLines).toContainEqual(
        expect.objectContaining({
          msg: 'moderated',
          action: 'coach',
          channelId: channelId('sue'),
          agentChannelId: channelId('tom')
        })
      );

      // Muted, the coach is heard by nobody; unmuted, by its agent again.
      await room.mute(sueParty);
      await Promise.all([sue.listen(400), tom.listen(200)]);
      expect((await tonesHeard(tom))[0]).toBeLessThan(ABSENT_DB);
      await room.unmute(sueParty);
      await Promise.all([sue.listen(400), tom.listen(200)]);
      expect((await tonesHeard(tom))[0]).toBeGreaterThan(HEARD_DB);
      expect((await tonesHeard(una))[0]).toBeLessThan(ABSENT_DB);

      await room.stopCoaching(sueParty);
      expect(sueParty.coaching).toBeUndefined();
      await una.listen(200);
      expect((await tonesHeard(una))[0]).toBeGreaterThan(HEARD_DB);
      expect(changes.at(-1)).toBe(`${channelId('sue')} undefined`);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('mutes a coach whose agent leaves, so the room never hears it unawares', async () => {
    const phones = await joinAll('modcoachleft', ['vic', 'wes', 'xia']);
    const [vic, , xia] = phones;
    try {
      const room = conference('modcoachleft');
      await room.coach(channelId('vic'), channelId('wes'));
      await room.remove(channelId('wes'));
      const vicParty = room.parties[0];
      expect(vicParty.coaching).toBeUndefined();
      expect(vicParty.muted).toBe(true);
      await Promise.all([vic.listen(400), xia.listen(200)]);
      expect((await tonesHeard(xia))[0]).toBeLessThan(ABSENT_DB);
      await room.unmute(vicParty);
      await xia.listen(200);
      expect((await tonesHeard(xia))[0]).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('holds the whisper while its agent is held: the held agent hears only its hold music', async () => {
    const phones = await joinAll('modcoachhold', ['yan', 'zed', 'abe']);
    const [, zed] = phones;
    try {
      const room = conference('modcoachhold');
      await room.coach(channelId('yan'), channelId('zed'));
      await room.hold(channelId('zed'), { fileToPlay: 'music.wav' });
      await zed.listen(200);
      const held = await zed.listen(800);
      expect(loudestBlockDb(held, HOLD_HZ)).toBeGreaterThan(HEARD_DB);
      expect(toneLevelDb(held, TONES[0], 8000)).toBeLessThan(ABSENT_DB);
      await room.unhold(channelId('zed'));
      await zed.listen(200);
      expect((await tonesHeard(zed))[0]).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('refuses a coach that is itself, a listener, elsewhere or gone, and changes nothing', async () => {
    const quiet = await TonePhone.create({ toneHz: null, user: 'quietbea' });
    const phones = await joinAll('modcoachwrong', ['cal', 'dee']);
    try {
      await rooms.join('modcoachwrong', [quiet]);
      const room = conference('modcoachwrong');
      await expect(room.coach(channelId('cal'), channelId('cal'))).rejects.toBeInstanceOf(
        InvalidArgumentError
      );
      await expect(room.coach(channelId('quietbea'), channelId('cal'))).rejects.toBeInstanceOf(
        InvalidStateError
      );
      await expect(
        room.coach(channelId('cal'), { nodeId: 'n2', party: channelId('dee') })
      ).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(room.coach(channelId('cal'), 'no-such-channel')).rejects.toBeInstanceOf(
        InvalidArgumentError
      );
      await expect(room.coach(channelId('cal'), 7 as unknown as string)).rejects.toBeInstanceOf(TypeError);
      expect(room.parties.every((p) => p.coaching === undefined && !p.muted)).toBe(true);
      room.end();
      await expect(room.coach(channelId('cal'), channelId('dee'))).rejects.toBeInstanceOf(InvalidStateError);
    } finally {
      await Promise.all([...phones, quiet].map((p) => p.close()));
    }
  });
});
