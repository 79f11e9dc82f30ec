/**
 * Recording a conference room (`engine.conference(name).record`): the whole mix, as a silent
 * listener hears it, into a WAV file at the room's rate. Phones over real SIP and RTP on
 * loopback send their own tones; the file is read back with wavefile.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileAccessError, InvalidStateError } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { rmsDbfs, toneLevelDb, ulawDecode, ulawEncode } from '../support/tone-analysis.js';
import { ToneRoomEngine } from '../support/tone-room-engine.js';

let dir: string;
let rooms: ToneRoomEngine;
let wideRooms: ToneRoomEngine;
let noFolder: ToneRoomEngine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uasmedia-roomrec-'));
  [rooms, wideRooms, noFolder] = await Promise.all([
    ToneRoomEngine.start({ rtp: { minPort: 22400, maxPort: 22449 }, files: { recordFolder: dir } }),
    ToneRoomEngine.start({
      rtp: { minPort: 22450, maxPort: 22499 },
      files: { recordFolder: dir },
      roomSampleRateHz: 16000
    }),
    ToneRoomEngine.start({ rtp: { minPort: 22500, maxPort: 22549 } })
  ]);
});

afterAll(async () => {
  await Promise.all([rooms?.stop(), wideRooms?.stop(), noFolder?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function joinAll(
  engine: ToneRoomEngine,
  room: string,
  users: string[],
  tones: Array<number | null>
): Promise<TonePhone[]> {
  const phones = await Promise.all(users.map((user, i) => TonePhone.create({ toneHz: tones[i], user })));
  await engine.join(room, phones);
  await Promise.all(phones.map((p) => p.listen(300))); // the audio settles
  return phones;
}

async function readWav(path: string): Promise<{ rateHz: number; samples: Int16Array }> {
  const wav = new wavefile.WaveFile(await readFile(path));
  return {
    rateHz: (wav.fmt as { sampleRate: number }).sampleRate,
    samples: Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array)
  };
}

function conference(engine: ToneRoomEngine, room: string) {
  const media = engine.engine.conference(room);
  if (!media) throw new Error(`no conference ${room}`);
  return media;
}

describe('recording a conference room', () => {
  it('records every talker of an 8 kHz room at 8 kHz, and stops at maxSeconds', async () => {
    const phones = await joinAll(rooms, 'recmix', ['ann', 'ben'], [400, 1200]);
    try {
      const path = join(dir, 'mix.wav');
      await conference(rooms, 'recmix').record(path, { maxSeconds: 1 });
      const { rateHz, samples } = await readWav(path);
      expect(rateHz).toBe(8000);
      expect(samples.length).toBe(8000);
      expect(toneLevelDb(samples, 400, 8000)).toBeGreaterThan(-25);
      expect(toneLevelDb(samples, 1200, 8000)).toBeGreaterThan(-25);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it("records the room's own samples: one µ-law talker's are G.711 levels, unfiltered", async () => {
    const phones = await joinAll(rooms, 'recexact', ['cat', 'dan'], [1000, null]);
    try {
      const path = join(dir, 'exact.wav');
      await conference(rooms, 'recexact').record(path, { maxSeconds: 1 });
      const { samples } = await readWav(path);
      // The mix is the talker's decoded µ-law exactly (unity gain, no limiting at −15 dBFS); a
      // frame the jitter buffer concealed on a busy host is not, nor would be an interpolated one.
      let exactFrames = 0;
      for (let at = 0; at + 160 <= samples.length; at += 160) {
        let exact = true;
        for (let i = at; i < at + 160; i++)
          if (ulawDecode(ulawEncode(samples[i])) !== samples[i]) exact = false;
        if (exact) exactFrames++;
      }
      expect(exactFrames).toBeGreaterThanOrEqual(45);
      expect(toneLevelDb(samples, 1000, 8000)).toBeGreaterThan(-20);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('records a 16 kHz room at 16 kHz, with what is said to the room', async () => {
    const phones = await joinAll(wideRooms, 'recwide', ['eve', 'fay'], [null, null]);
    try {
      const room = conference(wideRooms, 'recwide');
      const path = join(dir, 'wide.wav');
      const recording = room.record(path);
      await room.say('Recording started.');
      room.stopRecording();
      await recording;
      const { rateHz, samples } = await readWav(path);
      expect(rateHz).toBe(16000);
      // The phones are silent: what is loud is the speech.
      let speechFrames = 0;
      for (let at = 0; at + 320 <= samples.length; at += 320)
        if (rmsDbfs(samples.subarray(at, at + 320)) > -40) speechFrames++;
      expect(speechFrames).toBeGreaterThan(25);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
  });

  it('saves the file when the room ends, refuses a second recording, and leaves no party slot', async () => {
    const slotsBefore = rooms.engine.resources().partySlots;
    const phones = await joinAll(rooms, 'recend', ['gus', 'hal'], [500, 900]);
    try {
      const room = conference(rooms, 'recend');
      const path = join(dir, 'ended.wav');
      const recording = room.record(path);
      await phones[0].listen(400);
      await expect(room.record(join(dir, 'second.wav'))).rejects.toBeInstanceOf(InvalidStateError);
      room.end();
      await recording;
      const { samples } = await readWav(path);
      expect(samples.length).toBeGreaterThan(1600);
      expect(toneLevelDb(samples, 500, 8000)).toBeGreaterThan(-30);
      await expect(room.record(join(dir, 'late.wav'))).rejects.toBeInstanceOf(InvalidStateError);
    } finally {
      await Promise.all(phones.map((p) => p.close()));
    }
    await expect.poll(() => rooms.engine.resources().partySlots).toBe(slotsBefore);
  });

  it('refuses without a record folder, or a path outside it', async () => {
    const phones = await joinAll(noFolder, 'recnone', ['ida'], [600]);
    const others = await joinAll(rooms, 'recout', ['jon'], [600]);
    try {
      const refused = await conference(noFolder, 'recnone')
        .record('x.wav')
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(FileAccessError);
      expect((refused as FileAccessError).reason).toBe('NOT_CONFIGURED');
      const outside = await conference(rooms, 'recout')
        .record('../escape.wav')
        .catch((error: unknown) => error);
      expect((outside as FileAccessError).reason).toBe('OUTSIDE_FOLDER');
      await expect(conference(rooms, 'recout').record('')).rejects.toBeInstanceOf(TypeError);
      await expect(conference(rooms, 'recout').record('y.wav', { maxSeconds: 0 })).rejects.toBeInstanceOf(
        RangeError
      );
    } finally {
      await Promise.all([...phones, ...others].map((p) => p.close()));
    }
  });
});
