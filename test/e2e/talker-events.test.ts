/**
 * Talker detection end to end: a party's voice (here a tone, switched on and off by the test
 * phone) raises 'talking' / 'stoppedTalking' on its channel and on its room, and a talker who
 * leaves the room mid-sentence gets a final 'stoppedTalking' on the room.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, State, ConferencePartyMediaSettings, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const channels: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 39000, maxPort: 39499 }
  });
  engine.on('call', async (channel) => {
    channels.push(channel);
    await channel.answer();
    await channel.transferToConferenceRoom(engine.createChannel(), 'talk1', {
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
    });
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

describe('talker detection', () => {
  it('raises talking and stoppedTalking on the channel and the room, and a final stop when a talker leaves', async () => {
    const quiet = await TonePhone.create({ toneHz: null, user: 'quiet' });
    const talker = await TonePhone.create({ toneHz: null, user: 'talker' });
    try {
      await quiet.call(`sip:talk1@127.0.0.1:${port}`);
      await talker.call(`sip:talk1@127.0.0.1:${port}`);
      await waitFor(() => channels.length === 2 && channels.every((c) => c.state === State.TRANSFERRED));
      const talkerChannel = channels[1];
      const channelEvents: string[] = [];
      talkerChannel.on('talking', () => channelEvents.push('talking'));
      talkerChannel.on('stoppedTalking', () => channelEvents.push('stoppedTalking'));
      const room = engine.conference('talk1');
      expect(room).toBeDefined();
      const roomEvents: string[] = [];
      room!.on('talking', ({ party }) => roomEvents.push(`talking:${party.label}`));
      room!.on('stoppedTalking', ({ party }) => roomEvents.push(`stopped:${party.label}`));

      talker.toneHz = 440;
      await waitFor(() => channelEvents.includes('talking'));
      talker.toneHz = null;
      await waitFor(() => channelEvents.includes('stoppedTalking'));
      expect(channelEvents).toEqual(['talking', 'stoppedTalking']);
      expect(roomEvents).toEqual([`talking:${talkerChannel.id}`, `stopped:${talkerChannel.id}`]);

      // Talking when it leaves: the room still hears the end of it.
      talker.toneHz = 440;
      await waitFor(() => roomEvents.length === 3);
      await talker.hangUp();
      await waitFor(() => roomEvents.length === 4);
      expect(roomEvents[3]).toBe(`stopped:${talkerChannel.id}`);
      expect(roomEvents.filter((e) => e.startsWith('talking:quiet'))).toHaveLength(0);
    } finally {
      await quiet.close();
      await talker.close();
    }
  });
});
