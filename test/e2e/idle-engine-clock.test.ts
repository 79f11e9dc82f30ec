/**
 * End to end over real SIP and RTP on loopback: an engine with no call lets its frame clock sleep
 * (it ticked 50 times a second for nothing, about 3 % of a core), and the first call after wakes
 * it at once: a prompt played to that call, before any conference room exists, reaches the caller
 * as one frame per tick, its RTP timestamps moving on by one frame per sequence number.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { toneLevelDb } from '../support/tone-analysis.js';
import { sleep, waitFor } from '../support/wait.js';

/** RTP clock ticks in one 20 ms PCMU frame. */
const FRAME_TICKS = 160;

const promptFolder = fileURLToPath(new URL('../fixtures/wav/', import.meta.url));
let engine: Engine;
const incoming: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.61.20', port: 0, transports: ['udp'] },
    rtp: { minPort: 48600, maxPort: 48649 },
    promptFolder,
    logLevel: 'silent'
  });
  engine.on('call', (channel) => incoming.push(channel));
  await engine.start();
});

afterAll(async () => {
  await engine?.close();
});

/** The clock's tick count does not move over `ms`. */
async function expectAsleep(ms: number): Promise<void> {
  const ticks = engine.clockStats().ticks;
  await sleep(ms);
  expect(engine.clockStats().ticks).toBe(ticks);
}

describe('an idle engine', () => {
  it('does not tick; a call wakes it and hears its prompt one frame per tick; hung up, it sleeps again', async () => {
    await expectAsleep(300);
    const phone = await TonePhone.create({ toneHz: null, host: '127.0.61.21' });
    try {
      const port = engine.sipAddresses()[0].port;
      const calling = phone.call(`sip:idle@127.0.61.20:${port}`);
      await waitFor(() => incoming.length === 1);
      const channel = incoming[0];
      expect(await channel.answer()).toBe(State.ANSWERED);
      await calling;
      const skippedBefore = engine.clockStats().skippedTicks;
      await channel.playFile('tone-44100-s16.wav');
      await waitFor(() => phone.receivedPackets.length >= 25);
      // A tick the clock skipped (a stall on a loaded host) made no frame but moves the timestamp.
      const skipped = engine.clockStats().skippedTicks - skippedBefore;
      const packets = phone.receivedPackets;
      const first = packets[0];
      const last = packets[packets.length - 1];
      const sequences = (last.sequence - first.sequence) & 0xffff;
      const aheadFrames = ((last.timestamp - first.timestamp) >>> 0) / FRAME_TICKS - sequences;
      expect(first.marker).toBe(true);
      expect(sequences).toBe(packets.length - 1);
      expect(aheadFrames).toBe(skipped);
      expect(toneLevelDb(phone.receivedPcm(), 440, 8000)).toBeGreaterThan(-30);
      await channel.hangUp();
      await waitFor(() => channel.state === State.IDLE && engine.rtpPortsInUse === 0);
      await expectAsleep(300);
    } finally {
      await phone.close();
    }
  });
});
