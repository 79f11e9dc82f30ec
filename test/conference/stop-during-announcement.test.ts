/**
 * Stopping the engine with parties in a room: each party's BYE makes the room announce its exit,
 * and the prompt service closes while those announcements are still being synthesised. Nobody is
 * left to hear them, so a clean stop reports nothing: no AnnouncementError on the engine's
 * 'error' event (and so none in its log at error level, which `npm start` showed on SIGTERM).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConferencePartyMediaSettings, State, type Engine } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const phones: TonePhone[] = [];

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

describe('engine.stop() with exit announcements pending', () => {
  it('ends every call and reports no announcement error', async () => {
    const { engine, sipPort, incoming } = await startAnsweringEngine({ minPort: 60400, maxPort: 60499 });
    const errors: unknown[] = [];
    engine.on('error', (error) => errors.push(error));
    let stopped = false;
    try {
      for (const name of ['ann', 'bob', 'cy']) {
        const phone = await TonePhone.create({ toneHz: 440, user: name });
        phones.push(phone);
        const before = incoming.length;
        await phone.call(`sip:room@127.0.0.1:${sipPort}`);
        await waitFor(() => incoming.length > before && incoming[before].state === State.ANSWERED);
        const media = new ConferencePartyMediaSettings({ beepOnEntry: false });
        media.prefixMedia.textToSay(name);
        media.onExitMedia.textToSay('has left the conference');
        expect(
          await incoming[before].transferToConferenceRoom(engine.createChannel(), 'stop1', {
            conferencePartyMediaSettings: media
          })
        ).toBe(State.TRANSFERRED);
      }
      expect(engine.rooms.get('stop1')?.size).toBe(3);
      await stopEngine(engine);
      stopped = true;
      expect(phones.every((p) => p.endedByRemote)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      if (!stopped) await engine.stop();
    }
  });
});

async function stopEngine(engine: Engine): Promise<void> {
  await engine.stop();
  // An announcement's synthesis settles after the prompt service rejected it.
  await new Promise((resolve) => setTimeout(resolve, 200));
}
