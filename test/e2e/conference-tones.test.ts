/**
 * End to end over real SIP and RTP on loopback: three phones, each sending its own tone, are
 * transferred into one room; what each receives is analysed with Goertzel. Each hears the other
 * two and not itself; a listen-only party's tone reaches nobody; a muted party's tone is absent
 * until it unmutes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ConferencePartyMediaSettings } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

const TONES = [440, 620, 980] as const;
const HEARD_DB = -40;
const ABSENT_DB = -55;

let rooms: ToneRoomEngine;

beforeAll(async () => {
  rooms = await ToneRoomEngine.start({
    rtp: { minPort: 31000, maxPort: 31999 },
    media: () => {
      const media = new ConferencePartyMediaSettings({ beepOnEntry: false });
      media.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
      return media;
    },
    talkerAndListener: (user) => !user.startsWith('listener')
  });
});

afterAll(async () => {
  await rooms?.stop();
});

async function joinAll(room: string, users: string[]): Promise<TonePhone[]> {
  const phones = await Promise.all(users.map((user, i) => TonePhone.create({ toneHz: TONES[i], user })));
  return rooms.join(room, phones);
}

/** Lets the audio settle for 300 ms, then returns `ms` of what each phone receives. */
async function listen(phones: TonePhone[], ms = 1000): Promise<Int16Array[]> {
  await Promise.all(phones.map((p) => p.listen(300)));
  return Promise.all(phones.map((p) => p.listen(ms)));
}

function levels(pcm: Int16Array): number[] {
  return TONES.map((f) => toneLevelDb(pcm, f, 8000));
}

describe('conference over SIP and RTP', () => {
  it('each party hears the other two and not itself', async () => {
    const phones = await joinAll('tones1', ['alice', 'bob', 'carol']);
    try {
      const heard = await listen(phones);
      heard.forEach((pcm, me) => {
        const db = levels(pcm);
        console.log(`party ${me} (${TONES[me]} Hz) hears`, db.map((d) => d.toFixed(1)).join(' / '), 'dB');
        db.forEach((level, other) => {
          if (other === me) expect(level).toBeLessThan(ABSENT_DB);
          else expect(level).toBeGreaterThan(HEARD_DB);
        });
      });
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it("a listen-only party's tone reaches nobody, and it hears everyone", async () => {
    const phones = await joinAll('tones2', ['alice2', 'bob2', 'listener2']);
    try {
      const heard = await listen(phones);
      const [a, b, l] = heard.map(levels);
      expect(a[2]).toBeLessThan(ABSENT_DB);
      expect(b[2]).toBeLessThan(ABSENT_DB);
      expect(l[0]).toBeGreaterThan(HEARD_DB);
      expect(l[1]).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it("a muted party's tone is absent until it unmutes (DTMF over SIP INFO)", async () => {
    const phones = await joinAll('tones3', ['alice3', 'bob3', 'carol3']);
    try {
      await phones[1].infoDigit('0');
      let heard = await listen(phones);
      expect(levels(heard[0])[1]).toBeLessThan(ABSENT_DB);
      expect(levels(heard[2])[1]).toBeLessThan(ABSENT_DB);
      expect(levels(heard[1])[0]).toBeGreaterThan(HEARD_DB); // muted, still hears
      await phones[1].infoDigit('1');
      heard = await listen(phones);
      expect(levels(heard[0])[1]).toBeGreaterThan(HEARD_DB);
      expect(levels(heard[2])[1]).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('two rooms never hear each other', async () => {
    const phones = await joinAll('roomA', ['alice4', 'bob4']);
    const others = await joinAll('roomB', ['carol4']).catch(async (e) => {
      await Promise.all(phones.map((p) => p.close()));
      throw e;
    });
    try {
      // carol4 sends 440 Hz in roomB, like alice4 in roomA: change hers to 980 to tell them apart.
      others[0].toneHz = 980;
      const heard = await listen([...phones, ...others]);
      expect(levels(heard[0])[2]).toBeLessThan(ABSENT_DB);
      expect(levels(heard[1])[2]).toBeLessThan(ABSENT_DB);
      expect(levels(heard[2])[0]).toBeLessThan(ABSENT_DB);
      expect(levels(heard[2])[1]).toBeLessThan(ABSENT_DB);
    } finally {
      await Promise.all([...phones, ...others].map((p) => p.close()));
    }
  });
});
