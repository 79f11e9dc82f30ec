/**
 * The engine side of the load benchmark, in its own process: every incoming call is answered and
 * transferred into the room its Request-URI names, with no prompts. The orchestrator asks it for
 * samples (CPU, frame-clock lateness, RTP totals) over IPC.
 */
import { Engine, type InbandDtmfMode } from '../../engine/index.js';
import { answerIntoRooms } from '../support/answer-into-rooms.js';
import type { EngineSample } from './protocol.js';
import { send, serveOrchestrator } from './child-ipc.js';

const kernels = (process.env.LOAD_KERNELS ?? 'wasm') as 'wasm' | 'js';
const engine = new Engine({
  sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
  rtp: { minPort: 40000, maxPort: 59999 },
  kernels,
  inbandDtmf: (process.env.LOAD_INBAND_DTMF ?? 'always') as InbandDtmfMode,
  logLevel: 'warn'
});
const answered = answerIntoRooms(engine, { fallbackRoom: 'load', secondsTimeout: 30 });

/**
 * Calls read per event-loop turn. Read all at once, 650 calls' statistics held a loaded engine's
 * thread for 11-26 ms; at a full core the frame clock could not catch up and skipped the ticks
 * it had missed (17 after one sample), which the window's packet counts then charged to the engine
 * as frames its callers never got. The floors' samples read a few counters. Each call's counters
 * are read once at each end of the window, in the same order, and the sample says when
 * (callReadMsSum): the orchestrator takes rates over each call's own interval.
 */
const CALLS_PER_TURN = 50;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function sample(): Promise<EngineSample> {
  const atMs = performance.now();
  const cpu = process.cpuUsage();
  const clock = engine.clockStats();
  const s: EngineSample = {
    atMs,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    ticks: clock.ticks,
    lateTicks: clock.lateTicks,
    skippedTicks: clock.skippedTicks,
    latenessMsP50: clock.latenessMsP50,
    latenessMsP99: clock.latenessMsP99,
    latenessMsMax: clock.latenessMsMax,
    workMsMean: clock.workMsMean,
    packetsIn: 0,
    packetsOut: 0,
    packetsLost: 0,
    packetsLate: 0,
    packetsDiscarded: 0,
    framesConcealed: 0,
    calls: answered.size,
    rooms: engine.rooms.size,
    callReadMsSum: 0
  };
  let read = 0;
  let readMs = atMs;
  for (const channel of [...answered]) {
    if (++read % CALLS_PER_TURN === 0) {
      await nextTurn();
      readMs = performance.now();
    }
    s.callReadMsSum += readMs;
    const rtp = channel.rtpStats();
    if (!rtp) continue;
    s.packetsIn += rtp.packetsReceived;
    s.packetsOut += rtp.packetsSent;
    s.packetsLost += Math.max(0, rtp.packetsLost);
    s.packetsLate += rtp.packetsLate;
    s.packetsDiscarded += rtp.packetsDiscarded;
    s.framesConcealed += rtp.concealedFrames;
  }
  return s;
}

serveOrchestrator({
  sample,
  clock: engine.clock,
  resetClock: () => engine.clock.resetStats(),
  stop: () => engine.stop()
});

await engine.start();
send({ type: 'ready', port: engine.sipAddresses()[0].port });
