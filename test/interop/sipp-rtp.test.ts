/**
 * SIPp (Debian sip-tester) against the engine with real RTP on loopback: the engine measures the
 * G.711 audio SIPp streams from its pcap, and reports exactly the RFC 2833/4733 digits SIPp's
 * DTMF pcaps carry, once each.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wavefile from 'wavefile';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { hasPeer } from '../support/peers.js';
import { killAllSipp, runSipp } from '../support/sip-sipp.js';
import { rmsDbfs } from '../support/tone-analysis.js';

const SIPP_PCAPS = '/usr/share/sip-tester';
const haveSipp = hasPeer('sipp');
const scenario = (name: string): string => fileURLToPath(new URL(`../fixtures/sipp/${name}`, import.meta.url));

let engine: Engine;
let port: number;
let dir: string;
let onCall: (channel: UASCallChannel) => Promise<void>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uasmedia-sipp-rtp-'));
  engine = new Engine({ sip: { host: '127.0.0.1', port: 0, transports: ['udp'] }, rtp: { minPort: 33000, maxPort: 33499 } });
  engine.on('call', (channel) => void onCall(channel));
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterEach(() => killAllSipp());

afterAll(async () => {
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** SIPp's pcap-playing scenarios read `pcap/<file>` from their working directory. */
const linkPcaps = (cwd: string): void => symlinkSync(SIPP_PCAPS, join(cwd, 'pcap'));

describe.skipIf(!haveSipp)('SIPp streaming RTP to the engine', () => {
  it('receives the G.711 A-law audio of uac_pcap (measured) and its RFC 2833 digit', async () => {
    const digits: Array<{ digit: string; source: string }> = [];
    let talked = false;
    const recording = join(dir, 'uac_pcap.wav');
    let recorded: Promise<void> = Promise.resolve();
    onCall = async (channel) => {
      channel.on('dtmf', (d) => digits.push(d));
      channel.on('talking', () => (talked = true));
      await channel.answer();
      recorded = channel.record(recording, { maxSeconds: 6 });
    };
    const { done } = runSipp(['-sn', 'uac_pcap', '-s', 'room', `127.0.0.1:${port}`, '-m', '1', '-timeout', '20s'], 25_000, linkPcaps);
    const result = await done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    await recorded;
    const wav = new wavefile.WaveFile(await readFile(recording));
    const samples = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
    const level = rmsDbfs(samples);
    console.log(`uac_pcap: recorded ${samples.length} samples at ${level.toFixed(1)} dBFS; digits ${JSON.stringify(digits)}`);
    expect(samples.length).toBe(6 * 8000);
    expect(level).toBeGreaterThan(-35);
    expect(talked).toBe(true);
    expect(digits).toEqual([{ digit: '1', source: 'rfc4733' }]);
  });

  it('reports exactly the digits the RFC 2833 pcaps carry, once each', async () => {
    const digits: string[] = [];
    const ended = new Promise<void>((resolve) => {
      onCall = async (channel) => {
        channel.on('dtmf', ({ digit, source }) => {
          expect(source).toBe('rfc4733');
          digits.push(digit);
        });
        channel.on('stateChange', ({ state }) => state === State.IDLE && resolve());
        await channel.answer();
      };
    });
    const { done } = runSipp(
      ['-sf', scenario('uac-dtmf-2833.xml'), '-s', 'digits', `127.0.0.1:${port}`, '-m', '1', '-timeout', '20s'],
      25_000,
      linkPcaps
    );
    const result = await done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    await ended;
    console.log(`dtmf_2833 pcaps 1, 5, pound, star: engine reported ${JSON.stringify(digits)}`);
    expect(digits).toEqual(['1', '5', '#', '*']);
  });
});
