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
import { HostStallWatch } from '../support/host-stall-watch.js';
import { hasPeer } from '../support/peers.js';
import { freeUdpPort, killAllSipp, runSipp } from '../support/sip-sipp.js';
import { rmsDbfs, toneLevelDb, ulawEncode } from '../support/tone-analysis.js';
import { writePcapUdp, type UdpRecord } from '../support/rtp-pcap.js';
import { waitFor } from '../support/wait.js';

const SIPP_PCAPS = '/usr/share/sip-tester';
const haveSipp = hasPeer('sipp');
const scenario = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/sipp/${name}`, import.meta.url));

let engine: Engine;
let port: number;
let dir: string;
let onCall: (channel: UASCallChannel) => Promise<void>;
/** What the application's call handler threw, per test (an unhandled rejection would hide it). */
let handlerErrors: unknown[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uasmedia-sipp-rtp-'));
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    // SIPp's plain 'uac' sends no RTP: with -lost 10 its BYE can be lost for good, and then the
    // call ends as a dead peer's does, when no media has come for this long.
    rtp: { minPort: 33000, maxPort: 33499, inactivityTimeoutSeconds: 8 },
    files: { recordFolder: dir }
  });
  engine.on('call', (channel) => {
    onCall(channel).catch((error: unknown) => handlerErrors.push(error));
  });
  await engine.start();
  port = engine.sipAddresses()[0].port;
});

afterEach(() => {
  killAllSipp();
  const errors = handlerErrors;
  handlerErrors = [];
  expect(errors, 'the call handler failed').toEqual([]);
});

afterAll(async () => {
  await engine?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `seconds` of a 1 kHz μ-law tone (amplitude 6000, -14.7 dBFS) in RTP packets of 30 ms, 30 ms apart. */
/** `count` packets numbered from 0, or the numbers a sender that starts over sends. */
const numbered = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/**
 * A 1 kHz μ-law tone, one packet per `packetMs`; the k-th packet sent is the stream's packet
 * `numbers[k]` (its sequence number 1 + that, its timestamp and audio from there).
 */
function toneInPackets(packetMs: number, numbers: number[]): UdpRecord[] {
  const records: UdpRecord[] = [];
  const samples = 8 * packetMs;
  for (const [sent, i] of numbers.entries()) {
    const packet = Buffer.alloc(12 + samples);
    packet[0] = 0x80;
    packet.writeUInt16BE(i + 1, 2);
    packet.writeUInt32BE(i * samples, 4);
    packet.writeUInt32BE(0x30303030, 8);
    for (let k = 0; k < samples; k++)
      packet[12 + k] = ulawEncode(
        Math.round(6000 * Math.sin((2 * Math.PI * 1000 * (i * samples + k)) / 8000))
      );
    records.push({
      timeMs: sent * packetMs,
      srcAddress: '127.0.0.1',
      srcPort: 6000,
      dstAddress: '127.0.0.1',
      dstPort: 6002,
      payload: packet
    });
  }
  return records;
}

/** SIPp's pcap-playing scenarios read `pcap/<file>` from their working directory. */
const linkPcaps = (cwd: string): void => symlinkSync(SIPP_PCAPS, join(cwd, 'pcap'));

/**
 * SIPp plays `scenarioFile` with a pcap the test writes (`pcapName`: its `records`) into a call
 * the engine answers and records for `seconds`, then hangs up: the recording and the call's RTP
 * statistics at its end.
 */
async function recordPcapCall(
  scenarioFile: string,
  seconds: number,
  pcapName: string,
  records: UdpRecord[]
): Promise<{ samples: Int16Array; stats: ReturnType<UASCallChannel['rtpStats']> }> {
  const recording = join(dir, `${pcapName}.wav`);
  let stats: ReturnType<UASCallChannel['rtpStats']>;
  let recorded: Promise<void> = Promise.resolve();
  onCall = async (call) => {
    await call.answer();
    recorded = call.record(recording, { maxSeconds: seconds });
    await recorded;
    stats = call.rtpStats();
    await call.hangUp();
  };
  const { done } = runSipp(
    ['-sf', scenario(scenarioFile), '-s', 'room', `127.0.0.1:${port}`, '-m', '1', '-timeout', '20s'],
    25_000,
    (cwd) => writePcapUdp(join(cwd, pcapName), records)
  );
  const result = await done;
  expect(result.code, result.errors || result.stdout).toBe(0);
  await recorded;
  const wav = new wavefile.WaveFile(await readFile(recording));
  const samples = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
  return { samples, stats };
}

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
    const { done } = runSipp(
      ['-sn', 'uac_pcap', '-s', 'room', `127.0.0.1:${port}`, '-m', '1', '-timeout', '20s'],
      25_000,
      linkPcaps
    );
    const result = await done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    await recorded;
    const wav = new wavefile.WaveFile(await readFile(recording));
    const samples = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array);
    const level = rmsDbfs(samples);
    console.log(
      `uac_pcap: recorded ${samples.length} samples at ${level.toFixed(1)} dBFS; digits ${JSON.stringify(digits)}`
    );
    expect(samples.length).toBe(6 * 8000);
    expect(level).toBeGreaterThan(-35);
    expect(talked).toBe(true);
    expect(digits).toEqual([{ digit: '1', source: 'rfc4733' }]);
  });

  it('plays a phone sending 30 ms PCMU packets (a=ptime:30) as clean 20 ms frames', async () => {
    const { samples, stats } = await recordPcapCall(
      'uac-pcmu-30ms.xml',
      3,
      'tone-30ms.pcap',
      toneInPackets(30, numbered(8000 / 30))
    );
    // From 200 ms in (the stream's first packets are still on their way when recording starts).
    const steady = samples.subarray(1600);
    let quietFrames = 0;
    for (let at = 0; at + 160 <= steady.length; at += 160)
      if (rmsDbfs(steady.subarray(at, at + 160)) < -21) quietFrames++;
    const level = toneLevelDb(steady, 1000, 8000);
    console.log(
      `SIPp at 30 ms: the engine read ${stats?.packetTimeMs} ms packets; recorded 1 kHz at ${level.toFixed(1)} dB, ${quietFrames} quiet frames of ${Math.floor(steady.length / 160)}, ${stats?.concealedFrames} concealed`
    );
    expect(stats?.packetTimeMs).toBe(30);
    // A packet the host holds up past its playout point is late, as the jitter buffer allows (its
    // target is late for 3 % of packets); once in a full CI run beside Chromium, one of 100 was.
    // What the caller hears is checked below: no more than two frames concealed or quiet.
    expect(stats?.packetsLate).toBeLessThanOrEqual(2);
    expect(stats?.concealedFrames).toBeLessThanOrEqual(2);
    expect(level).toBeGreaterThan(-17);
    expect(quietFrames).toBeLessThanOrEqual(2);
  });

  it('plays on when the phone starts its stream over with the same SSRC, 50 and 101 packets back (SIPp replaying its pcap)', async () => {
    // 63 packets, then from 50 back to 101 past the first (seq 13-102): SIPp's replay starts
    // 101 behind, past reordering (RFC 3550 A.1); the restart inside the pcap is within it.
    const hostStalls = new HostStallWatch().start();
    const startedMs = performance.now();
    const { samples, stats } = await recordPcapCall(
      'uac-pcmu-replay.xml',
      6,
      'restarts.pcap',
      toneInPackets(20, [...numbered(63), ...numbered(102).slice(12)])
    );
    hostStalls.stop();
    // The engine runs in this process: frames the host held it off the CPU for play late or not at all.
    const heldOffFrames = Math.ceil(hostStalls.heldOffMs(startedMs, performance.now()) / 20);
    // Each second of the recording after the first (the first pass), by 20 ms frames.
    const quietBySecond: number[] = [];
    for (let second = 1; second < Math.floor(samples.length / 8000); second++) {
      let quiet = 0;
      for (let at = second * 8000; at < (second + 1) * 8000; at += 160)
        if (rmsDbfs(samples.subarray(at, at + 160)) < -21) quiet++;
      quietBySecond.push(quiet);
    }
    console.log(
      `SIPp restarting 50 and 101 back: quiet frames per second after the first ${JSON.stringify(quietBySecond)}, ${stats?.packetsReceived} packets received, ${stats?.packetsDiscarded} discarded (host held the process off the CPU for ${heldOffFrames} frames)`
    );
    expect(quietBySecond).toHaveLength(5);
    // A restart 101 back costs the packet that announces it, one 50 back the five in a row that
    // show it (RESTART_RUN); each then the buffer's start delay. Restarts come 1.26 s apart.
    for (const quiet of quietBySecond) expect(quiet).toBeLessThanOrEqual(10 + heldOffFrames);
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
      [
        '-sf',
        scenario('uac-dtmf-2833.xml'),
        '-s',
        'digits',
        `127.0.0.1:${port}`,
        '-m',
        '1',
        '-timeout',
        '20s'
      ],
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

describe.skipIf(!haveSipp)('SIPp and the engine, call control', () => {
  it("INVITE then CANCEL: the engine's channel goes IDLE and nothing is left behind", async () => {
    const seen: UASCallChannel[] = [];
    onCall = async (channel) => {
      seen.push(channel);
      await channel.ring(); // never answered: SIPp cancels after the 180
    };
    const { done } = runSipp([
      '-sf',
      scenario('uac-cancel.xml'),
      `127.0.0.1:${port}`,
      '-m',
      '1',
      '-timeout',
      '12s'
    ]);
    const result = await done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0].state).toBe(State.IDLE);
    expect(engine.activeChannels()).toHaveLength(0);
  });

  it('completes calls with media while SIPp drops 10 % of the messages (-lost 10)', async () => {
    onCall = async (channel) => {
      await channel.answer();
    };
    const { done } = runSipp(
      [
        '-sf',
        scenario('uac-lossy.xml'),
        `127.0.0.1:${port}`,
        '-m',
        '3',
        '-l',
        '1',
        '-d',
        '300',
        '-lost',
        '10',
        '-timeout',
        '25s'
      ],
      30_000
    );
    const result = await done;
    expect(result.code, result.errors || result.stdout).toBe(0);
    await waitFor(() => engine.activeChannels().length === 0, 30_000);
    // A call can end before answer() completes, and answer() then rejects saying so: when SIPp
    // drops its own ACK and then hangs up ('bye'), or when it ignores every copy of our 200 OK
    // and never sends ACK or BYE at all, so the engine hangs up itself once no media has come
    // for inactivityTimeoutSeconds ('local'; SIPp's message trace showed our 200 OK arrive five
    // times without an ACK; our BYE then waits for an ACK or timer H, RFC 3261 §15). Nothing else
    // may go wrong.
    for (const error of handlerErrors.splice(0))
      expect(error).toMatchObject({
        name: 'SipError',
        message: expect.stringMatching(/^call ended \((bye|local)\) before ACK$/)
      });
  });

  it("the engine's UAC calls SIPp's UAS: answered, then hung up", async () => {
    const sippPort = await freeUdpPort();
    const uas = runSipp([
      '-sn',
      'uas',
      '-i',
      '127.0.0.1',
      '-p',
      String(sippPort),
      '-mp',
      String(await freeUdpPort()),
      '-m',
      '1',
      '-timeout',
      '12s'
    ]);
    await new Promise((r) => setTimeout(r, 500));
    const channel = engine.createChannel();
    expect(await channel.call(`sip:service@127.0.0.1:${sippPort}`)).toBe(State.ANSWERED);
    expect(await channel.hangUp()).toBe(State.IDLE);
    const result = await uas.done;
    expect(result.code, result.errors || result.stdout).toBe(0);
  });
});
