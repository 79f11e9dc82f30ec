/**
 * baresip, a real SIP phone no one here wrote, calls the engine over loopback: the engine measures
 * the audio baresip sends from a WAV file, collects the DTMF digits typed into it, and baresip
 * hears the prompt the engine speaks back.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { Engine, State, ConferencePartyMediaSettings, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { hasPeer } from '../support/peers.js';
import { Baresip } from '../support/baresip.js';
import { sine } from '../support/dsp-prng.js';
import { rmsDbfs, toneLevelDb } from '../support/tone-analysis.js';
import { sleep, waitFor } from '../support/wait.js';

const haveBaresip = hasPeer('baresip');
let engine: Engine;
let port: number;
let dir: string;
const calls: UASCallChannel[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uasmedia-baresip-'));
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 34000, maxPort: 34499 },
    files: { recordFolder: dir }
  });
  engine.on('call', async (channel) => {
    calls.push(channel);
    await channel.answer();
    if (channel.requestUri?.startsWith('sip:conf')) {
      await channel.transferToConferenceRoom(engine.createChannel(), 'bareconf', {
        conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
      });
    }
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!haveBaresip)('baresip calling the engine', () => {
  it('sends audio the engine measures, DTMF the engine collects, and hears the prompt the engine plays', async () => {
    const phone = new Baresip({ microphone: sine(8000 * 20, 1000, 8000, 9000) });
    try {
      await sleep(500);
      phone.type(`/dial sip:bare@127.0.0.1:${port}\n`);
      await waitFor(() => calls.length === 1 && calls[0].state === State.ANSWERED);
      const channel = calls[0];
      const digits: Array<{ digit: string; source: string }> = [];
      channel.on('dtmf', (d) => digits.push(d));

      const recording = join(dir, 'baresip.wav');
      await sleep(500);
      await channel.record(recording, { maxSeconds: 1.5 });
      const wav = new wavefile.WaveFile(await readFile(recording));
      const heardByEngine = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
      const at1k = toneLevelDb(heardByEngine, 1000, 8000);
      const at700 = toneLevelDb(heardByEngine, 700, 8000);
      console.log(`engine heard baresip's 1 kHz at ${at1k.toFixed(1)} dB (700 Hz: ${at700.toFixed(1)} dB)`);
      expect(at1k).toBeGreaterThan(-20);
      expect(at1k - at700).toBeGreaterThan(30);

      for (const key of ['1', '2', '#']) {
        phone.type(key);
        await sleep(500);
      }
      await waitFor(() => digits.length >= 3);
      await sleep(300);
      console.log('digits from baresip:', JSON.stringify(digits));
      expect(digits.map((d) => d.digit).join('')).toBe('12#');

      await channel.playText('hello from uasmedia, this is a test prompt');
      await sleep(300);
      await channel.hangUp();
      await waitFor(() => /terminated/.test(phone.output));
      const heardByPhone = phone.heard();
      const level = rmsDbfs(heardByPhone);
      console.log(
        `baresip heard ${(heardByPhone.length / 8000).toFixed(1)} s from the engine at ${level.toFixed(1)} dBFS overall`
      );
      expect(level).toBeGreaterThan(-45);
    } finally {
      await phone.close();
    }
  });

  it('is a conference participant: a test phone hears its tone, it hears the phone, nobody hears themselves', async () => {
    calls.length = 0;
    const phone = new Baresip({ microphone: sine(8000 * 20, 1000, 8000, 9000) });
    const tonePhone = await TonePhone.create({ toneHz: 440, user: 'tonephone' });
    try {
      await sleep(500);
      phone.type(`/dial sip:conf@127.0.0.1:${port}\n`);
      await tonePhone.call(`sip:conf@127.0.0.1:${port}`);
      await waitFor(() => calls.length === 2 && calls.every((c) => c.state === State.TRANSFERRED));
      await sleep(800);
      tonePhone.clearReceived();
      await sleep(1500);
      const heard = tonePhone.receivedPcm();
      const bare = toneLevelDb(heard, 1000, 8000);
      const own = toneLevelDb(heard, 440, 8000);
      console.log(
        `test phone hears baresip's 1 kHz at ${bare.toFixed(1)} dB and its own 440 Hz at ${own.toFixed(1)} dB`
      );
      expect(bare).toBeGreaterThan(-25);
      expect(own).toBeLessThan(-55);
      await tonePhone.hangUp();
      phone.type('/hangup\n');
      await waitFor(() => /terminated/.test(phone.output));
      const heardByBaresip = phone.heard();
      const tail = heardByBaresip.subarray(Math.max(0, heardByBaresip.length - 8000 * 2));
      const at440 = toneLevelDb(tail, 440, 8000);
      const at1k = toneLevelDb(tail, 1000, 8000);
      console.log(
        `baresip hears the phone's 440 Hz at ${at440.toFixed(1)} dB and its own 1 kHz at ${at1k.toFixed(1)} dB`
      );
      expect(at440).toBeGreaterThan(-35);
      expect(at1k).toBeLessThan(-50);
    } finally {
      await tonePhone.close();
      await phone.close();
    }
  });
});
