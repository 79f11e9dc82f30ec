/**
 * End to end over real SIP and RTP on loopback: a talker put on hold, taken out of the room or
 * hanging up fades out of the mix over 16 ms, as a muted one does, instead of being cut in one
 * sample. Two talkers send -10 dBFS sines; a silent listener's largest sample-to-sample step while
 * one is held and unheld, then removed, and the other hangs up, stays near the sines' own. Cut,
 * the steps reached 1.7 to 4.8 times the steady state's (8 and 16 kHz rooms): a click in every
 * other ear.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { largestStep } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

/** Peak amplitude of a -10 dBFS sine; neither frequency has a whole number of periods in a 20 ms frame. */
const MINUS_10_DBFS = 10362;

for (const [rate, octet] of [
  [8000, 10],
  [16000, 20]
] as const) {
  describe(`a talker leaving the mix of a ${rate / 1000} kHz room`, () => {
    let rooms: ToneRoomEngine;
    const host = (n: number): string => `127.0.29.${octet + n}`;
    const port = 59000 + octet * 10;

    beforeAll(async () => {
      rooms = await ToneRoomEngine.start({
        rtp: { minPort: port, maxPort: port + 99 },
        sip: { host: host(0) },
        roomSampleRateHz: rate
      });
    });

    afterAll(async () => {
      await rooms?.stop();
    });

    it('held, unheld, removed, hung up: no step far above the sines’ own', async () => {
      const phones = await rooms.join('fades', [
        await TonePhone.create({ toneHz: 197, amplitude: MINUS_10_DBFS, user: 'fadeheld', host: host(1) }),
        await TonePhone.create({ toneHz: 263, amplitude: MINUS_10_DBFS, user: 'fadegone', host: host(2) }),
        await TonePhone.create({ toneHz: null, user: 'fadelistener', host: host(3) })
      ]);
      const [, gone, listener] = phones;
      try {
        const room = rooms.engine.conference('fades')!;
        const id = rooms.channels.get('fadeheld')!.id;
        await listener.listen(300);
        const own = largestStep(await listener.listen(1000));
        listener.clearReceived();
        for (let cycle = 0; cycle < 3; cycle++) {
          await room.hold(id);
          await listener.media(140);
          await room.unhold(id);
          await listener.media(300);
        }
        await room.remove(id);
        await listener.media(300);
        await gone.hangUp();
        await listener.media(300);
        const step = largestStep(listener.receivedPcm());
        console.log(`${rate} Hz room: the sines' own largest step ${own}, with holds and leaves ${step}`);
        // A 16 ms fade adds at most A/128 per sample; G.711's own quantization steps are in `own`.
        expect(step).toBeLessThan(1.3 * own);
      } finally {
        await Promise.all(phones.map((p) => p.close()));
      }
    });
  });
}
