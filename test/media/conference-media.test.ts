/**
 * A room's media on a running engine: which channel an announcement failure names. A party placed
 * by transferToConferenceRoom is its channel's (test/channel/transfer.test.ts checks that error);
 * a party joined straight into the room registry has no channel, whatever its label says. An
 * announcement in a room whose mix has nobody (its parties joined without a call) plays out all
 * the same: before, the room's `say()` never settled. A `playFile` refused while a `say` ahead of
 * it is still being made rejects to its caller; before, its rejection also went unhandled and
 * ended the process, though the application caught both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { AnnouncementError, ConferencePartyMediaSettings, Engine } from '../../engine/index.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 57600, maxPort: 57699 },
    files: { playFolders: [fileURLToPath(new URL('../fixtures/wav/', import.meta.url))] },
    logLevel: 'silent'
  });
  await engine.start();
});

afterAll(async () => {
  await engine?.stop();
});

describe('announcement failures', () => {
  it('name no channel for a party joined without one, though its label reads like one', async () => {
    const errors: unknown[] = [];
    const onError = (error: unknown): void => void errors.push(error);
    engine.on('error', onError);
    try {
      const media = new ConferencePartyMediaSettings();
      media.prefixMedia.fileToPlay('../../etc/passwd');
      media.onEntryMedia.fileToPlay('tone-8000-s16.wav');
      const { room, party } = engine.rooms.join('nochannel1', { media, label: 'ch1' });
      expect(room.started).toBe(true);
      await waitFor(() => errors.length > 0);
      expect(party.channelId).toBeUndefined();
      expect(errors[0]).toBeInstanceOf(AnnouncementError);
      expect(errors[0]).toMatchObject({ roomName: 'nochannel1', channelId: undefined, kind: 'entry' });
      expect(String(errors[0])).toMatch(/entry announcement of a party in room 'nochannel1'/);
      room.close();
    } finally {
      engine.off('error', onError);
    }
  });
});

describe('an announcement in a room nobody hears', () => {
  it('plays out all the same, rather than wait for the next caller to hear it late', async () => {
    const media = new ConferencePartyMediaSettings({ beepOnEntry: false });
    const { room } = engine.rooms.join('emptyroom1', { media, label: 'no media' });
    try {
      // A party without a call adds nothing to the mix: the room's mix has no member.
      await engine.conference('emptyroom1')!.say('is anybody there');
      await engine.conference('emptyroom1')!.announcementsPlayed();
    } finally {
      room.close();
    }
  });
});

describe("a room's playFile refused while the item ahead of it is still being made", () => {
  it('rejects to its caller and nowhere else (no unhandled rejection ends the process)', async () => {
    const media = new ConferencePartyMediaSettings({ beepOnEntry: false });
    const { room } = engine.rooms.join('badfile1', { media, label: 'no media' });
    try {
      const conference = engine.conference('badfile1')!;
      const said = conference.say('a sentence that takes a moment to synthesise');
      const played = conference.playFile('no-such-prompt.wav').then(
        () => undefined,
        (error: unknown) => error
      );
      expect(await played).toMatchObject({ code: 'ERR_FILE_NOT_FOUND' });
      await said;
    } finally {
      room.close();
    }
  });
});
