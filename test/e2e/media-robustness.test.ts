/**
 * What users of conference bridges complain about, end to end over SIP and RTP: a re-INVITE
 * mid-conference losing audio, hold and resume, a hang-up during an announcement disturbing the
 * bridge, rooms and ports leaked when parties leave one by one.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, State, ConferencePartyMediaSettings, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { waitFor } from '../support/wait.js';

const HEARD_DB = -40;
const ABSENT_DB = -55;
let engine: Engine;
let port: number;
const errors: unknown[] = [];
const channels = new Map<string, UASCallChannel>();

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 36000, maxPort: 36999 }
  });
  engine.on('error', (e) => errors.push(e));
  engine.on('call', async (channel) => {
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    channels.set(user, channel);
    await channel.answer();
    const room = /sip:([A-Za-z0-9]+)@/.exec(channel.requestUri ?? '')?.[1] ?? 'x';
    const media = new ConferencePartyMediaSettings({ beepOnEntry: false, exitOnDtmfDigit: '#' });
    if (user.startsWith('george')) {
      media.prefixMedia.textToSay('george');
      media.onEntryMedia.textToSay('has joined the conference');
    }
    await channel.transferToConferenceRoom(engine.createChannel(), room, {
      conferencePartyMediaSettings: media
    });
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

async function join(room: string, users: Array<[string, number | null]>): Promise<TonePhone[]> {
  const phones = await Promise.all(users.map(([user, toneHz]) => TonePhone.create({ toneHz, user })));
  await Promise.all(phones.map((p) => p.call(`sip:${room}@127.0.0.1:${port}`)));
  await waitFor(() => users.every(([u]) => channels.get(u)?.state === State.TRANSFERRED));
  return phones;
}

/**
 * Whether the room has an announcement queued or playing: read from the engine's conference media
 * (internal), so the test hangs up while one really plays and measures only after it has ended,
 * however long synthesis and playback take on a loaded host.
 */
function announcing(room: string): boolean {
  type Medias = Map<unknown, { room: { name: string }; mix: { announcements: { playing: boolean } } }>;
  const medias = (engine as unknown as { conferenceMedias: Medias }).conferenceMedias;
  return [...medias.values()].some((m) => m.room.name === room && m.mix.announcements.playing);
}

/** Lets the audio settle for 300 ms, then returns `ms` of what each phone receives. */
async function listen(phones: TonePhone[], ms = 1000): Promise<Int16Array[]> {
  await Promise.all(phones.map((p) => p.listen(300)));
  return Promise.all(phones.map((p) => p.listen(ms)));
}

describe('media robustness in a conference', () => {
  it('keeps audio both ways when a party re-INVITEs from a new RTP port', async () => {
    const [a, b] = await join('reinv1', [
      ['alice1', 440],
      ['bob1', 620]
    ]);
    try {
      await b.reinvite({ newPort: true });
      const [toA, toB] = await listen([a, b]);
      const bob = channels.get('bob1')?.rtpStats();
      console.log(
        `bob's RTP after the move: to ${bob?.remotePort} (phone now on ${b.rtpPort}), ${bob?.packetsReceived} in, ${bob?.packetsFromOtherSources} from other sources, ${bob?.concealedFrames} concealed; received ${toA.length} / ${toB.length} samples`
      );
      console.log(
        `after re-INVITE: bob hears alice ${toneLevelDb(toB, 440, 8000).toFixed(1)} dB, alice hears bob ${toneLevelDb(toA, 620, 8000).toFixed(1)} dB`
      );
      expect(toneLevelDb(toB, 440, 8000)).toBeGreaterThan(HEARD_DB);
      expect(toneLevelDb(toA, 620, 8000)).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all([a, b].map((p) => p.close()));
    }
  });

  it('stops sending to a party that puts the engine on hold, and resumes', async () => {
    const [a, b] = await join('hold1', [
      ['alice2', 440],
      ['bob2', 620]
    ]);
    try {
      await b.reinvite({ direction: 'sendonly' });
      await a.listen(300);
      b.clearReceived();
      const toA = await a.listen(1000); // a second of the engine's audio to the other party...
      expect(b.receivedPcm().length).toBeLessThan(160 * 5); // ...and (almost) nothing to the holding phone
      expect(toneLevelDb(toA, 620, 8000)).toBeGreaterThan(HEARD_DB); // it still talks (sendonly)
      await b.reinvite({ direction: 'sendrecv' });
      const [, toB] = await listen([a, b]);
      expect(toneLevelDb(toB, 440, 8000)).toBeGreaterThan(HEARD_DB);
    } finally {
      await Promise.all([a, b].map((p) => p.close()));
    }
  });

  it('survives a hang-up during an announcement; parties leaving one by one leave no room, channel or port', async () => {
    const portsBefore = engine.rtpPortsInUse;
    const phones = await join('announce1', [
      ['alice3', 440],
      ['bob3', 620],
      ['carol3', 980]
    ]);
    const george = await TonePhone.create({ toneHz: null, user: 'george3' });
    try {
      await george.call(`sip:announce1@127.0.0.1:${port}`);
      await waitFor(() => channels.get('george3')?.state === State.TRANSFERRED);
      await waitFor(() => announcing('announce1'), 20_000); // "george has joined the conference"
      await george.hangUp();
      // The announcement plays on to its end (it is speech: broadband energy), then the tones alone.
      await waitFor(() => !announcing('announce1'), 20_000);
      const heard = await listen(phones);
      heard.forEach((pcm, me) => {
        [440, 620, 980].forEach((f, other) => {
          if (other === me) expect(toneLevelDb(pcm, f, 8000)).toBeLessThan(ABSENT_DB);
          else expect(toneLevelDb(pcm, f, 8000)).toBeGreaterThan(HEARD_DB);
        });
      });
      expect(errors).toEqual([]);

      // One by one: a BYE, an exit digit, the application retrieving.
      await phones[0].hangUp();
      await waitFor(() => engine.rooms.get('announce1')?.size === 2);
      await phones[1].infoDigit('#');
      await waitFor(() => engine.rooms.get('announce1')?.size === 1);
      await channels.get('carol3')!.retrieveTransferredCall();
      expect(engine.rooms.has('announce1')).toBe(false);
      await Promise.all(phones.map((p) => p.close()));
      await Promise.all([...channels.values()].map((c) => c.hangUp()));
      await waitFor(() => engine.activeChannels().length === 0 && engine.rtpPortsInUse === portsBefore);
    } finally {
      await george.close();
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
