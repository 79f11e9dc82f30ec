/**
 * The engine's own work per participant-frame, end to end inside one process: real media legs
 * (RTP session, jitter buffer, RFC 4733 receiver, packetizer, talker detection, metrics) in rooms
 * of 3, each fed one 20 ms PCMU packet per frame through its socket's 'message' event and mixed
 * by the frame loop, which sends every party's packet. The sockets are stand-ins that count
 * sends, so the figure is everything but the kernel's and libuv's share of a UDP packet (which
 * `npm run bench:load` adds on real sockets). The clock is virtual: one frame per call, 20 ms
 * apart. WebAssembly kernels against the plain-JS ones in the same run; bytes allocated per
 * participant-frame from V8's sampling heap profiler.
 *
 * Measured twice: back to back (caches hot), and with 64 MiB touched between frames (untimed),
 * as a loaded engine's socket traffic and other calls evict its state between two visits: the
 * cold figure is the one `bench:load` sees, and the memory a participant-frame touches shows in
 * the difference. MEDIA_PATH_PARTICIPANTS=N changes the number of participants (default 300).
 *
 * Last, the DSP core alone on the same parties (bench/support/dsp-core-floor.ts: payloads straight
 * into WebAssembly memory, one call per room, headers written in place): the least any design of
 * the media path costs, and the pipeline's figure over it is what its JavaScript costs.
 */
import { EventEmitter } from 'node:events';
import type dgram from 'node:dgram';
import Benchmark from 'benchmark';
import type { BenchReport } from '../report.js';
import { bytesPerCall } from '../support/heap-sampling.js';
import { ulawTone } from '../support/ulaw-tone.js';
import { createKernels, type DspKernels } from '../../engine/dsp/kernels.js';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { MixLoop } from '../../engine/media/mix-loop.js';
import { MixRoom } from '../../engine/media/mix-room.js';
import type { MediaLeg } from '../../engine/media/media-leg.js';
import { pcmuLeg } from '../../test/support/pcmu-leg.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { countingPorts } from '../../test/support/counting-rtp-ports.js';
import type { InbandDtmfMode } from '../../engine/dtmf/inband-dtmf-mode.js';
import { buildCoreFloor } from '../support/dsp-core-floor.js';

const PARTICIPANTS = Number(process.env.MEDIA_PATH_PARTICIPANTS ?? 300);
const ROOM_SIZE = 3;
const FRAME_MS = 20;
const PAYLOAD_BYTES = 160;

interface Caller {
  socket: EventEmitter;
  packet: Buffer;
  rinfo: dgram.RemoteInfo;
}

export interface Pipeline {
  frame(): void;
  /**
   * Packets every leg has sent, read from each one's RtpSession.stats(): the suite times it as an
   * application polling every call's statistics.
   */
  sent(): number;
  close(): void;
}

/** `coached`: in every room the first party coaches the second (MediaLeg.whisperTo), as a supervisor would. */
export function buildPipeline(
  kernels: DspKernels,
  participants = PARTICIPANTS,
  inbandDtmf: InbandDtmfMode = 'always',
  coached = false
): Pipeline {
  // Fractional like performance.now(): a whole-number clock stays a small integer in V8 and would
  // hide a time value boxed per frame.
  let nowMs = 1000.123;
  const now = (): number => nowMs;
  const loop = new MixLoop(new FrameClock(), (error) => {
    throw error;
  });
  const metrics = new EngineMetrics();
  // 440 Hz at about -15 dBFS, a second of it: every caller talks all the time (the worst case).
  const tone = ulawTone(440, 6000, 8000);
  const toneFrames = Array.from({ length: 50 }, (_, f) =>
    tone.subarray(f * PAYLOAD_BYTES, (f + 1) * PAYLOAD_BYTES)
  );
  const legs: MediaLeg[] = [];
  const rooms: MixRoom[] = [];
  const callers: Caller[] = [];
  for (let i = 0; i < participants; i++) {
    const ports = countingPorts(40000 + 2 * i);
    const leg = pcmuLeg({ kernels, loop, ports, metrics, now, inbandDtmf, codecs: ['PCMU', 'PCMA'] });
    const callerPort = 20000 + 2 * i;
    leg.answer(
      `v=0\r\no=- ${i} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
        `m=audio ${callerPort} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=sendrecv\r\n`
    );
    if (i % ROOM_SIZE === 0) {
      const room = new MixRoom(kernels, 8000);
      loop.add(room);
      rooms.push(room);
    }
    leg.moveTo(rooms[rooms.length - 1]);
    const coach = coached && i % ROOM_SIZE === 0;
    leg.setContributing(true, coach);
    if (coached && i % ROOM_SIZE === 1) legs[i - 1].whisperTo(leg);
    legs.push(leg);
    const packet = Buffer.alloc(12 + PAYLOAD_BYTES);
    packet[0] = 0x80;
    packet.writeUInt32BE(0x80001000 + i, 8); // above 2^31, as half of real SSRCs are
    callers.push({
      socket: ports.rtpSocket,
      packet,
      rinfo: { address: '127.0.0.1', family: 'IPv4', port: callerPort, size: packet.length }
    });
  }
  let frame = 0;
  return {
    frame(): void {
      const payload = toneFrames[frame % 50];
      for (let i = 0; i < callers.length; i++) {
        const { socket, packet, rinfo } = callers[i];
        packet.writeUInt16BE(frame & 0xffff, 2);
        packet.writeUInt32BE((frame * PAYLOAD_BYTES) >>> 0, 4);
        packet.set(payload, 12);
        socket.emit('message', packet, rinfo);
      }
      loop.tick();
      frame++;
      nowMs += FRAME_MS;
    },
    sent(): number {
      let n = 0;
      for (const leg of legs) n += leg.rtpSession?.stats().packetsSent ?? 0;
      return n;
    },
    close(): void {
      for (const leg of legs) leg.close();
      for (const room of rooms) room.close();
      loop.close();
    }
  };
}

function nsPerFrame(name: string, frame: () => void): number {
  const bench = new Benchmark(name, frame, { minSamples: 30, maxTime: 3 });
  bench.run();
  return bench.stats.mean * 1e9;
}

const EVICT_BYTES = 64 << 20;
const COLD_FRAMES = 300;

/** Median ns of `frame` when every call finds the caches full of something else (the median: a neighbour's burst on a shared host moves the mean). */
function coldNsPerFrame(frame: () => void): number {
  const other = new Uint8Array(EVICT_BYTES);
  const ns = new Float64Array(COLD_FRAMES);
  for (let f = 0; f < COLD_FRAMES; f++) {
    for (let i = 0; i < other.length; i += 64) other[i]++;
    const t0 = process.hrtime.bigint();
    frame();
    ns[f] = Number(process.hrtime.bigint() - t0);
  }
  return ns.sort()[COLD_FRAMES >> 1];
}

/** The engine with either kernel set, and with in-band DTMF detection off for callers that negotiated RFC 4733 ('auto'). */
const VARIANTS = [
  { label: 'wasm kernels', kind: 'wasm', inbandDtmf: 'always' },
  { label: "wasm kernels, inbandDtmf 'auto'", kind: 'wasm', inbandDtmf: 'auto' },
  { label: 'js kernels', kind: 'js', inbandDtmf: 'always' }
] as const;

export async function run(report: BenchReport): Promise<void> {
  const results = new Map<string, { ns: number; coldNs: number; bytes: number }>();
  let statsNs = 0;
  for (const variant of VARIANTS) {
    const kernels = await createKernels(variant.kind);
    const pipeline = buildPipeline(kernels, PARTICIPANTS, variant.inbandDtmf);
    // Past the jitter buffer's start-up and the JIT's warm-up.
    for (let i = 0; i < 500; i++) pipeline.frame();
    const ns = nsPerFrame(`media path ${variant.label}`, () => pipeline.frame());
    const coldNs = coldNsPerFrame(() => pipeline.frame());
    const bytes = await bytesPerCall(() => pipeline.frame(), 500);
    // Reading every call's RTP statistics once, as an application polling them would.
    if (variant.kind === 'wasm' && variant.inbandDtmf === 'always')
      statsNs = nsPerFrame('stats() of every call', () => pipeline.sent());
    const sentPerFrame = pipeline.sent();
    pipeline.close();
    kernels.close();
    if (sentPerFrame === 0) throw new Error(`media path (${variant.label}): no packet was sent`);
    results.set(variant.label, { ns, coldNs, bytes });
  }
  const kernels = await createKernels('wasm');
  const core = buildCoreFloor(kernels, PARTICIPANTS, 'always');
  for (let i = 0; i < 500; i++) core.frame();
  const coreNs = nsPerFrame('DSP core alone', () => core.frame());
  const coreColdNs = coldNsPerFrame(() => core.frame());
  const coreSent = core.sent();
  core.close();
  kernels.close();
  if (coreSent === 0) throw new Error('media path (DSP core alone): no output was encoded');
  const js = results.get('js kernels')!;
  const always = results.get('wasm kernels')!;
  for (const variant of VARIANTS) {
    const { ns, coldNs, bytes } = results.get(variant.label)!;
    const name = `${PARTICIPANTS} participants in rooms of ${ROOM_SIZE}, 8 kHz PCMU, ${variant.label} (no kernel/libuv socket cost)`;
    const vsAlways: Record<string, number> =
      variant.inbandDtmf === 'auto' ? { hotOverAlways: ns / always.ns } : {};
    report.add({
      suite: 'media-path',
      name: `${name}, caches hot`,
      nsPerFrame: ns,
      nsPerPartyFrame: ns / PARTICIPANTS,
      speedupOverJs: variant.kind === 'wasm' ? js.ns / ns : undefined,
      extra: { bytesPerParticipantFrame: bytes / PARTICIPANTS, ...vsAlways }
    });
    report.add({
      suite: 'media-path',
      name: `${name}, caches cold`,
      nsPerFrame: coldNs,
      nsPerPartyFrame: coldNs / PARTICIPANTS,
      speedupOverJs: variant.kind === 'wasm' ? js.coldNs / coldNs : undefined,
      extra: variant.inbandDtmf === 'auto' ? { coldOverAlways: coldNs / always.coldNs } : undefined
    });
  }
  report.add({
    suite: 'media-path',
    name: `RtpSession.stats() of each of ${PARTICIPANTS} calls, caches hot`,
    nsPerFrame: statsNs / PARTICIPANTS,
    extra: { overParticipantFrame: statsNs / always.ns }
  });
  const coreName = `${PARTICIPANTS} participants in rooms of ${ROOM_SIZE}, 8 kHz PCMU, the DSP core alone (payloads into WebAssembly memory, one call per room, headers in place)`;
  report.add({
    suite: 'media-path',
    name: `${coreName}, caches hot`,
    nsPerFrame: coreNs,
    nsPerPartyFrame: coreNs / PARTICIPANTS,
    extra: { pipelineOverCore: always.ns / coreNs }
  });
  report.add({
    suite: 'media-path',
    name: `${coreName}, caches cold`,
    nsPerFrame: coreColdNs,
    nsPerPartyFrame: coreColdNs / PARTICIPANTS,
    extra: { pipelineOverCore: always.coldNs / coreColdNs }
  });
}
