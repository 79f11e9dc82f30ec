/**
 * Wideband conferences with real G.722 phones: two baresips (spandsp's G.722, g722.so) in one
 * 16 kHz room. Each sends a tone above 4 kHz, which no narrowband path carries: what each hears
 * was encoded by the other's spandsp, decoded, mixed and encoded by the engine, and decoded by its
 * own spandsp. The packets on the wire carry payload type 9.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { State } from '../../engine/index.js';
import { Baresip } from '../support/baresip.js';
import { sine } from '../support/dsp-prng.js';
import { hasPeer } from '../support/peers.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';
import { UdpCapture } from '../support/udp-capture.js';
import { sleep, waitFor } from '../support/wait.js';

const ready = hasPeer('baresip') && hasPeer('tcpdump');
const RATE_HZ = 16000;
const A_HZ = 6000;
const B_HZ = 5000;
const AMPLITUDE = 8000;
// Below the kernel's ephemeral ports (32768 and up) and every other test's ranges: a port another
// test binds (an engine's RTP, a baresip's SIP) would fail a baresip's bind here, or theirs.
const MIN_PORT = 24000 + 2 * Math.floor(Math.random() * 500);
const MAX_PORT = MIN_PORT + 19;

let rooms: ToneRoomEngine;

beforeAll(async () => {
  if (ready)
    rooms = await ToneRoomEngine.start({
      rtp: { minPort: MIN_PORT, maxPort: MAX_PORT },
      roomSampleRateHz: 16000
    });
});

afterAll(async () => {
  await rooms?.stop();
});

describe.runIf(ready)('G.722 phones in a 16 kHz room', () => {
  it('each hears the tone above 4 kHz the other sends, at its level; every packet is payload type 9', async () => {
    const base = 26000 + 8 * Math.floor(Math.random() * 250);
    const a = new Baresip({
      microphone: sine(20 * RATE_HZ, A_HZ, RATE_HZ, AMPLITUDE),
      codec: 'G722',
      sipPort: base,
      user: 'hda'
    });
    const b = new Baresip({
      microphone: sine(20 * RATE_HZ, B_HZ, RATE_HZ, AMPLITUDE),
      codec: 'G722',
      sipPort: base + 4,
      user: 'hdb'
    });
    const capture = new UdpCapture();
    const inRoom = (user: string): boolean => rooms.channels.get(user)?.state === State.TRANSFERRED;
    try {
      await capture.start(MIN_PORT, MAX_PORT);
      await sleep(500);
      a.type(`/dial sip:hd@127.0.0.1:${rooms.sipPort}\n`);
      b.type(`/dial sip:hd@127.0.0.1:${rooms.sipPort}\n`);
      await waitFor(() => inRoom('hda') && inRoom('hdb'), 10_000);
      expect([rooms.channels.get('hda')?.codec, rooms.channels.get('hdb')?.codec]).toEqual(['G722', 'G722']);
      await sleep(2500);
      const records = await capture.stop();
      a.type('/hangup\n');
      b.type('/hangup\n');
      await waitFor(() => /terminated/.test(a.output) && /terminated/.test(b.output), 5000);
      const heardByA = a.heard();
      const heardByB = b.heard();
      const tailA = heardByA.subarray(Math.max(0, heardByA.length - RATE_HZ));
      const tailB = heardByB.subarray(Math.max(0, heardByB.length - RATE_HZ));
      const sent = 20 * Math.log10(AMPLITUDE / 32768);
      const levels = {
        aHearsB: toneLevelDb(tailA, B_HZ, RATE_HZ),
        bHearsA: toneLevelDb(tailB, A_HZ, RATE_HZ),
        aHearsItself: toneLevelDb(tailA, A_HZ, RATE_HZ)
      };
      expect(Math.abs(levels.aHearsB - sent), JSON.stringify(levels)).toBeLessThan(1.5);
      expect(Math.abs(levels.bHearsA - sent), JSON.stringify(levels)).toBeLessThan(1.5);
      // Mix-minus: its own tone is not sent back to it.
      expect(levels.aHearsItself).toBeLessThan(sent - 30);
      // RTP, not RTCP (whose second byte is a packet type of 200 to 204).
      const rtp = records.filter(
        (r) => r.payload.length >= 12 && r.payload[0] >> 6 === 2 && r.payload[1] < 200
      );
      expect(rtp.length).toBeGreaterThan(200);
      expect(new Set(rtp.map((r) => r.payload[1] & 0x7f))).toEqual(new Set([9]));
      expect(new Set(rtp.map((r) => r.payload.length - 12))).toEqual(new Set([160]));
    } finally {
      await capture.stop().catch(() => undefined);
      await a.close();
      await b.close();
    }
  });
});
