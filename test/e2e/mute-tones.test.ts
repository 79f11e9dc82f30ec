/**
 * A party that mutes or unmutes itself with its keypad hears a pair of notes, falling for muted
 * and rising for unmuted, as a FreeSWITCH or Asterisk conference answers with its muted and
 * unmuted sounds; nobody else in the room hears them. Three phones over real SIP and RTP on
 * loopback, each sending its own tone; what they receive is analysed 20 ms at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConferencePartyMediaSettings } from '../../engine/index.js';
import { MUTE_TONE_HZ } from '../../engine/media/tones.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

/** The phones' own tones, away from the mute tones' 587 and 880 Hz. */
const TONES = [400, 1200, 1500] as const;
const HEARD_DB = -30;
const ABSENT_DB = -50;

let rooms: ToneRoomEngine;

beforeAll(async () => {
  rooms = await ToneRoomEngine.start({
    rtp: { minPort: 61400, maxPort: 61499 },
    media: (user) => {
      const media = new ConferencePartyMediaSettings({
        beepOnEntry: false,
        muteTones: !user.startsWith('quiet')
      });
      media.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
      return media;
    }
  });
});

afterAll(async () => {
  await rooms?.stop();
});

async function joinAll(room: string, users: string[]): Promise<TonePhone[]> {
  const phones = await Promise.all(users.map((user, i) => TonePhone.create({ toneHz: TONES[i], user })));
  await rooms.join(room, phones);
  await Promise.all(phones.map((p) => p.listen(300))); // the audio settles
  return phones;
}

/** For each 20 ms block: which mute note sounds in it ('high', 'low') or none ('-'). */
function notes(pcm: Int16Array): string {
  let out = '';
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    const block = pcm.subarray(at, at + 160);
    const high = toneLevelDb(block, MUTE_TONE_HZ.high, 8000);
    const low = toneLevelDb(block, MUTE_TONE_HZ.low, 8000);
    out += high > HEARD_DB && high > low ? 'H' : low > HEARD_DB ? 'L' : '-';
  }
  return out;
}

/**
 * Both notes sound, `first` wholly before `second` (a gap inside a note, where a busy host's
 * jitter buffer concealed a frame, is no matter).
 */
function inOrder(blocks: string, first: string, second: string): boolean {
  const lastFirst = blocks.lastIndexOf(first);
  const firstSecond = blocks.indexOf(second);
  return lastFirst >= 0 && firstSecond >= 0 && lastFirst < firstSecond;
}

/** The loudest any 20 ms block of `pcm` has either mute note. */
function loudestMuteNoteDb(pcm: Int16Array): number {
  let loudest = -200;
  for (let at = 0; at + 160 <= pcm.length; at += 160) {
    const block = pcm.subarray(at, at + 160);
    loudest = Math.max(
      loudest,
      toneLevelDb(block, MUTE_TONE_HZ.high, 8000),
      toneLevelDb(block, MUTE_TONE_HZ.low, 8000)
    );
  }
  return loudest;
}

/** What every phone hears over the second after `presser` sends `digit` as SIP INFO. */
async function heardAfter(phones: TonePhone[], presser: number, digit: string): Promise<Int16Array[]> {
  const heard = Promise.all(phones.map((p) => p.listen(1000)));
  await phones[presser].infoDigit(digit);
  return heard;
}

describe('mute tones', () => {
  it('the party that mutes hears falling notes, and rising ones when it unmutes; the others hear neither', async () => {
    const phones = await joinAll('mutetones1', ['alice', 'bob', 'carol']);
    try {
      let heard = await heardAfter(phones, 1, '0');
      const muted = notes(heard[1]);
      console.log(`bob after muting: ${muted}`);
      expect(inOrder(muted, 'H', 'L')).toBe(true);
      for (const other of [0, 2]) expect(loudestMuteNoteDb(heard[other])).toBeLessThan(ABSENT_DB);

      heard = await heardAfter(phones, 1, '1');
      const unmuted = notes(heard[1]);
      console.log(`bob after unmuting: ${unmuted}`);
      expect(inOrder(unmuted, 'L', 'H')).toBe(true);
      for (const other of [0, 2]) expect(loudestMuteNoteDb(heard[other])).toBeLessThan(ABSENT_DB);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('muteTones: false mutes without a sound', async () => {
    const phones = await joinAll('mutetones2', ['alice2', 'quiet2', 'carol2']);
    try {
      const heard = await heardAfter(phones, 1, '0');
      expect(loudestMuteNoteDb(heard[1])).toBeLessThan(ABSENT_DB);
      // Muted indeed: the others no longer hear its tone.
      const after = await Promise.all(phones.map((p) => p.listen(600)));
      expect(toneLevelDb(after[0], TONES[1], 8000)).toBeLessThan(-55);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
