import { describe, expect, it } from 'vitest';
import { ConferenceRoom, type AnnounceEvent, type RoomEvents } from '../../engine/conference/room.js';
import type { Party } from '../../engine/conference/party.js';
import { InvalidArgumentError, InvalidStateError } from '../../engine/errors.js';
import { ConferenceLifetimeControl } from '../../engine/settings/conference-lifetime-control.js';
import { ConferencePartyMediaSettings } from '../../engine/settings/conference-party-media-settings.js';
import { BEEP } from '../../engine/settings/media.js';

type Recorded = { [K in keyof RoomEvents]: { event: K; args: RoomEvents[K] } }[keyof RoomEvents];

/** Records every event of a room, in order. */
function record(room: ConferenceRoom): Recorded[] {
  const log: Recorded[] = [];
  for (const event of [
    'partyJoined',
    'started',
    'partyLeft',
    'muteChanged',
    'announce',
    'destroyed'
  ] as const) {
    room.on(event, (...args: unknown[]) => log.push({ event, args } as Recorded));
  }
  return log;
}

const waiter = () => new ConferenceLifetimeControl({ startOnEntry: false });
const quiet = (options: ConstructorParameters<typeof ConferencePartyMediaSettings>[0] = {}) =>
  new ConferencePartyMediaSettings({ beepOnEntry: false, ...options });

describe('ConferenceRoom start rule', () => {
  it('starts when a startOnEntry talker enters', () => {
    const room = new ConferenceRoom('r1');
    const log = record(room);
    room.join();
    expect(room.state).toBe('started');
    expect(log.map((e) => e.event)).toEqual(['partyJoined', 'started', 'announce']);
  });

  it('stays waiting while only parties without startOnEntry are in it', () => {
    const room = new ConferenceRoom('r1');
    room.join({ lifetime: waiter() });
    room.join({ lifetime: waiter() });
    expect(room.state).toBe('waiting');
  });

  it('starts when a startOnEntry party enters a room already holding waiting parties', () => {
    const room = new ConferenceRoom('r1');
    room.join({ lifetime: waiter() });
    expect(room.started).toBe(false);
    room.join({ lifetime: new ConferenceLifetimeControl({ startOnEntry: true }) });
    expect(room.started).toBe(true);
  });

  it('does not start with only listen-only parties, even a startOnEntry one', () => {
    const room = new ConferenceRoom('r1');
    room.join({ talkerAndListener: false });
    expect(room.state).toBe('waiting');
  });

  it('starts when a talker enters after a listen-only startOnEntry party', () => {
    const room = new ConferenceRoom('r1');
    room.join({ talkerAndListener: false });
    room.join({ lifetime: waiter() });
    expect(room.state).toBe('started');
  });

  it('does not count a startOnEntry party that already left', () => {
    const room = new ConferenceRoom('r1');
    const keep = room.join({ talkerAndListener: false, lifetime: waiter() });
    const starter = room.join({ talkerAndListener: false });
    expect(room.state).toBe('waiting');
    room.leave(starter, 'hangup');
    room.join({ lifetime: waiter() });
    expect(room.state).toBe('waiting');
    expect(room.has(keep)).toBe(true);
  });

  it('stays started when parties leave, as long as some remain', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join();
    room.join();
    room.leave(a, 'hangup');
    expect(room.state).toBe('started');
  });
});

describe('ConferenceRoom audio roles', () => {
  it('gives every waiting party ringback, or its stopped file when it has one', () => {
    const room = new ConferenceRoom('r1');
    const plain = room.join({ lifetime: waiter() });
    const withFile = room.join({
      lifetime: waiter(),
      media: new ConferencePartyMediaSettings({ onConferenceStoppedFile: '/p/hold.wav' })
    });
    expect(room.partyAudioRole(plain)).toBe('ringback');
    expect(room.partyAudioRole(withFile)).toBe('stoppedFile');
    expect(room.isContributing(plain)).toBe(false);
  });

  it('gives every party the mix once started', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join({
      lifetime: waiter(),
      media: new ConferencePartyMediaSettings({ onConferenceStoppedFile: '/p/hold.wav' })
    });
    const b = room.join();
    expect(room.partyAudioRole(a)).toBe('mix');
    expect(room.partyAudioRole(b)).toBe('mix');
  });

  it('counts only unmuted talkers of a started room as contributing', () => {
    const room = new ConferenceRoom('r1');
    const talker = room.join();
    const listener = room.join({ talkerAndListener: false });
    const muted = room.join({ media: new ConferencePartyMediaSettings({ startMuted: true }) });
    expect(room.isContributing(talker)).toBe(true);
    expect(room.isContributing(listener)).toBe(false);
    expect(room.isContributing(muted)).toBe(false);
    expect(room.talkerCount).toBe(2);
  });

  it('gives a party that left no role and no contribution', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join();
    room.join();
    room.leave(a, 'retrieved');
    expect(room.partyAudioRole(a)).toBe('none');
    expect(room.isContributing(a)).toBe(false);
  });

  it('is two-party optimisable only with exactly two started parties that both allow it', () => {
    const room = new ConferenceRoom('r1');
    const opt = () => new ConferencePartyMediaSettings({ twoPartyOptimisation: true });
    room.join({ media: opt() });
    expect(room.twoPartyOptimisable).toBe(false);
    const b = room.join({ media: opt() });
    expect(room.twoPartyOptimisable).toBe(true);
    const c = room.join({ media: opt() });
    expect(room.twoPartyOptimisable).toBe(false);
    room.leave(c, 'hangup');
    room.leave(b, 'hangup');
    room.join();
    expect(room.twoPartyOptimisable).toBe(false);
  });
});

describe('ConferenceRoom muting and digits', () => {
  it('starts a startMuted party muted', () => {
    const room = new ConferenceRoom('r1');
    const party = room.join({ media: new ConferencePartyMediaSettings({ startMuted: true }) });
    expect(party.muted).toBe(true);
  });

  it('mutes and unmutes with separate digits, emitting muteChanged only on a change', () => {
    const room = new ConferenceRoom('r1');
    const media = quiet();
    media.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
    const party = room.join({ media });
    const log = record(room);
    expect(room.handleDigit(party, '0')).toBe('mute');
    expect(room.handleDigit(party, '0')).toBe('mute');
    expect(party.muted).toBe(true);
    expect(room.handleDigit(party, '1')).toBe('unmute');
    expect(party.muted).toBe(false);
    expect(log).toEqual([
      { event: 'muteChanged', args: [{ party, muted: true }] },
      { event: 'muteChanged', args: [{ party, muted: false }] }
    ]);
  });

  it('toggles muting with a lone mute digit', () => {
    const room = new ConferenceRoom('r1');
    const media = quiet();
    media.muteOnDtmfDigits.setDigits({ mute: '*' });
    const party = room.join({ media });
    expect(room.handleDigit(party, '*')).toBe('mute');
    expect(party.muted).toBe(true);
    expect(room.isContributing(party)).toBe(false);
    expect(room.handleDigit(party, '*')).toBe('unmute');
    expect(party.muted).toBe(false);
    expect(room.isContributing(party)).toBe(true);
  });

  it('makes a party leave with reason exitDigit on its exit digit', () => {
    const room = new ConferenceRoom('r1');
    const leaver = room.join({ media: quiet({ exitOnDtmfDigit: '#' }) });
    room.join();
    const log = record(room);
    expect(room.handleDigit(leaver, '#')).toBe('exit');
    expect(leaver.left).toBe(true);
    expect(leaver.leaveReason).toBe('exitDigit');
    expect(log[0]).toEqual({ event: 'partyLeft', args: [{ party: leaver, reason: 'exitDigit' }] });
  });

  it('ignores other digits, non-digits and digits from parties not in the room', () => {
    const room = new ConferenceRoom('r1');
    const media = quiet({ exitOnDtmfDigit: '#' });
    media.muteOnDtmfDigits.setDigits({ mute: '0' });
    const party = room.join({ media });
    const other = new ConferenceRoom('r2').join({ media });
    const log = record(room);
    expect(room.handleDigit(party, '5')).toBe('none');
    expect(room.handleDigit(party, 'x')).toBe('none');
    expect(room.handleDigit(other, '#')).toBe('none');
    expect(log).toEqual([]);
    expect(party.left).toBe(false);
  });

  it('refuses to mute a party that is not in the room', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join();
    room.join();
    room.leave(a, 'hangup');
    expect(() => room.setMuted(a, true)).toThrow(InvalidStateError);
    expect(() => room.setHeld(a, true)).toThrow(InvalidStateError);
    expect(() => room.setTalkVolume(a, -6)).toThrow(InvalidStateError);
  });

  it('holds a party out of the mix and its hearing, once per change', () => {
    const room = new ConferenceRoom('r1');
    const party = room.join();
    const audio = new Int16Array(160);
    const holds: Array<{ held: boolean; audio: Int16Array | undefined }> = [];
    room.on('holdChanged', ({ held, audio: heard }) => holds.push({ held, audio: heard }));
    expect(room.setHeld(party, true, audio)).toBe(true);
    expect(room.setHeld(party, true)).toBe(false);
    const other = new Int16Array(320);
    expect(room.setHeld(party, true, other)).toBe(true); // other music
    expect(party.held).toBe(true);
    expect(room.isContributing(party)).toBe(false);
    expect(room.partyAudioRole(party)).toBe('held');
    expect(room.setHeld(party, false, audio)).toBe(true);
    expect(room.isContributing(party)).toBe(true);
    expect(room.partyAudioRole(party)).toBe('mix');
    expect(holds).toEqual([
      { held: true, audio },
      { held: true, audio: other },
      { held: false, audio: undefined }
    ]);
  });

  it('sets a talk volume within -60 to +12 dB, once per change', () => {
    const room = new ConferenceRoom('r1');
    const party = room.join();
    const changes: number[] = [];
    room.on('talkVolumeChanged', ({ db }) => changes.push(db));
    expect(room.setTalkVolume(party, -6)).toBe(true);
    expect(room.setTalkVolume(party, -6)).toBe(false);
    for (const db of [-61, 12.5, Number.NaN]) expect(() => room.setTalkVolume(party, db)).toThrow(RangeError);
    expect(() => room.setTalkVolume(party, '3' as unknown as number)).toThrow(TypeError);
    expect(party.talkVolumeDb).toBe(-6);
    expect(changes).toEqual([-6]);
  });

  it('sets a listen volume within -60 to +6 dB, once per change', () => {
    const room = new ConferenceRoom('r1');
    const party = room.join();
    const changes: number[] = [];
    room.on('listenVolumeChanged', ({ db }) => changes.push(db));
    expect(room.setListenVolume(party, -12)).toBe(true);
    expect(room.setListenVolume(party, -12)).toBe(false);
    for (const db of [-61, 6.5, 12, Number.NaN])
      expect(() => room.setListenVolume(party, db)).toThrow(RangeError);
    expect(() => room.setListenVolume(party, '3' as unknown as number)).toThrow(TypeError);
    expect(party.listenVolumeDb).toBe(-12);
    expect(party.talkVolumeDb).toBe(0);
    expect(changes).toEqual([-12]);
    room.leave(party, 'hangup');
    expect(() => room.setListenVolume(party, 0)).toThrow(InvalidStateError);
  });

  it('takes a coach out of the mix, once per change, and mutes it when its agent leaves', () => {
    const room = new ConferenceRoom('r1');
    const coach = room.join();
    const agent = room.join();
    const other = room.join();
    const changes: string[] = [];
    room.on('coachingChanged', ({ party, agent: to }) => changes.push(`${party.id} coaches ${to?.id}`));
    room.on('muteChanged', ({ party, muted }) => changes.push(`${party.id} muted ${muted}`));
    expect(room.setCoaching(coach, agent)).toBe(true);
    expect(room.setCoaching(coach, agent)).toBe(false);
    expect(coach.coaching).toBe(agent);
    expect(room.isContributing(coach)).toBe(false);
    expect(room.partyAudioRole(coach)).toBe('mix');
    expect(room.setCoaching(coach, undefined)).toBe(true);
    expect(room.isContributing(coach)).toBe(true);
    room.setCoaching(coach, agent);
    room.leave(agent, 'hangup');
    expect(coach.coaching).toBeUndefined();
    expect(coach.muted).toBe(true);
    expect(room.isContributing(coach)).toBe(false);
    // Muted before it stops coaching: no moment in which the room hears it.
    expect(changes).toEqual([
      `${coach.id} coaches ${agent.id}`,
      `${coach.id} coaches undefined`,
      `${coach.id} coaches ${agent.id}`,
      `${coach.id} muted true`,
      `${coach.id} coaches undefined`
    ]);
    expect(other.muted).toBe(false);
  });

  it('refuses a coach of itself, a listen-only coach and an agent not in the room', () => {
    const room = new ConferenceRoom('r1');
    const coach = room.join();
    const listener = room.join({ talkerAndListener: false });
    const gone = room.join();
    room.leave(gone, 'hangup');
    expect(() => room.setCoaching(coach, coach)).toThrow(InvalidArgumentError);
    expect(() => room.setCoaching(listener, coach)).toThrow(InvalidStateError);
    expect(() => room.setCoaching(coach, gone)).toThrow(InvalidStateError);
    expect(coach.coaching).toBeUndefined();
    expect(listener.coaching).toBeUndefined();
  });
});

describe('ConferenceRoom announcements', () => {
  function announced(log: Recorded[]): AnnounceEvent[] {
    return log.filter((e) => e.event === 'announce').map((e) => e.args[0] as AnnounceEvent);
  }

  it('announces beep, prefix and entry media when a party enters a started room', () => {
    const room = new ConferenceRoom('r1');
    room.join({ media: quiet() });
    const log = record(room);
    const media = new ConferencePartyMediaSettings();
    media.prefixMedia.textToSay('george');
    media.onEntryMedia.textToSay('has joined', { voice: 'en' });
    const george = room.join({ media });
    expect(announced(log)).toEqual([
      {
        party: george,
        kind: 'entry',
        parts: [BEEP, { kind: 'text', text: 'george' }, { kind: 'text', text: 'has joined', voice: 'en' }]
      }
    ]);
  });

  it('announces nothing for a party with no beep and no entry media', () => {
    const room = new ConferenceRoom('r1');
    const log = record(room);
    room.join({ media: quiet() });
    expect(announced(log)).toEqual([]);
  });

  it('does not say the prefix alone', () => {
    const room = new ConferenceRoom('r1');
    const media = quiet();
    media.prefixMedia.textToSay('george');
    const log = record(room);
    room.join({ media });
    expect(announced(log)).toEqual([]);
  });

  it('announces entries made while waiting only when the room starts, in entry order', () => {
    const room = new ConferenceRoom('r1');
    const log = record(room);
    const first = room.join({ lifetime: waiter() });
    const second = room.join({ lifetime: waiter() });
    expect(announced(log)).toEqual([]);
    const starter = room.join();
    expect(log.map((e) => e.event)).toEqual([
      'partyJoined',
      'partyJoined',
      'partyJoined',
      'started',
      'announce',
      'announce',
      'announce'
    ]);
    expect(announced(log).map((a) => a.party)).toEqual([first, second, starter]);
  });

  it('never announces a party that left before the room started', () => {
    const room = new ConferenceRoom('r1');
    const log = record(room);
    room.join({ lifetime: waiter() });
    const gone = room.join({ lifetime: waiter(), media: withExitMedia() });
    room.leave(gone, 'hangup');
    room.join();
    expect(announced(log).map((a) => a.party)).not.toContain(gone);
  });

  function withExitMedia(): ConferencePartyMediaSettings {
    const media = quiet();
    media.prefixMedia.fileToPlay('/p/george.wav');
    media.onExitMedia.textToSay('has left');
    return media;
  }

  it('announces prefix and exit media when a party leaves and others remain', () => {
    const room = new ConferenceRoom('r1');
    room.join({ media: quiet() });
    const george = room.join({ media: withExitMedia() });
    const log = record(room);
    room.leave(george, 'exitDigit');
    expect(log.map((e) => e.event)).toEqual(['partyLeft', 'announce']);
    expect(announced(log)[0]).toEqual({
      party: george,
      kind: 'exit',
      parts: [
        { kind: 'file', path: '/p/george.wav' },
        { kind: 'text', text: 'has left' }
      ]
    });
  });

  it('does not announce the exit of the last party', () => {
    const room = new ConferenceRoom('r1');
    const george = room.join({ media: withExitMedia() });
    const log = record(room);
    room.leave(george, 'hangup');
    expect(announced(log)).toEqual([]);
  });

  it('does not announce exits when the room is destroyed', () => {
    const room = new ConferenceRoom('r1');
    const chair = room.join({
      media: withExitMedia(),
      lifetime: new ConferenceLifetimeControl({ destroyOnExit: true })
    });
    room.join({ media: withExitMedia() });
    room.join({ media: withExitMedia() });
    const log = record(room);
    room.leave(chair, 'hangup');
    expect(announced(log)).toEqual([]);
  });
});

describe('ConferenceRoom destruction', () => {
  it('is destroyed when its last party leaves', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join();
    const b = room.join();
    const log = record(room);
    room.leave(a, 'hangup');
    expect(room.destroyed).toBe(false);
    room.leave(b, 'retrieved');
    expect(room.destroyed).toBe(true);
    expect(log.at(-1)).toEqual({ event: 'destroyed', args: [{ reason: 'empty' }] });
  });

  it('removes every other party with roomDestroyed when a destroyOnExit party leaves', () => {
    const room = new ConferenceRoom('r1');
    const chair = room.join({ lifetime: new ConferenceLifetimeControl({ destroyOnExit: true }) });
    const b = room.join();
    const c = room.join({ talkerAndListener: false });
    const log = record(room);
    room.leave(chair, 'exitDigit');
    expect(log).toEqual([
      { event: 'partyLeft', args: [{ party: chair, reason: 'exitDigit' }] },
      { event: 'partyLeft', args: [{ party: b, reason: 'roomDestroyed' }] },
      { event: 'partyLeft', args: [{ party: c, reason: 'roomDestroyed' }] },
      { event: 'destroyed', args: [{ reason: 'destroyOnExit' }] }
    ]);
    expect(room.size).toBe(0);
    expect([b.leaveReason, c.leaveReason]).toEqual(['roomDestroyed', 'roomDestroyed']);
  });

  it('destroys a waiting room when its destroyOnExit party leaves before the start', () => {
    const room = new ConferenceRoom('r1');
    const chair = room.join({
      lifetime: new ConferenceLifetimeControl({ startOnEntry: false, destroyOnExit: true })
    });
    const other = room.join({ lifetime: waiter() });
    room.leave(chair, 'hangup');
    expect(room.destroyed).toBe(true);
    expect(other.leaveReason).toBe('roomDestroyed');
  });

  it('closes idempotently, removing every party once', () => {
    const room = new ConferenceRoom('r1');
    room.join();
    room.join();
    const log = record(room);
    room.close();
    room.close();
    expect(log.map((e) => e.event)).toEqual(['partyLeft', 'partyLeft', 'destroyed']);
    expect(log.at(-1)).toEqual({ event: 'destroyed', args: [{ reason: 'closed' }] });
  });

  it('refuses joins once destroyed, with a message naming the room and its state', () => {
    const room = new ConferenceRoom('r1');
    room.close();
    expect(() => room.join()).toThrow(InvalidStateError);
    expect(() => room.join()).toThrow(
      "cannot join: room 'r1' is destroyed, expected one of waiting, started"
    );
  });

  it('treats leaving twice as a no-op', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join();
    room.join();
    expect(room.leave(a, 'hangup')).toBe(true);
    expect(room.leave(a, 'retrieved')).toBe(false);
    expect(a.leaveReason).toBe('hangup');
  });

  it('already refuses joins inside the partyLeft listener of the party whose exit destroys it', () => {
    const room = new ConferenceRoom('r1');
    const a = room.join();
    let joinError: unknown;
    room.on('partyLeft', () => {
      try {
        room.join();
      } catch (error) {
        joinError = error;
      }
    });
    room.leave(a, 'hangup');
    expect(joinError).toBeInstanceOf(InvalidStateError);
    expect(room.size).toBe(0);
  });

  it('emits destroyed once when a listener makes another party leave during the teardown', () => {
    const room = new ConferenceRoom('r1');
    const chair = room.join({ lifetime: new ConferenceLifetimeControl({ destroyOnExit: true }) });
    const b = room.join();
    const c = room.join();
    const log = record(room);
    room.on('partyLeft', ({ party }) => {
      if (party === chair) room.leave(c, 'hangup');
    });
    room.leave(chair, 'exitDigit');
    expect(log.filter((e) => e.event === 'destroyed')).toHaveLength(1);
    expect(c.leaveReason).toBe('hangup');
    expect(b.leaveReason).toBe('roomDestroyed');
    expect(log.filter((e) => e.event === 'partyLeft')).toHaveLength(3);
  });

  it('keeps working when a listener throws', () => {
    const room = new ConferenceRoom('r1');
    const errors: unknown[] = [];
    room.on('listenerError', ({ error }) => errors.push(error));
    room.on('partyJoined', () => {
      throw new Error('listener bug');
    });
    const a: Party = room.join();
    expect(room.started).toBe(true);
    expect(room.has(a)).toBe(true);
    expect(errors).toHaveLength(1);
  });
});

describe('ConferenceRoom party settings', () => {
  it('keeps the settings a party joined with, whatever the application changes in them later', () => {
    // One settings object reused for the next caller changed the parties already in the room:
    // their mute digits, and the name announced when they left.
    const room = new ConferenceRoom('settings1');
    const settings = quiet({ exitOnDtmfDigit: '#' });
    settings.muteOnDtmfDigits.setDigits({ mute: '5' });
    settings.prefixMedia.textToSay('george');
    const party = room.join({ media: settings });
    settings.muteOnDtmfDigits.setDigits({ mute: '6' });
    settings.prefixMedia.textToSay('alice');
    expect(party.media.muteOnDtmfDigits.mute).toBe('5');
    expect(party.media.prefixMedia.item).toMatchObject({ kind: 'text', text: 'george' });
    expect(party.media.exitOnDtmfDigit).toBe('#');
    expect(party.media.beepOnEntry).toBe(false);
  });
});
