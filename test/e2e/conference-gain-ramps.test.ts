/**
 * End to end over real SIP and RTP on loopback: a talker's gain changing in the mix (muted,
 * unmuted, re-volumed), and a listener's listen volume, ramp over a frame instead of stepping. A talker sends a
 * -10 dBFS sine; a silent listener's largest sample-to-sample step while the moderator flips the
 * talker's gain again and again stays near the sine's own largest step. A gain that stepped cut
 * the sine mid-waveform: steps up to its amplitude (measured 2.8 times the sine's own at -20 dBFS),
 * a click in every other ear; a stepped listen volume, 2.6 times.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { largestStep, toneLevelDb } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

const HOST = '127.0.22.1';
/** Peak amplitude of a -10 dBFS sine; 197 Hz has no whole number of periods in a 20 ms frame. */
const MINUS_10_DBFS = 10362;
const HZ = 197;

let rooms: ToneRoomEngine;

beforeAll(async () => {
  rooms = await ToneRoomEngine.start({ rtp: { minPort: 52000, maxPort: 52099 }, sip: { host: HOST } });
});

afterAll(async () => {
  await rooms?.stop();
});

describe('gain changes in the mix', () => {
  it('mute, unmute, talk and listen volume ramp: no step far above the sine’s own', async () => {
    const talker = await TonePhone.create({
      toneHz: HZ,
      amplitude: MINUS_10_DBFS,
      user: 'ramptalker',
      host: '127.0.22.2'
    });
    const listener = await TonePhone.create({ toneHz: null, user: 'ramplistener', host: '127.0.22.3' });
    await rooms.join('ramps', [talker, listener]);
    try {
      const room = rooms.engine.conference('ramps')!;
      const id = rooms.channels.get('ramptalker')!.id;
      const listenerId = rooms.channels.get('ramplistener')!.id;
      await listener.listen(300);
      const steady = await listener.listen(1000);
      const own = largestStep(steady);
      listener.clearReceived();
      for (let cycle = 0; cycle < 3; cycle++) {
        for (const change of [
          () => room.mute(id),
          () => room.unmute(id),
          () => room.setTalkVolume(id, -12),
          () => room.setTalkVolume(id, 0),
          () => room.setListenVolume(listenerId, -12),
          () => room.setListenVolume(listenerId, 0)
        ]) {
          await change();
          await talker.media(140);
        }
      }
      await talker.media(200);
      const heard = listener.receivedPcm();
      const step = largestStep(heard);
      console.log(`sine's own largest step ${own}, with gain changes ${step}`);
      // The sine is back at its level: the ramps end where the gain was set.
      expect(Math.abs(toneLevelDb(heard.subarray(heard.length - 800), HZ, 8000) - -10)).toBeLessThan(0.5);
      // A 16 ms ramp adds at most A/128 per sample; G.711's own quantization steps are in `own`.
      expect(step).toBeLessThan(1.3 * own);
    } finally {
      await Promise.all([talker.close(), listener.close()]);
    }
  });
});
