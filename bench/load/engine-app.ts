/**
 * The engine side of the load benchmark, in its own process: every incoming call is answered and
 * transferred into the room its Request-URI names, with no prompts. The orchestrator asks it for
 * samples (CPU, frame-clock lateness, RTP totals) over IPC.
 */
import { Engine, type InbandDtmfMode } from '../../engine/index.js';
import { answerIntoRooms } from '../support/answer-into-rooms.js';
import type { EngineSample } from './protocol.js';
import { send, serveOrchestrator } from './child-ipc.js';
import { loadCodecFromEnv } from './caller-audio.js';
import { codecRateHz } from '../../engine/dsp/kernels.js';

const kernels = (process.env.LOAD_KERNELS ?? 'wasm') as 'wasm' | 'js';
const engine = new Engine({
  sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
  rtp: { minPort: 40000, maxPort: 59999 },
  kernels,
  inbandDtmf: (process.env.LOAD_INBAND_DTMF ?? 'always') as InbandDtmfMode,
  // G.722 callers (--codec=G722) are wideband phones: their rooms mix at their rate, 16 kHz.
  roomSampleRateHz: codecRateHz(loadCodecFromEnv()),
  logLevel: 'warn'
});
const answered = answerIntoRooms(engine, { fallbackRoom: 'load', secondsTimeout: 30 });

/**
 * Every call's counters are read in one go. They used to be read 50 per event-loop turn, when
 * `rtpStats()` cost 17-40 µs per call in a loaded engine (650 calls held its thread for 11-26 ms
 * and the frame clock skipped ticks after); 67 ns now (`npm run bench -- media-path`), and 600
 * calls take 0.2-4.4 ms in a loaded engine. Each slice waited a whole event-loop turn, and on a
 * saturated engine a sample spread over seconds.
 */
function sample(): EngineSample {
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
    rooms: engine.rooms.size
  };
  for (const channel of answered) {
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
