/**
 * End to end over real SIP and RTP on loopback: when the engine's event loop is held up for more
 * than four frames, the frame clock runs the missed ticks back to back, and the audio they make
 * goes out numbered as the frames they are. The packetizer had taken each frame's time from the
 * wall clock as it was sent: the first catch-up frame came 100 ms after the last and started a
 * "talkspurt" with its timestamp moved on by 4-5 frames, the next ones came at once and moved it
 * by one each. Every listener's stream ran 60-80 ms ahead of its sequence numbers from then on: a
 * gap of silence in the middle of continuous speech, and a jitter buffer that played it late.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TonePhone } from '../support/tone-phone.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';
import { sleep, waitFor } from '../support/wait.js';

/** RTP clock ticks in one 20 ms PCMU frame. */
const FRAME_TICKS = 160;

let rooms: ToneRoomEngine;

beforeAll(async () => {
  rooms = await ToneRoomEngine.start({
    rtp: { minPort: 63100, maxPort: 63149 },
    sip: { host: '127.0.41.1' }
  });
});

afterAll(async () => {
  await rooms?.stop();
});

function holdEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the engine, its phones and their sockets all wait
  }
}

describe('outbound RTP timestamps after the event loop was held up', () => {
  // 100 ms: the catch-up ticks (and perhaps one the clock skipped); 160 ms: more than the clock
  // catches up, so it skips two or three ticks, each of which must move the timestamp on a frame.
  for (const stallMs of [100, 160]) {
    it(`move on one frame per tick of the clock through a ${stallMs} ms stall, run or skipped`, async () => {
      const phones = await rooms.join(`stallts${stallMs}`, [
        await TonePhone.create({ toneHz: 400, user: `stalltalker${stallMs}`, host: '127.0.41.2' }),
        await TonePhone.create({ toneHz: null, user: `stalllistener${stallMs}`, host: '127.0.41.3' })
      ]);
      const listener = phones[1];
      try {
        await listener.listen(300);
        listener.clearReceived();
        const skippedBefore = rooms.engine.clockStats().skippedTicks;
        await sleep(100);
        holdEventLoop(stallMs);
        // 700 ms of audio in all: the frames before, through and after the stall.
        await waitFor(() => listener.receivedSamples >= 5600);
        // A tick the clock skipped made no frame: the timestamp moves on by it with no packet.
        const skipped = rooms.engine.clockStats().skippedTicks - skippedBefore;
        const packets = listener.receivedPackets;
        const first = packets[0];
        const last = packets[packets.length - 1];
        const sequences = (last.sequence - first.sequence) & 0xffff;
        const ticks = (last.timestamp - first.timestamp) >>> 0;
        const aheadFrames = (ticks - sequences * FRAME_TICKS) / FRAME_TICKS;
        console.log(
          `${packets.length} packets over ${sequences} sequence numbers, timestamp ${aheadFrames} frames ahead; ${skipped} ticks skipped`
        );
        expect(sequences).toBe(packets.length - 1);
        expect(aheadFrames).toBe(skipped);
      } finally {
        await Promise.all(phones.map((p) => p.close()));
      }
    });
  }
});
