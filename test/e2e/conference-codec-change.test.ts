/**
 * End to end over real SIP and RTP on loopback: a talker that re-INVITEs from PCMU to PCMA and
 * back (the same rate) is concealed while its new stream fills the jitter buffer, and comes back
 * without a click. Its history had been zeroed with the codec: the frames bridging the refill
 * concealed nothing, 2 to 5 frames of exact silence, and the new stream started mid-waveform.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { largestStep, toneLevelDb } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

const HOST = '127.0.29.40';
/** Peak amplitude of a -10 dBFS sine; 197 Hz has no whole number of periods in a 20 ms frame. */
const MINUS_10_DBFS = 10362;
const HZ = 197;

let rooms: ToneRoomEngine;

beforeAll(async () => {
  rooms = await ToneRoomEngine.start({ rtp: { minPort: 59400, maxPort: 59499 }, sip: { host: HOST } });
});

afterAll(async () => {
  await rooms?.stop();
});

describe('a codec change by re-INVITE at the same rate', () => {
  it('PCMU to PCMA and back: no step far above the sine’s own', async () => {
    const phones = await rooms.join('codecs', [
      await TonePhone.create({
        toneHz: HZ,
        amplitude: MINUS_10_DBFS,
        user: 'codectalker',
        host: '127.0.29.41'
      }),
      await TonePhone.create({ toneHz: null, user: 'codeclistener', host: '127.0.29.42' })
    ]);
    const [talker, listener] = phones;
    try {
      await listener.listen(300);
      const own = largestStep(await listener.listen(1000));
      listener.clearReceived();
      for (const codec of ['PCMA', 'PCMU', 'PCMA', 'PCMU'] as const) {
        await talker.reinvite({ codec });
        await listener.media(400);
      }
      const heard = listener.receivedPcm();
      const step = largestStep(heard);
      let silent = 0;
      for (let i = 0, run = 0; i < heard.length; i++)
        silent = Math.max(silent, (run = heard[i] === 0 ? run + 1 : 0));
      console.log(
        `sine's own largest step ${own}, with codec changes ${step}; longest exact silence ${silent} samples`
      );
      expect(Math.abs(toneLevelDb(heard.subarray(heard.length - 800), HZ, 8000) - -10)).toBeLessThan(0.5);
      expect(step).toBeLessThan(1.3 * own);
      // Concealed, not cut: no stretch of exact silence anywhere near a frame (it was 60 ms).
      expect(silent).toBeLessThan(80);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });
});
