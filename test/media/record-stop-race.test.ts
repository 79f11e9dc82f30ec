/**
 * `stopRecording()` right after `record()`, while the file is still being opened (a caller's key
 * press, a moderator's click): the recording it was meant for is stopped. Before, it found no
 * recording yet and did nothing, and the recording then ran for its whole `maxSeconds`: a
 * channel's 60 s by default, a room's 24 hours. Over real SIP and RTP on loopback.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const folder = realpathSync(mkdtempSync(join(tmpdir(), 'uasmedia-record-stop-')));
let engine: Engine;
let sipPort: number;
let incoming: UASCallChannel[];

beforeAll(async () => {
  ({ engine, sipPort, incoming } = await startAnsweringEngine(
    { minPort: 44640, maxPort: 44679 },
    { sip: { host: '127.0.14.1', port: 0, transports: ['udp'] }, files: { recordFolder: folder } }
  ));
});

afterAll(async () => {
  await engine?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** The data size a WAV file's header gives. */
const dataBytes = (name: string): number => readFileSync(join(folder, name)).readUInt32LE(40);

describe('stopRecording() while record() opens its file', () => {
  it("stops a channel's recording", async () => {
    const phone = await TonePhone.create({ toneHz: 440, host: '127.0.14.2' });
    try {
      await phone.call(`sip:app@127.0.14.1:${sipPort}`);
      await waitFor(() => incoming[0]?.state === State.ANSWERED);
      const channel = incoming[0];
      const recording = channel.record('channel.wav', { maxSeconds: 2 });
      channel.stopRecording();
      await recording;
      expect(dataBytes('channel.wav')).toBe(0);
      // The next recording is not stopped by that stop.
      const next = channel.record('next.wav', { maxSeconds: 0.2 });
      await next;
      expect(dataBytes('next.wav')).toBe(0.2 * 8000 * 2);
      await channel.hangUp();
    } finally {
      await phone.close();
    }
  });

  it("stops a room's recording, and the party slot it took is free again", async () => {
    const slots = engine.resources().partySlots;
    engine.rooms.join('stoprace1');
    const room = engine.conference('stoprace1')!;
    const recording = room.record('room.wav', { maxSeconds: 2 });
    room.stopRecording();
    await recording;
    expect(dataBytes('room.wav')).toBe(0);
    expect(engine.resources().partySlots).toBe(slots);
    room.end();
  });
});
