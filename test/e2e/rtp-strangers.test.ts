/**
 * The attack from issue 13 over real SIP and RTP on loopback: a stranger sprays well-formed RTP
 * (its own tone) at every port of the engine's RTP range, before the calls start and all through
 * them. Two callers meet in a room: neither hears the stranger, each keeps hearing the other, and
 * the engine sends the stranger nothing. The dropped packets show in the metrics.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  ConferencePartyMediaSettings,
  Engine,
  State,
  type UASCallChannel
} from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb, ulawEncode } from '../support/tone-analysis.js';
import { waitFor } from '../support/wait.js';

const ALICE_HZ = 440;
const BOB_HZ = 620;
const STRANGER_HZ = 1500;
const HEARD_DB = -40;
const ABSENT_DB = -55;
// A small range of its own so the stranger can cover every port of it.
const MIN_PORT = 33000 + 2 * Math.floor(Math.random() * 1000);
const MAX_PORT = MIN_PORT + 19;

let engine: Engine;
let sipPort: number;
let stranger: dgram.Socket;
let spray: NodeJS.Timeout;
let strangerReceived = 0;
const channels = new Map<string, UASCallChannel>();

beforeAll(async () => {
  stranger = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => stranger.bind(0, '127.0.0.2', () => resolve()));
  stranger.on('message', () => strangerReceived++);
  const packet = Buffer.alloc(172);
  let seq = 0;
  let phase = 0;
  spray = setInterval(() => {
    packet[0] = 0x80;
    packet[1] = 0;
    packet.writeUInt16BE(seq & 0xffff, 2);
    packet.writeUInt32BE((seq * 160) >>> 0, 4);
    packet.writeUInt32BE(0x5757, 8);
    for (let i = 0; i < 160; i++, phase += (2 * Math.PI * STRANGER_HZ) / 8000)
      packet[12 + i] = ulawEncode(Math.round(8000 * Math.sin(phase)));
    seq++;
    for (let port = MIN_PORT; port <= MAX_PORT; port++) stranger.send(packet, port, '127.0.0.1');
  }, 20);

  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: MIN_PORT, maxPort: MAX_PORT }
  });
  engine.on('call', async (channel) => {
    const user = /sip:([a-z0-9]+)@/.exec(channel.remoteUri ?? '')?.[1] ?? '';
    channels.set(user, channel);
    // Ring a while first: the stranger's packets reach the new call's port before the caller's.
    await channel.ring();
    await new Promise((r) => setTimeout(r, 200));
    await channel.answer();
    await channel.transferToConferenceRoom(engine.createChannel(), 'strangers', {
      conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: true }),
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false }),
      secondsTimeout: 10
    });
  });
  await engine.start();
  sipPort = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  clearInterval(spray);
  await engine?.stop();
  stranger?.close();
});

/**
 * A phone whose own RTP port is not one the stranger sprays: the range lies among the system's
 * ephemeral ports, and a phone bound there heard the stranger itself (bob heard it at -21 dB).
 */
async function phoneOutsideSpray(toneHz: number, user: string): Promise<TonePhone> {
  for (;;) {
    const phone = await TonePhone.create({ toneHz, user });
    if (phone.rtpPort < MIN_PORT || phone.rtpPort > MAX_PORT) return phone;
    await phone.close();
  }
}

describe("strangers' RTP", () => {
  it('a stranger spraying RTP at every port before and during the calls is not heard, not answered, and counted', async () => {
    const alice = await phoneOutsideSpray(ALICE_HZ, 'alice');
    const bob = await phoneOutsideSpray(BOB_HZ, 'bob');
    try {
      await Promise.all([
        alice.call(`sip:strangers@127.0.0.1:${sipPort}`),
        bob.call(`sip:strangers@127.0.0.1:${sipPort}`)
      ]);
      await waitFor(
        () =>
          channels.get('alice')?.state === State.TRANSFERRED &&
          channels.get('bob')?.state === State.TRANSFERRED
      );
      await new Promise((r) => setTimeout(r, 300));
      alice.clearReceived();
      bob.clearReceived();
      await new Promise((r) => setTimeout(r, 1200));
      const heardByAlice = alice.receivedPcm();
      const heardByBob = bob.receivedPcm();
      const db = (pcm: Int16Array, hz: number): number => toneLevelDb(pcm, hz, 8000);
      console.log(
        `alice hears bob ${db(heardByAlice, BOB_HZ).toFixed(1)} dB, stranger ${db(heardByAlice, STRANGER_HZ).toFixed(1)} dB; ` +
          `bob hears alice ${db(heardByBob, ALICE_HZ).toFixed(1)} dB, stranger ${db(heardByBob, STRANGER_HZ).toFixed(1)} dB; ` +
          `stranger received ${strangerReceived} packets`
      );
      expect(heardByAlice.length).toBeGreaterThan(1600);
      expect(db(heardByAlice, BOB_HZ)).toBeGreaterThan(HEARD_DB);
      expect(db(heardByBob, ALICE_HZ)).toBeGreaterThan(HEARD_DB);
      expect(db(heardByAlice, STRANGER_HZ)).toBeLessThan(ABSENT_DB);
      expect(db(heardByBob, STRANGER_HZ)).toBeLessThan(ABSENT_DB);
      expect(strangerReceived).toBe(0);
      await waitFor(() => engine.metrics.rtp.strangers.value > 50);
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });
});
