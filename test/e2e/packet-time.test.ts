/**
 * Callers that packetize otherwise than the engine's 20 ms frames: a trunk or phone sending 10, 30
 * or 40 ms packets (its a=ptime, whatever our answer asks for) is heard in the conference as
 * clean as one sending 20 ms. Over real SIP and RTP: a tone phone at each packet time talks, a
 * 20 ms phone listens. And the other way: a listener whose offer asks for 30 or 40 ms packets
 * gets them (before, 20 ms whatever it asked), a clean tone in packets that follow one another.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostStallWatch } from '../support/host-stall-watch.js';
import { largestStep, rmsDbfs, toneLevelDb } from '../support/tone-analysis.js';
import { TonePhone } from '../support/tone-phone.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

let rooms: ToneRoomEngine | undefined;
const phones: TonePhone[] = [];

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await rooms?.stop();
  rooms = undefined;
});

describe('a caller packetizing at other than 20 ms', () => {
  for (const ptimeMs of [10, 30, 40]) {
    it(`is heard as a clean continuous tone when it sends ${ptimeMs} ms packets`, async () => {
      // The phones share this process with the engine: while the host holds it off the CPU, the
      // talker sends nothing and the engine conceals what did not come (no packet late or lost).
      const hostStalls = new HostStallWatch().start();
      const startedMs = performance.now();
      rooms = await ToneRoomEngine.start({
        rtp: { minPort: 45000 + ptimeMs * 10, maxPort: 45099 + ptimeMs * 10 }
      });
      const talker = await TonePhone.create({ toneHz: 1000, user: 'talker', ptimeMs });
      const listener = await TonePhone.create({ toneHz: null, user: 'listener' });
      phones.push(talker, listener);
      await rooms.join(`ptime${ptimeMs}`, [talker, listener]);
      await listener.listen(500);
      const heard = await listener.listen(2000);

      const stats = rooms.channels.get('talker')!.rtpStats()!;
      hostStalls.stop();
      const heldOffFrames = Math.ceil(hostStalls.heldOffMs(startedMs, performance.now()) / 20);
      expect(stats.packetTimeMs).toBe(ptimeMs);
      expect(stats.packetsLate).toBe(0);
      // A pure tone is what concealment predicts best, so the audio alone would not show a buffer
      // that plays half of each 40 ms packet and conceals the rest (about 60 of these 125 frames):
      // its count does, net of the frames the host held the talker off the CPU for.
      expect(stats.concealedFrames).toBeLessThanOrEqual(2 + heldOffFrames);
      // The tone at its level (amplitude 6000: -14.7 dBFS), in every 20 ms of what was heard.
      expect(toneLevelDb(heard, 1000, 8000)).toBeGreaterThan(-17);
      let quietFrames = 0;
      for (let at = 0; at + 160 <= heard.length; at += 160)
        if (rmsDbfs(heard.subarray(at, at + 160)) < -21) quietFrames++;
      console.log(
        `${ptimeMs} ms packets: ${quietFrames} quiet frames of ${Math.floor(heard.length / 160)}, concealed ${stats.concealedFrames} (host held the process off the CPU for ${heldOffFrames} frames), largest step ${largestStep(heard)}`
      );
      // Frames the host held the talker off the CPU for were never sent: concealed, then quiet.
      expect(quietFrames).toBeLessThanOrEqual(2 + heldOffFrames);
      // A 1 kHz sine of amplitude 6000 moves at most 6000 * 2π/8 ≈ 4,700 per sample (μ-law adds a little).
      expect(largestStep(heard)).toBeLessThan(6000);
    });
  }
});

describe("the engine's packets to a caller that asks for a packet time", () => {
  for (const [ptimeMs, expectedMs] of [
    [30, 30],
    [40, 40],
    [10, 20]
  ] as const) {
    it(`a=ptime:${ptimeMs}: ${expectedMs} ms packets carrying a clean continuous tone`, async () => {
      const hostStalls = new HostStallWatch().start();
      const startedMs = performance.now();
      rooms = await ToneRoomEngine.start({
        rtp: { minPort: 46000 + ptimeMs * 10, maxPort: 46099 + ptimeMs * 10 }
      });
      const talker = await TonePhone.create({ toneHz: 1000, user: 'talker' });
      const listener = await TonePhone.create({ toneHz: null, user: 'listener', ptimeMs });
      phones.push(talker, listener);
      await rooms.join(`sendptime${ptimeMs}`, [talker, listener]);
      await listener.listen(500);
      const heard = await listener.listen(2000);
      const packets = [...listener.receivedPackets];
      hostStalls.stop();
      const heldOffFrames = Math.ceil(hostStalls.heldOffMs(startedMs, performance.now()) / 20);

      const bytes = (expectedMs * 8000) / 1000;
      const full = packets.filter((p) => p.payloadBytes === bytes).length;
      // A stall of the engine past four frames starts a new talkspurt, and the packet before it is
      // shorter: the host holding this process off the CPU makes at most one per four frames held.
      expect(full).toBeGreaterThanOrEqual(packets.length - 2 - Math.floor(heldOffFrames / 4));
      for (let i = 1; i < packets.length; i++) {
        const [previous, packet] = [packets[i - 1], packets[i]];
        expect((packet.sequence - previous.sequence) & 0xffff).toBe(1);
        if (!packet.marker) expect((packet.timestamp - previous.timestamp) >>> 0).toBe(previous.payloadBytes);
      }
      expect(toneLevelDb(heard, 1000, 8000)).toBeGreaterThan(-17);
      let quietFrames = 0;
      for (let at = 0; at + 160 <= heard.length; at += 160)
        if (rmsDbfs(heard.subarray(at, at + 160)) < -21) quietFrames++;
      console.log(
        `sent to a=ptime:${ptimeMs}: ${full} of ${packets.length} packets of ${bytes} bytes, ${quietFrames} quiet frames (host held the process off the CPU for ${heldOffFrames} frames), largest step ${largestStep(heard)}`
      );
      expect(quietFrames).toBeLessThanOrEqual(2 + heldOffFrames);
      expect(largestStep(heard)).toBeLessThan(6000);
    });
  }
});
