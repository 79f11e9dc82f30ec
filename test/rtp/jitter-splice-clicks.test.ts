/**
 * The jitter buffer's delay changes, heard. A 437 Hz tone and a vowel-like harmonic sound, in PCMU, are sent over loopback to an
 * RtpSession and played as MediaLeg.beforeMix plays it (readFrame → setInput → processRoom), on a
 * virtual clock: first 1.2 s of heavy jitter (the buffer stretches, and conceals late packets),
 * then a route 100 ms shorter from frame 300 on (it skips frames to shrink its delay). Every
 * splice in the decoded input (a played frame after a skipped one, real audio after concealed
 * frames) must be as smooth as the tone itself: its largest sample-to-sample step and its energy
 * above the tone (second difference) in 5 ms around it, against the same at ordinary frame
 * boundaries.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { tone437 as tone, voiced, type Signal } from '../support/test-signals.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { FRAME_LOST, RtpSession } from '../../engine/rtp/rtp-session.js';
import { createKernels, INPUT_LOST, INPUT_SILENT } from '../../engine/dsp/kernels.js';
import { ulawCompress } from '../../engine/dsp/reference/g711.js';
import { largestStep } from '../support/tone-analysis.js';

const FRAMES = 600;
const N = 160;
/** Half of the 5 ms window measured around a splice or boundary, in samples. */
const HALF_WINDOW = 20;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** Arrival of frame k (ms): 100 ms more transit before frame 300, every 3rd of the first 60 frames 140 ms later still. */
function arrivalMs(k: number): number {
  return 20 * k + (k < 300 ? 100 : 0) + (k < 60 && k % 3 === 2 ? 140 : 0);
}

/** Resolves once `check` holds, yielding to the event loop between looks (a packet on its way). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > 200_000) throw new Error('packet not received');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Splice {
  at: number;
  kind: 'skip' | 'resume' | 'boundary';
}

interface Played {
  pcm: Int16Array;
  splices: Splice[];
  flagged: number;
}

async function play(kind: 'wasm' | 'js', signal: Signal): Promise<Played> {
  const pool = new RtpPortPool({ host: '127.0.0.47', minPort: 60200, maxPort: 60219 });
  cleanups.push(() => pool.close());
  const sender = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sender.bind(60300, '127.0.0.46', () => resolve()));
  cleanups.push(() => sender.close());
  const ports = await pool.allocate();
  let clockMs = 0;
  const session = new RtpSession({
    ports,
    payloadType: 0,
    clockRateHz: 8000,
    samplesPerFrame: N,
    rtcpIntervalMs: 0,
    remote: { address: '127.0.0.46', port: 60300 },
    now: () => clockMs
  });
  cleanups.push(() => session.close());
  const kernels = await createKernels(kind);
  cleanups.push(() => kernels.close());
  const room = kernels.createRoom(8000);
  const party = kernels.createParty('PCMU');
  kernels.addParty(room, party);

  // Packets and the frames they carry; equal payloads (the tone repeats every 50 frames) listed together.
  const packets: Buffer[] = [];
  const framesOf = new Map<string, number[]>();
  for (let k = 0; k < FRAMES; k++) {
    const packet = Buffer.alloc(12 + N);
    writeRtpHeader(packet, {
      marker: false,
      payloadType: 0,
      sequenceNumber: k,
      timestamp: k * N,
      ssrc: 0x5eed
    });
    for (let j = 0; j < N; j++) packet[12 + j] = ulawCompress(signal(k * N + j));
    packets.push(packet);
    const key = packet.subarray(12).toString('hex');
    framesOf.set(key, [...(framesOf.get(key) ?? []), k]);
  }
  const order = [...packets.keys()].sort((a, b) => arrivalMs(a) - arrivalMs(b) || a - b);

  const pcm = new Int16Array((FRAMES + 20) * N);
  const splices: Splice[] = [];
  let sent = 0;
  let lastFrame = -1;
  let previous: 'played' | 'lost' | 'silent' = 'silent';
  let flagged = 0;
  for (let tick = 0; tick < FRAMES + 20; tick++) {
    const nowMs = 7 + 20 * tick;
    while (sent < order.length && arrivalMs(order[sent]) <= nowMs) {
      const k = order[sent++];
      clockMs = arrivalMs(k);
      sender.send(packets[k], ports.rtpPort, '127.0.0.47');
      await until(() => session.packetsReceived === sent);
    }
    clockMs = nowMs;
    const payload = kernels.inputPayload(party);
    const n = session.readFrame(payload, nowMs);
    const followsSkip = session.frameFollowsSkip === true;
    if (followsSkip) flagged++;
    kernels.setInput(party, n === FRAME_LOST ? INPUT_LOST : n === 0 ? INPUT_SILENT : n, followsSkip);
    kernels.processRoom(room);
    pcm.set(kernels.decodedInput(party), tick * N);
    if (n > 0) {
      const candidates = framesOf.get(Buffer.from(payload.subarray(0, n)).toString('hex')) ?? [];
      const frame = candidates.find((k) => k > lastFrame) ?? -1;
      if (previous === 'lost') splices.push({ at: tick * N, kind: 'resume' });
      else if (previous === 'played')
        splices.push({ at: tick * N, kind: frame === lastFrame + 1 ? 'boundary' : 'skip' });
      lastFrame = frame;
    }
    previous = n === FRAME_LOST ? 'lost' : n > 0 ? 'played' : 'silent';
  }
  kernels.destroyRoom(room);
  kernels.destroyParty(party);
  return { pcm, splices, flagged };
}

/** Energy of the second difference (+12 dB/octave: a 3.5 kHz click weighs 60 times a 437 Hz tone). */
function roughness(x: Int16Array, at: number): number {
  let e = 0;
  for (let i = at - HALF_WINDOW + 2; i < at + HALF_WINDOW; i++) {
    const d = x[i] - 2 * x[i - 1] + x[i - 2];
    e += d * d;
  }
  return e;
}

const db = (ratio: number): number => 10 * Math.log10(ratio);

describe.each(['wasm', 'js'] as const)('jitter buffer splices through the %s core', (kind) => {
  it.each([
    ['437 Hz tone', tone],
    ['voiced sound', voiced]
  ])(
    'no splice of a stretch, loss or skip in a %s steps or rings above the signal itself',
    async (name, signal) => {
      const { pcm, splices, flagged } = await play(kind, signal);
      const of = (k: Splice['kind']): number[] => splices.filter((s) => s.kind === k).map((s) => s.at);
      const skips = of('skip');
      const resumes = of('resume');
      const boundaries = of('boundary');
      expect(skips.length).toBeGreaterThanOrEqual(5);
      expect(resumes.length).toBeGreaterThanOrEqual(10);

      const cleanStep = Math.max(
        ...boundaries.map((at) => largestStep(pcm, at - HALF_WINDOW, at + HALF_WINDOW))
      );
      const cleanRough = Math.max(...boundaries.map((at) => roughness(pcm, at)));
      const skipStep = Math.max(...skips.map((at) => largestStep(pcm, at - HALF_WINDOW, at + HALF_WINDOW)));
      const skipRough = Math.max(...skips.map((at) => roughness(pcm, at)));
      const resumeStep = Math.max(
        ...resumes.map((at) => largestStep(pcm, at - HALF_WINDOW, at + HALF_WINDOW))
      );
      const resumeRough = Math.max(...resumes.map((at) => roughness(pcm, at)));
      console.log(
        `${kind}, ${name}: ${skips.length} skips, ${resumes.length} resumes, ${boundaries.length} boundaries; ` +
          `largest step clean ${cleanStep}, skip ${skipStep}, resume ${resumeStep}; ` +
          `5 ms roughness over clean: skip ${db(skipRough / cleanRough).toFixed(1)} dB, ` +
          `resume ${db(resumeRough / cleanRough).toFixed(1)} dB`
      );
      // The tone's own step is ~2740; a click steps up to twice its amplitude (16000).
      expect(skipStep).toBeLessThan(1.25 * cleanStep);
      expect(resumeStep).toBeLessThan(1.25 * cleanStep);
      expect(db(skipRough / cleanRough)).toBeLessThan(3);
      expect(db(resumeRough / cleanRough)).toBeLessThan(3);
      // Each skip, and nothing else, reached the core flagged.
      expect(flagged).toBe(skips.length);
    },
    60_000
  );
});
