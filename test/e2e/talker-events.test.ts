/**
 * Talker detection end to end: a party's voice (here a tone, switched on and off by the test
 * phone) raises 'talking' / 'stoppedTalking' on its channel and on its room, a talker who
 * leaves the room mid-sentence gets a final 'stoppedTalking' on the room, and one who enters
 * talking is talking in the room. A muted, coaching or held party, whom the room does not hear,
 * is not talking in it; given back to the room while it talks, it is.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, State, ConferencePartyMediaSettings, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let port: number;
const channels: UASCallChannel[] = [];
/** What room 'talk2' told a listener that subscribed once the transfer into it resolved. */
const lateListenerEvents: string[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 39000, maxPort: 39499 }
  });
  engine.on('call', async (channel) => {
    channels.push(channel);
    await channel.answer();
    const room = /^sip:(talk[234])@/.exec(channel.requestUri ?? '')?.[1] ?? 'talk1';
    // Into 'talk2' once the caller talks: it enters the room mid-sentence.
    if (room === 'talk2') await new Promise((resolve) => channel.once('talking', resolve));
    await channel.transferToConferenceRoom(engine.createChannel(), room, {
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
    });
    if (room !== 'talk2') return;
    // As README's embedding example does: listen once the transfer has resolved.
    const conference = engine.conference('talk2');
    conference?.on('talking', ({ party }) => lateListenerEvents.push(`talking:${party.label}`));
    conference?.on('stoppedTalking', ({ party }) => lateListenerEvents.push(`stopped:${party.label}`));
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

/** Two silent phones called into `room` one after the other, once both are in it: the phones and their channels. */
async function twoCallersIn(room: string, users: [string, string]): Promise<[TonePhone[], UASCallChannel[]]> {
  const phones = [
    await TonePhone.create({ toneHz: null, user: users[0] }),
    await TonePhone.create({ toneHz: null, user: users[1] })
  ];
  try {
    for (const phone of phones) await phone.call(`sip:${room}@127.0.0.1:${port}`);
    const inRoom = (): UASCallChannel[] => channels.filter((c) => c.requestUri?.startsWith(`sip:${room}@`));
    await waitFor(() => inRoom().length === 2 && inRoom().every((c) => c.state === State.TRANSFERRED));
    return [phones, inRoom()];
  } catch (error) {
    await Promise.all(phones.map((p) => p.close()));
    throw error;
  }
}

describe('talker detection', () => {
  it('raises talking and stoppedTalking on the channel and the room, and a final stop when a talker leaves', async () => {
    const [[quiet, talker], [, talkerChannel]] = await twoCallersIn('talk1', ['quiet', 'talker']);
    try {
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

  it('tells a talker the application hangs up stopped before it leaves the room and before its channel is IDLE', async () => {
    // The room told 'partyLeft' and then the party's last 'stoppedTalking', and the channel its
    // 'stoppedTalking' after 'stateChange' to IDLE: both after the event that ends the party or call.
    const [[quiet, talker], [, talkerChannel]] = await twoCallersIn('talk4', ['quiet4', 'talker4']);
    try {
      const events: string[] = [];
      const room = engine.conference('talk4')!;
      const who = (party: { label?: string }): string =>
        party.label === talkerChannel.id ? 'talker' : 'quiet';
      room.on('talking', ({ party }) => events.push(`room talking:${who(party)}`));
      room.on('stoppedTalking', ({ party }) => events.push(`room stopped:${who(party)}`));
      room.on('partyLeft', ({ party }) => events.push(`room left:${who(party)}`));
      talkerChannel.on('talking', () => events.push('channel talking'));
      talkerChannel.on('stoppedTalking', () => events.push('channel stopped'));
      talkerChannel.on('stateChange', ({ state }) => events.push(`channel ${state}`));
      talker.toneHz = 440;
      await waitFor(() => events.includes('room talking:talker'));
      await talkerChannel.hangUp();
      expect(events).toEqual([
        'channel talking',
        'room talking:talker',
        'room stopped:talker',
        'room left:talker',
        'channel stopped',
        'channel IDLE'
      ]);
    } finally {
      await quiet.close();
      await talker.close();
    }
  });

  it('reports a party who enters talking as talking in the room, to a listener added once the transfer resolved, and its stop once', async () => {
    const talker = await TonePhone.create({ toneHz: 440, user: 'early' });
    try {
      await talker.call(`sip:talk2@127.0.0.1:${port}`);
      const isTalk2 = (c: UASCallChannel): boolean => c.requestUri?.startsWith('sip:talk2@') === true;
      await waitFor(() => channels.some(isTalk2));
      const channel = channels.find(isTalk2) as UASCallChannel;
      await waitFor(() => channel.state === State.TRANSFERRED);
      await waitFor(() => lateListenerEvents.length === 1);
      expect(lateListenerEvents).toEqual([`talking:${channel.id}`]);
      talker.toneHz = null;
      await waitFor(() => lateListenerEvents.length === 2);
      expect(lateListenerEvents).toEqual([`talking:${channel.id}`, `stopped:${channel.id}`]);
    } finally {
      await talker.close();
    }
  });

  it('tells the room nothing of a muted, coaching or held party talking, and a talker given back to the room is talking in it', async () => {
    const [[coach, agent], [coachChannel, agentChannel]] = await twoCallersIn('talk3', ['coach', 'agent']);
    try {
      const channelEvents: string[] = [];
      coachChannel.on('talking', () => channelEvents.push('talking'));
      coachChannel.on('stoppedTalking', () => channelEvents.push('stoppedTalking'));
      const room = engine.conference('talk3')!;
      const roomEvents: string[] = [];
      room.on('talking', ({ party }) => roomEvents.push(`talking:${party.label}`));
      room.on('stoppedTalking', ({ party }) => roomEvents.push(`stopped:${party.label}`));
      const mutedTalking: string[] = [];
      room.on('mutedTalking', ({ party }) => mutedTalking.push(party.label!));
      const talking = `talking:${coachChannel.id}`;
      const stopped = `stopped:${coachChannel.id}`;

      coach.toneHz = 440;
      await waitFor(() => roomEvents.length === 1);
      await room.coach(coachChannel.id, agentChannel.id);
      expect(roomEvents).toEqual([talking, stopped]); // out of the room's hearing mid-sentence

      // Its channel still hears it stop and start again; the room does not.
      coach.toneHz = null;
      await waitFor(() => channelEvents.includes('stoppedTalking'));
      coach.toneHz = 440;
      await waitFor(() => channelEvents.at(-1) === 'talking');
      expect(roomEvents).toEqual([talking, stopped]);

      await room.stopCoaching(coachChannel.id);
      expect(roomEvents).toEqual([talking, stopped, talking]);
      await room.hold(coachChannel.id);
      expect(roomEvents.at(-1)).toBe(stopped);
      await room.unhold(coachChannel.id);
      expect(roomEvents).toEqual([talking, stopped, talking, stopped, talking]);
      expect(mutedTalking).toEqual([]);
      await room.mute(coachChannel.id);
      expect(roomEvents.at(-1)).toBe(stopped);
      // Muted mid-sentence: talking while muted, as FreeSWITCH's mute-detect says.
      expect(mutedTalking).toEqual([coachChannel.id]);
      // Muted and coaching, then not coaching: still muted, so still not talking in the room; and
      // back where the room would hear it if unmuted, talking while muted again.
      await room.coach(coachChannel.id, agentChannel.id);
      await room.stopCoaching(coachChannel.id);
      expect(roomEvents).toHaveLength(6);
      expect(mutedTalking).toEqual([coachChannel.id, coachChannel.id]);
      coach.toneHz = null;
      await waitFor(() => channelEvents.at(-1) === 'stoppedTalking');
      coach.toneHz = 440;
      await waitFor(() => mutedTalking.length === 3);
      await room.unmute(coachChannel.id);
      expect(roomEvents).toEqual([talking, stopped, talking, stopped, talking, stopped, talking]);
      expect(mutedTalking).toHaveLength(3);
    } finally {
      await coach.close();
      await agent.close();
    }
  });
});
