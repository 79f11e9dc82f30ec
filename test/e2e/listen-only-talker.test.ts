/**
 * A listen-only party (`talkerAndListener: false`) is not in the mix, so the room does not hear
 * it: its voice raises talker events on its own channel, but none on the room, neither
 * 'talking' nor the muted party's 'mutedTalking' hint (unmuting would not make it heard). The
 * room had reported it talking, and a cluster's other nodes as `remoteTalking`, while nobody
 * heard a sound of it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Engine, State, ConferencePartyMediaSettings, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const HOST = '127.0.2.10';
let engine: Engine;
let port: number;
const channels = new Map<string, UASCallChannel>();

beforeAll(async () => {
  engine = new Engine({
    sip: { host: HOST, port: 0, transports: ['udp'] },
    rtp: { minPort: 32600, maxPort: 32699 }
  });
  engine.on('call', async (channel) => {
    const user = /^sip:([a-z]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    channels.set(user, channel);
    await channel.answer();
    await channel.transferToConferenceRoom(engine.createChannel(), 'listeners', {
      talkerAndListener: !user.startsWith('listener'),
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({
        beepOnEntry: false,
        startMuted: user === 'listenermuted'
      })
    });
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

describe('a listen-only party talking', () => {
  it('is talking on its channel but not in the room, muted or not', async () => {
    const users = ['talker', 'listener', 'listenermuted'];
    const phones = await Promise.all(
      users.map((user, i) => TonePhone.create({ toneHz: null, user, host: `127.0.2.${11 + i}` }))
    );
    try {
      for (const phone of phones) await phone.call(`sip:listeners@${HOST}:${port}`);
      await waitFor(() => users.every((u) => channels.get(u)?.state === State.TRANSFERRED));
      const room = engine.conference('listeners')!;
      const roomEvents: string[] = [];
      room.on('talking', ({ party }) => roomEvents.push(`talking:${party.label}`));
      room.on('mutedTalking', ({ party }) => roomEvents.push(`mutedTalking:${party.label}`));
      const [talker, listener, mutedListener] = phones;
      const channelTalking = (user: string): Promise<void> =>
        new Promise((resolve) => channels.get(user)!.once('talking', () => resolve()));

      const listenersTalking = Promise.all([channelTalking('listener'), channelTalking('listenermuted')]);
      listener.toneHz = 440;
      mutedListener.toneHz = 620;
      await listenersTalking;
      // A talker the room hears, after them: the room's events have been flowing meanwhile.
      talker.toneHz = 980;
      await waitFor(() => roomEvents.length > 0);
      expect(roomEvents).toEqual([`talking:${channels.get('talker')!.id}`]);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
