/**
 * `npm run bench:load`: how many conference participants one core carries, end to end.
 *
 * The engine (bench/load/engine-app.ts) runs in one process pinned to core 0; the load
 * (bench/load/load-generator.ts: SIP calls, 50 RTP packets/s each way) comes from another pinned to
 * core 1. For each room shape it adds participants step by step until more than 1 % of frame-clock
 * ticks are over 5 ms late or more than 0.1 % of RTP packets are lost (on the way, or dropped by
 * the engine as late), and reports CPU per participant-frame, tick lateness and packet counts;
 * then the same ramp with the plain-JS kernels, and with the I/O floor (the sockets alone) to show
 * what of the engine's cost is its own.
 * Writes bench/results/load-<date>.json and a chart (SVG).
 *
 * Flags:
 *   --quick              two small steps, one shape (the harness's smoke test)
 *   --kernels=wasm,js,io-floor   what answers the calls, in this order: the engine with the
 *                        WebAssembly or the plain-JS kernels, or the I/O floor (io-floor-app.ts:
 *                        the same SIP and RTP with no media work, in rooms of 3 only); or
 *                        dsp-floor (dsp-floor-app.ts, not in the default set): the I/O floor plus
 *                        the DSP core alone, the most any engine with this DSP could carry
 *   --shapes=3,10,100,mixed,3x   '3x' goes on in rooms of 3 from where '3' (100 rooms of 3) stops;
 *                        '10l' (not in the default set): rooms of 10 with one talker, nine silent
 *   --min=N --max=N      the ramp's range of participants
 *   --step=N             participants added per step past 300 (default 100): a capacity is only as
 *                        exact as its step, and a ratio of two capacities near 1200 moves by 8 % per 100
 *   --settle-s=N         seconds between growing and measuring (default 2.5, plus 5 ms per added
 *                        participant, plus 10 s of warm-up before a fresh process's first window)
 *   --budget-s=N         seconds each shape's ramp may take (default 180)
 *   --rounds=N           every flavour's ramps N times, the flavours taking turns (default 1).
 *                        On a VM one process can run a third slower than the next for its whole
 *                        life, whatever it runs: capacities are then the best of N per flavour,
 *                        and the report adds each round's own ratio, of two ramps run back to back
 *   --engine-node-args='--flag …'  for the engine process
 *   --engine-nice=N      the engine's nice value (e.g. -10 on a shared host; negative needs root)
 *   --codec=C            what the callers send: PCMU (default), or G722, wideband phones, answered in
 *                        16 kHz rooms (the DSP floor's parties and rooms too; the I/O floor's
 *                        packets are the same size either way)
 *   --inband-dtmf=MODE   the engine's EngineOptions.inbandDtmf (default 'always'; the callers offer
 *                        telephone-event, as phones do, so 'auto' runs no in-band detector)
 *   --profile[=N]        afterwards, one more engine at N participants in rooms of 3 (default 300),
 *                        CPU-profiled over its measurement window; summarised by stage, and its
 *                        late ticks lined up with the profile (stall-tracer.ts, stall-analysis.ts)
 *   --profile-kernels=K  what that profiled run answers with (default wasm; io-floor profiles the
 *                        floor, to set the engine's stages against the same sockets with no media)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import os from 'node:os';
import { once } from 'node:events';
import type {
  EngineSample,
  FromEngine,
  FromGenerator,
  GeneratorSample,
  StallTrace,
  ToEngine,
  ToGenerator
} from './protocol.js';
import { renderChart } from './chart.js';
import { INBAND_DTMF_MODES } from '../../engine/dtmf/inband-dtmf-mode.js';
import { LOAD_CODECS } from './caller-audio.js';
import { analyseProfile, formatProfileSummary, type ProfileSummary } from './profile-summary.js';
import { sampleSystem, coreBusyPct, corePct, delta } from './system-stats.js';
import { analyseStalls, formatStallReport, type StallReport } from './stall-analysis.js';

const stallTracePath = (profilePath: string): string => profilePath.replace(/\.cpuprofile$/, '.stalls.json');

const here = fileURLToPath(new URL('.', import.meta.url));
const resultsDir = join(here, '..', 'results');
const args = new Map<string, string | undefined>(
  process.argv.slice(2).map((a): [string, string | undefined] => {
    const flag = a.replace(/^--/, '');
    const at = flag.indexOf('=');
    return at < 0 ? [flag, undefined] : [flag.slice(0, at), flag.slice(at + 1)];
  })
);
const quick = args.has('quick');
const profile = args.has('profile');
/** Participants (rooms of 3, WebAssembly kernels) for the separate --profile run. */
const profileParticipants = Number(args.get('profile') ?? 300);
/** What answers the calls: the engine with either kernel set, the bare I/O floor (io-floor-app.ts) or the DSP floor (dsp-floor-app.ts). */
type Flavour = 'wasm' | 'js' | 'io-floor' | 'dsp-floor';
const FLAVOURS: Flavour[] = ['wasm', 'js', 'io-floor', 'dsp-floor'];
/** The floors: no engine, the same sockets with no media work (io-floor) or with the DSP core alone (dsp-floor). */
const isFloor = (k: Flavour): boolean => k === 'io-floor' || k === 'dsp-floor';
const kernelsList = (args.get('kernels') ?? 'wasm,js,io-floor').split(',').map((k) => {
  if (!FLAVOURS.includes(k as Flavour))
    throw new Error(`unknown --kernels '${k}': expected ${FLAVOURS.join(', ')}`);
  return k as Flavour;
});
/** The floors ramp only in rooms of 3: without a mixer, room shapes mean nothing to the I/O floor, the DSP floor's yardstick. */
const FLOOR_SHAPES = new Set(['100 rooms of 3', 'rooms of 3 (ramp)', 'quick: rooms of 3']);
const maxParticipants = Number(args.get('max') ?? 1500);
const inbandDtmf = args.get('inband-dtmf') ?? 'always';
if (!(INBAND_DTMF_MODES as readonly string[]).includes(inbandDtmf))
  throw new Error(`unknown --inband-dtmf '${inbandDtmf}': expected ${INBAND_DTMF_MODES.join(', ')}`);
const minParticipants = Number(args.get('min') ?? 0);
const codec = args.get('codec') ?? 'PCMU';
if (!(LOAD_CODECS as readonly string[]).includes(codec))
  throw new Error(`unknown --codec '${codec}': expected ${LOAD_CODECS.join(', ')}`);
const profileKernels = (args.get('profile-kernels') ?? 'wasm') as Flavour;
if (!FLAVOURS.includes(profileKernels))
  throw new Error(`unknown --profile-kernels '${profileKernels}': expected ${FLAVOURS.join(', ')}`);

interface Shape {
  name: string;
  roomSizes: number[];
  steps: number[];
  /** Callers per room that talk; the rest send digital silence. All talk when absent. */
  talkersPerRoom?: number;
}

/** Participants added per step past 300 (`--step`): 100 by default; 50 halves the capacity's rounding. */
const rampStep = Number(args.get('step') ?? 100);
if (!Number.isInteger(rampStep) || rampStep < 10)
  throw new Error(`--step must be an integer of at least 10, got ${args.get('step')}`);
const rounds = Number(args.get('rounds') ?? 1);
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error(`--rounds must be a positive integer, got ${args.get('rounds')}`);
const RAMP = [
  50,
  100,
  200,
  300,
  ...Array.from({ length: Math.floor(2200 / rampStep) }, (_, i) => 300 + rampStep * (i + 1))
];
const ALL_SHAPES: Record<string, Shape> = {
  '3': { name: '100 rooms of 3', roomSizes: [3], steps: RAMP.filter((n) => n <= 300) },
  // Goes on where '3' stopped (100 rooms of 3), in the same rooms of 3.
  '3x': { name: 'rooms of 3 (ramp)', roomSizes: [3], steps: RAMP.filter((n) => n > 300) },
  '10': { name: '10 rooms of 10', roomSizes: [10], steps: [50, 100] },
  '100': { name: '1 room of 100', roomSizes: [100], steps: [50, 100] },
  mixed: { name: 'mixed (2, 3, 5, 10, 25)', roomSizes: [2, 3, 5, 10, 25], steps: RAMP },
  // A meeting as it usually is: one speaker, the others listening with their microphones muted.
  '10l': {
    name: 'rooms of 10, one talker and nine silent (ramp)',
    roomSizes: [10],
    steps: RAMP.filter((n) => n >= 100),
    talkersPerRoom: 1
  }
};
const shapes = quick
  ? [{ name: 'quick: rooms of 3', roomSizes: [3], steps: [6, 12] }]
  : (args.get('shapes') ?? '3,10,100,mixed,3x')
      .split(',')
      .map((k) => {
        if (!ALL_SHAPES[k])
          throw new Error(`unknown shape '${k}': expected one of ${Object.keys(ALL_SHAPES).join(', ')}`);
        return ALL_SHAPES[k];
      })
      .map((s) => ({ ...s, steps: s.steps.filter((n) => n <= maxParticipants && n >= minParticipants) }));

const SETTLE_MS = args.has('settle-s') ? 1000 * Number(args.get('settle-s')) : quick ? 1000 : 2500;
/**
 * Extra settling before a fresh process's first window. For its first ~10 s the engine's own
 * background threads (V8's optimising compiler) share its pinned core: at 600 participants the
 * first window waited 17–41 ms/s for the CPU and failed on late ticks in two runs of three,
 * where with 10 s more it waited 7–8 ms/s and ran no late tick, three runs of three.
 */
const WARMUP_MS = quick ? 0 : 10_000;
const WINDOW_MS = quick ? 2000 : 5000;
/** The start of a window whose ticks the clock's statistics leave out (see `measure`). */
const CLOCK_SETTLE_MS = 250;
const LATE_TICK_LIMIT_PCT = 1;
const LOSS_LIMIT_PCT = 0.1;
/** A ramp that stops below this share of its core stopped on a stall, not because the core was full. */
const FULL_CORE_PCT = 85;

export interface StepResult {
  kernels: Flavour;
  shape: string;
  participants: number;
  rooms: number;
  failedCalls: number;
  /** The engine's own interval between its two samples (what its counters and CPU time cover). */
  windowSeconds: number;
  cpuUsPerParticipantFrame: number;
  /** Of which in the kernel (system time): the sockets' share the process cannot make cheaper. */
  kernelUsPerParticipantFrame: number;
  /** Engine process CPU (user + system) as a share of one core. */
  coreSharePct: number;
  /** The engine's core busy with anything else (other processes on a shared host), if known. */
  neighbourCorePct?: number;
  /** Of that: the hypervisor's steal, and the kernel's interrupts and softirqs (packet delivery). */
  stealCorePct?: number;
  irqCorePct?: number;
  /** Time the engine's main thread was ready to run but waited for the CPU, ms per second. */
  runQueueWaitMsPerS?: number;
  lateTickPct: number;
  skippedTicks: number;
  latenessMsP50: number;
  latenessMsP99: number;
  latenessMsMax: number;
  /** Mean time inside one frame-clock tick. */
  tickWorkMsMean: number;
  packetsSentByCallers: number;
  packetsIntoEngine: number;
  packetsOutOfEngine: number;
  packetsReceivedByCallers: number;
  /** RFC 3550 loss of the engine's inbound streams (sequence gaps). */
  engineInboundLossPct: number;
  /** Packets the engine's RTP sessions dropped after receiving them (late, duplicate, overflow). */
  enginePacketsLate: number;
  enginePacketsDiscarded: number;
  /** Share of the packets the engine received that its jitter buffers dropped as late. */
  engineDroppedLatePct: number;
  /** Share of the participant-frames the DSP core concealed (jitter buffer: packet missing or late, or a stretch). */
  concealedPct: number;
  /** Engine received / callers sent, and callers received / engine sent: both ends' own counts, as rates over each end's own interval. */
  engineReceivedOfCallersSentPct: number;
  callersReceivedOfEngineSentPct: number;
  deliveredToCallersPct: number;
  generatorKeptUpPct: number;
  /** Host-wide UDP receive-buffer drops during the window (Linux), if known. */
  udpRcvbufErrors?: number;
  passed: boolean;
  /** Why it failed, empty when it passed. */
  limits: string[];
  /** A failed window is measured once more before the ramp stops; this is the first one. */
  firstAttempt?: Omit<StepResult, 'firstAttempt'>;
  /** Which of the `--rounds` measured it, from 1 (absent for the profiled run). */
  round?: number;
}

const ENGINE_CORE = 0;
const GENERATOR_CORE = 1;
/** Bound on one kernel flavour's ramps (all shapes); a ramp that reaches it stops where it is. */
const BUDGET_MS_PER_SHAPE = Number(args.get('budget-s') ?? 180) * 1000;

const pinned = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return os.cpus().length >= 2;
  } catch {
    return false;
  }
})();

/** --engine-nice=N: the engine process's nice value (negative needs root), to rank it above neighbours. */
const engineNice = args.get('engine-nice');

function launch(
  file: string,
  core: number,
  env: Record<string, string>,
  extraNodeArgs: string[] = []
): ChildProcess {
  const node = [process.execPath, ...extraNodeArgs, '--import', 'tsx', join(here, file)];
  const niced =
    engineNice !== undefined && file !== 'load-generator.ts' ? ['nice', '-n', engineNice, ...node] : node;
  const [cmd, ...rest] = pinned ? ['taskset', '-c', String(core), ...niced] : niced;
  return spawn(cmd, rest, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env }
  });
}

/** Sends `message` (unless null) and resolves with the child's next reply of `type`. */
function request<T>(child: ChildProcess, message: ToEngine | ToGenerator | null, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: FromEngine | FromGenerator): void => {
      if (reply.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(reply as T);
    };
    const onExit = (code: number | null): void =>
      reject(new Error(`child exited (${code}) while waiting for '${type}'`));
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (message !== null) child.send(message);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A deadline for a race that must not keep the orchestrator alive once the race is decided. */
const timeout = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

const exited = (c: ChildProcess): Promise<unknown> =>
  c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : once(c, 'exit');

/** One measurement window over the calls already up: both processes' counters before and after. */
async function measure(
  engine: ChildProcess,
  generator: ChildProcess,
  kernels: Flavour,
  shape: Shape,
  failedCalls: number,
  profilePath?: string
): Promise<StepResult> {
  if (profilePath) await request(engine, { type: 'profileStart' }, 'profileStarted');
  const t0 = performance.now();
  const s0 = sampleSystem(ENGINE_CORE, engine.pid);
  const e0 = (await request<{ sample: EngineSample }>(engine, { type: 'sample' }, 'sample')).sample;
  const g0 = (await request<{ sample: GeneratorSample }>(generator, { type: 'sample' }, 'sample')).sample;
  // Reading every call's counters (and starting the profiler) holds the engine's thread for
  // 10-25 ms at a thousand calls, and the ticks it delayed run late just after: the clock's
  // statistics start once they have caught up. That is the harness's work, not the engine's.
  await sleep(CLOCK_SETTLE_MS);
  engine.send({ type: 'resetClock' } satisfies ToEngine);
  if (profilePath) await request(engine, { type: 'traceStart' }, 'traceStarted');
  await sleep(WINDOW_MS - CLOCK_SETTLE_MS);
  const e1 = (await request<{ sample: EngineSample }>(engine, { type: 'sample' }, 'sample')).sample;
  const g1 = (await request<{ sample: GeneratorSample }>(generator, { type: 'sample' }, 'sample')).sample;
  const s1 = sampleSystem(ENGINE_CORE, engine.pid);
  if (profilePath) {
    const { trace } = await request<{ trace: StallTrace }>(engine, { type: 'traceStop' }, 'traceStopped');
    writeFileSync(stallTracePath(profilePath), JSON.stringify(trace));
    await request(engine, { type: 'profileStop', path: profilePath }, 'profileWritten');
  }
  // The host's counters (s0, s1) span the whole window; each process's counters span the interval
  // between its own two samples, which is shorter by the time the requests took to be answered
  // (tens of ms from a busy engine): a rate over the whole window would read that as packets lost.
  const seconds = (performance.now() - t0) / 1000;
  const engineSeconds = (e1.atMs - e0.atMs) / 1000;
  const callerSeconds = (g1.atMs - g0.atMs) / 1000;
  const n = e1.calls;
  const cpuUs = e1.cpuUserUs + e1.cpuSystemUs - (e0.cpuUserUs + e0.cpuSystemUs);
  const frames = engineSeconds * 50;
  const into = e1.packetsIn - e0.packetsIn;
  const out = e1.packetsOut - e0.packetsOut;
  const sent = g1.sent - g0.sent;
  const received = g1.received - g0.received;
  const lost = e1.packetsLost - e0.packetsLost;
  const droppedLate = e1.packetsLate - e0.packetsLate;
  const expectedPerDirection = n * callerSeconds * 50;
  const coreSharePct = (100 * cpuUs) / (engineSeconds * 1e6);
  const busy = pinned ? coreBusyPct(s0, s1) : undefined;
  const pct = (part: number, whole: number): number => (whole === 0 ? 100 : (100 * part) / whole);
  const step: StepResult = {
    kernels,
    shape: shape.name,
    participants: n,
    rooms: e1.rooms,
    failedCalls,
    windowSeconds: engineSeconds,
    cpuUsPerParticipantFrame: n === 0 ? 0 : cpuUs / (n * frames),
    kernelUsPerParticipantFrame: n === 0 ? 0 : (e1.cpuSystemUs - e0.cpuSystemUs) / (n * frames),
    coreSharePct,
    neighbourCorePct: busy === undefined ? undefined : Math.max(0, busy - coreSharePct),
    stealCorePct: pinned ? corePct(s0, s1, 'coreSteal') : undefined,
    irqCorePct: pinned ? corePct(s0, s1, 'coreIrq') : undefined,
    runQueueWaitMsPerS: (delta(s0.threadWaitNs, s1.threadWaitNs) ?? NaN) / 1e6 / seconds,
    lateTickPct: e1.ticks === 0 ? 0 : (100 * e1.lateTicks) / e1.ticks,
    skippedTicks: e1.skippedTicks,
    latenessMsP50: e1.latenessMsP50,
    latenessMsP99: e1.latenessMsP99,
    latenessMsMax: e1.latenessMsMax,
    tickWorkMsMean: e1.workMsMean,
    packetsSentByCallers: sent,
    packetsIntoEngine: into,
    packetsOutOfEngine: out,
    packetsReceivedByCallers: received,
    engineInboundLossPct: into + lost === 0 ? 0 : (100 * lost) / (into + lost),
    enginePacketsLate: droppedLate,
    enginePacketsDiscarded: e1.packetsDiscarded - e0.packetsDiscarded,
    engineDroppedLatePct: into === 0 ? 0 : (100 * droppedLate) / into,
    concealedPct: n === 0 ? 0 : pct(e1.framesConcealed - e0.framesConcealed, n * engineSeconds * 50),
    engineReceivedOfCallersSentPct: pct(into * callerSeconds, sent * engineSeconds),
    callersReceivedOfEngineSentPct: pct(received * engineSeconds, out * callerSeconds),
    deliveredToCallersPct: pct(received, expectedPerDirection),
    generatorKeptUpPct: pct(sent, expectedPerDirection),
    udpRcvbufErrors: delta(s0.udpRcvbufErrors, s1.udpRcvbufErrors),
    passed: false,
    limits: []
  };
  // The two processes are sampled one after the other, so a window's edges may differ by a packet
  // or so per call: allow 0.5 % on the counts compared across processes.
  const EDGE_PCT = 0.5;
  if (step.failedCalls > 0) step.limits.push(`${step.failedCalls} calls failed`);
  if (step.lateTickPct > LATE_TICK_LIMIT_PCT) step.limits.push(`late ticks ${step.lateTickPct.toFixed(2)} %`);
  if (step.engineInboundLossPct > LOSS_LIMIT_PCT)
    step.limits.push(`engine inbound loss ${step.engineInboundLossPct.toFixed(3)} %`);
  if (step.engineReceivedOfCallersSentPct < 100 - LOSS_LIMIT_PCT - EDGE_PCT)
    step.limits.push(
      `engine received ${step.engineReceivedOfCallersSentPct.toFixed(2)} % of what callers sent`
    );
  if (step.deliveredToCallersPct < 100 - LOSS_LIMIT_PCT - EDGE_PCT)
    step.limits.push(`callers received ${step.deliveredToCallersPct.toFixed(2)} % of 50 packets/s`);
  // A packet read after its frame was played is as lost to the room as one lost on the way: an
  // engine whose event-loop turns outgrow the jitter buffer's delay keeps its ticks on time (RTP
  // handlers run them, FrameClock.runIfDue) while its rooms hear concealment. The floors have no
  // jitter buffer, so they are never charged with this.
  if (step.engineDroppedLatePct > LOSS_LIMIT_PCT)
    step.limits.push(`engine dropped ${step.engineDroppedLatePct.toFixed(2)} % of packets as late`);
  step.passed = step.limits.length === 0;
  return step;
}

function progress(step: StepResult, note = ''): void {
  const neighbours =
    step.neighbourCorePct === undefined
      ? ''
      : ` (+${step.neighbourCorePct.toFixed(0)}% others: steal ${step.stealCorePct?.toFixed(0) ?? '?'}%, irq ${step.irqCorePct?.toFixed(0) ?? '?'}%; waited ${step.runQueueWaitMsPerS?.toFixed(0) ?? '?'} ms/s)`;
  console.log(
    `[${step.kernels}] ${step.shape}: ${step.participants} participants in ${step.rooms} rooms | engine core ${step.coreSharePct.toFixed(0)}%${neighbours} ` +
      `${step.cpuUsPerParticipantFrame.toFixed(1)} µs/participant-frame (kernel ${step.kernelUsPerParticipantFrame.toFixed(1)}), tick ${step.tickWorkMsMean.toFixed(2)} ms | ` +
      `late ${step.lateTickPct.toFixed(2)}% p50/p99/max ${step.latenessMsP50.toFixed(1)}/${step.latenessMsP99.toFixed(1)}/${step.latenessMsMax.toFixed(1)} ms | ` +
      `in ${step.packetsIntoEngine}/${step.packetsSentByCallers} out ${step.packetsReceivedByCallers}/${step.packetsOutOfEngine} ` +
      `loss ${step.engineInboundLossPct.toFixed(3)}% concealed ${step.concealedPct.toFixed(2)}% | ${step.passed ? 'ok' : `LIMIT: ${step.limits.join(', ')}`}${note}`
  );
}

/** With `profilePath`, each step's (first) window is CPU-profiled into that file. */
async function ramp(
  kernels: Flavour,
  shape: Shape,
  deadline: number,
  profilePath?: string
): Promise<StepResult[]> {
  const nodeArgs = [...(args.get('engine-node-args')?.split(' ').filter(Boolean) ?? [])];
  const engine = isFloor(kernels)
    ? launch(`${kernels}-app.ts`, ENGINE_CORE, { LOAD_CODEC: codec }, nodeArgs)
    : launch(
        'engine-app.ts',
        ENGINE_CORE,
        { LOAD_KERNELS: kernels, LOAD_INBAND_DTMF: inbandDtmf, LOAD_CODEC: codec },
        nodeArgs
      );
  const generator = launch('load-generator.ts', GENERATOR_CORE, { LOAD_CODEC: codec });
  const results: StepResult[] = [];
  try {
    const { port } = await request<{ port: number }>(engine, null, 'ready');
    await request(generator, null, 'grown');
    for (const participants of shape.steps) {
      if (Date.now() > deadline) {
        console.log(
          `[${kernels}] ${shape.name}: time budget for this shape used up, ramp stops at ${results.at(-1)?.participants ?? 0}`
        );
        break;
      }
      const grown = await request<{ calls: number; failed: number }>(
        generator,
        {
          type: 'grow',
          port,
          total: participants,
          roomSizes: shape.roomSizes,
          roomPrefix: 'load',
          talkersPerRoom: shape.talkersPerRoom
        },
        'grown'
      );
      // Call set-up (SIP, ports, DSP slots) leaves garbage and warm-up behind: settle longer after big steps.
      const previous = results.at(-1)?.participants;
      await sleep(
        SETTLE_MS + 5 * Math.max(0, participants - (previous ?? 0)) + (previous === undefined ? WARMUP_MS : 0)
      );
      let step = await measure(engine, generator, kernels, shape, grown.failed, profilePath);
      if (!step.passed && grown.failed === 0 && !quick) {
        // On a shared host one window can fail for a neighbour's burst: a limit counts when it holds twice.
        progress(step, ' (measuring again)');
        step = { ...(await measure(engine, generator, kernels, shape, grown.failed)), firstAttempt: step };
      }
      results.push(step);
      progress(step);
      // --quick checks the harness, not the engine: it runs all its steps whatever they measure.
      if (!step.passed && !quick) break;
    }
  } finally {
    // The engine first: its BYEs must still find the callers' user agent, or every BYE waits out Timer F.
    if (engine.connected) engine.send({ type: 'stop' } satisfies ToEngine);
    await Promise.race([exited(engine), timeout(15_000)]);
    if (generator.connected) generator.send({ type: 'stop' } satisfies ToGenerator);
    await Promise.race([exited(generator), timeout(5_000)]);
    for (const child of [engine, generator])
      if (child.exitCode === null && child.signalCode === null) child.kill();
    await Promise.all([exited(engine), exited(generator)]);
  }
  return results;
}

mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const all: StepResult[] = [];
for (let round = 1; round <= rounds; round++) {
  if (rounds > 1) console.log(`round ${round} of ${rounds}`);
  for (const kernels of kernelsList) {
    for (const shape of shapes) {
      if (isFloor(kernels) && !FLOOR_SHAPES.has(shape.name)) continue;
      const deadline = Date.now() + BUDGET_MS_PER_SHAPE;
      const rampOnce = async (s: Shape): Promise<StepResult[]> => {
        const results = await ramp(kernels, s, deadline);
        for (const r of results) r.round = round;
        all.push(...results);
        return results;
      };
      let results = await rampOnce(shape);
      // A first step that fails (a --min above what this host carries now) would report no capacity
      // at all: try the next lower load, in fresh processes, until one passes.
      while (!quick && results.length === 1 && !results[0].passed && Date.now() < deadline) {
        const lower = RAMP.filter((n) => n < results[0].participants).at(-1);
        if (lower === undefined) break;
        console.log(`[${kernels}] ${shape.name}: the first step failed, trying ${lower}`);
        results = await rampOnce({ ...shape, steps: [lower] });
      }
    }
  }
}

// The profiler costs CPU and pauses the engine to take samples, so the ramps run without it and
// the profile comes from one more engine held at a fixed load, over its measurement window only.
let profileRun: { step?: StepResult; file: string; summary: ProfileSummary; stalls: StallReport } | undefined;
if (profile) {
  const profileDir = join(resultsDir, 'profiles');
  mkdirSync(profileDir, { recursive: true });
  const file = join(profileDir, `${stamp}.cpuprofile`);
  const shape: Shape = { name: 'profiled: rooms of 3', roomSizes: [3], steps: [profileParticipants] };
  const [step] = await ramp(profileKernels, shape, Infinity, file);
  profileRun = {
    step,
    file,
    summary: analyseProfile(file),
    stalls: analyseStalls(file, stallTracePath(file))
  };
}

const FRAMES_PER_SECOND = 50;
/** The largest load that passed among `steps`, if any. */
const bestOf = (steps: StepResult[]): StepResult | undefined =>
  steps.reduce<StepResult | undefined>(
    (b, r) => (!r.passed || (b && b.participants >= r.participants) ? b : r),
    undefined
  );
const summary = kernelsList.map((kernels) => {
  // Over every round: the best of them, and where that round's ramp stopped.
  const best = bestOf(all.filter((r) => r.kernels === kernels));
  const stop = all.find((r) => r.kernels === kernels && !r.passed && r.round === (best?.round ?? 1));
  // At the largest load that passed, fixed costs (clock, timers, RTCP) weigh least per participant.
  const perFrame = best?.cpuUsPerParticipantFrame ?? NaN;
  return {
    kernels,
    maxParticipantsPassed: best?.participants ?? 0,
    atShape: best?.shape,
    engineCoreSharePctAtMax: best?.coreSharePct ?? NaN,
    latenessMsP99AtMax: best?.latenessMsP99,
    stoppedAt: stop
      ? {
          shape: stop.shape,
          participants: stop.participants,
          limits: stop.limits,
          coreSharePct: stop.coreSharePct
        }
      : undefined,
    cpuUsPerParticipantFrameAtMax: perFrame,
    /** If the engine could use all of a core: 1e6 µs / (µs per participant-frame × 50 frames/s). */
    extrapolatedParticipantsPerCore: Math.floor(1e6 / (perFrame * FRAMES_PER_SECOND)),
    coresFor1000Participants: (perFrame * FRAMES_PER_SECOND * 1000) / 1e6
  };
});
const wasm = summary.find((s) => s.kernels === 'wasm');
const js = summary.find((s) => s.kernels === 'js');
const wasmSpeedup =
  wasm && js ? js.cpuUsPerParticipantFrameAtMax / wasm.cpuUsPerParticipantFrameAtMax : undefined;
console.log(codec === 'PCMU' ? '\nsummary' : `\nsummary (${codec} callers, 16 kHz rooms)`);
for (const s of summary) {
  console.log(
    `  ${s.kernels}: ramp passed up to ${s.maxParticipantsPassed} participants (${s.atShape ?? '-'}, engine at ${s.engineCoreSharePctAtMax.toFixed(0)}% of its core)` +
      `${s.stoppedAt ? `; stopped at ${s.stoppedAt.participants} (${s.stoppedAt.shape}): ${s.stoppedAt.limits.join(', ')}` : ''}\n` +
      `     ${s.cpuUsPerParticipantFrameAtMax.toFixed(1)} µs per participant-frame ⇒ ~${s.extrapolatedParticipantsPerCore} per core at 100 % CPU; ` +
      `1000 participants need ${s.coresFor1000Participants.toFixed(2)} cores`
  );
}
/** With --rounds: what each flavour passed in each round, and the engine's share of the I/O floor within the round. */
const perRound =
  rounds > 1
    ? Array.from({ length: rounds }, (_, i) => {
        const round = i + 1;
        const capacities: Partial<Record<Flavour, number>> = Object.fromEntries(
          kernelsList.map((k) => [
            k,
            bestOf(all.filter((r) => r.kernels === k && r.round === round))?.participants ?? 0
          ])
        );
        const { wasm: engine, 'io-floor': floor } = capacities;
        const engineOverFloor =
          engine !== undefined && floor !== undefined && floor > 0 ? engine / floor : undefined;
        return { round, capacities, engineOverFloor };
      })
    : undefined;
const roundRatios = (perRound ?? []).flatMap((r) =>
  r.engineOverFloor === undefined ? [] : [r.engineOverFloor]
);
for (const r of perRound ?? []) {
  const passed = Object.entries(r.capacities).map(([k, n]) => `${k} ${n}`);
  const ratio =
    r.engineOverFloor === undefined ? '' : `; the engine at ${r.engineOverFloor.toFixed(2)} of the I/O floor`;
  console.log(`  round ${r.round}: ${passed.join(', ')}${ratio}`);
}
if (wasmSpeedup)
  console.log(
    `  end to end, the engine with the WebAssembly kernels uses ${wasmSpeedup.toFixed(2)}× less CPU per participant-frame than with the JS kernels`
  );
// The engine against the bare I/O floor at the same loads, where both passed.
const overFloor = all
  .filter((r) => r.kernels === 'wasm' && r.passed && FLOOR_SHAPES.has(r.shape))
  .flatMap((r) => {
    const passedAt = (k: Flavour): StepResult | undefined =>
      all.find(
        (f) => f.kernels === k && f.passed && f.participants === r.participants && f.round === r.round
      );
    const floor = passedAt('io-floor');
    return floor
      ? [
          {
            participants: r.participants,
            round: r.round,
            engineUs: r.cpuUsPerParticipantFrame,
            floorUs: floor.cpuUsPerParticipantFrame,
            floorSharePct: (100 * floor.cpuUsPerParticipantFrame) / r.cpuUsPerParticipantFrame,
            dspFloorUs: passedAt('dsp-floor')?.cpuUsPerParticipantFrame
          }
        ]
      : [];
  });
// The issue's yardstick: how many participants the engine carries, as a share of what the bare
// sockets carry on the same core with the same pass rules, and how late its ticks ran there.
const floorSummary = summary.find((s) => s.kernels === 'io-floor');
/** Columns that stopped with their core far from full: a stall (on a shared host, usually its neighbours), not a capacity. */
function stalledBelowFullCore(columns: (typeof summary)[number][]): string[] {
  return columns.flatMap((s) =>
    s.stoppedAt && s.stoppedAt.coreSharePct < FULL_CORE_PCT
      ? [
          `${s.kernels} stopped at ${s.stoppedAt.participants} with its core at ${s.stoppedAt.coreSharePct.toFixed(0)} %`
        ]
      : []
  );
}
/** The line that says a ratio measured a stall, when `stalled` lists any column. */
function stallWarning(stalled: string[]): string {
  return stalled.length > 0
    ? `\n  not a capacity ratio: ${stalled.join('; ')} (a stall, not a full core): run again`
    : '';
}
const capacityOverFloor =
  wasm && floorSummary && floorSummary.maxParticipantsPassed > 0
    ? {
        engine: wasm.maxParticipantsPassed,
        floor: floorSummary.maxParticipantsPassed,
        floorRampCapped: floorSummary.stoppedAt === undefined,
        ratio: wasm.maxParticipantsPassed / floorSummary.maxParticipantsPassed,
        stalledBelowFullCore: stalledBelowFullCore([wasm, floorSummary]),
        engineLatenessMsP99: wasm.latenessMsP99AtMax
      }
    : undefined;
if (capacityOverFloor)
  console.log(
    `  capacity${roundRatios.length > 0 ? ` (best of ${rounds} rounds each; the rounds' own ratios ${roundRatios.map((x) => x.toFixed(2)).join(', ')})` : ''}: the engine (wasm) passed ${capacityOverFloor.engine} participants, the I/O floor ${capacityOverFloor.floor}${capacityOverFloor.floorRampCapped ? ' (its ramp ended before it failed: raise --max)' : ''}: ` +
      `ratio ${capacityOverFloor.ratio.toFixed(2)}, the engine's p99 tick lateness there ${capacityOverFloor.engineLatenessMsP99?.toFixed(1) ?? '?'} ms` +
      stallWarning(capacityOverFloor.stalledBelowFullCore)
  );
// The ceiling: the I/O floor plus the DSP core alone, as a share of the I/O floor.
const dspFloorSummary = summary.find((s) => s.kernels === 'dsp-floor');
const ceilingOverFloor =
  dspFloorSummary && floorSummary && floorSummary.maxParticipantsPassed > 0
    ? {
        dspFloor: dspFloorSummary.maxParticipantsPassed,
        floor: floorSummary.maxParticipantsPassed,
        ratio: dspFloorSummary.maxParticipantsPassed / floorSummary.maxParticipantsPassed,
        stalledBelowFullCore: stalledBelowFullCore([dspFloorSummary, floorSummary]),
        // The DSP floor does the I/O floor's work and more: carrying more, it met a faster host.
        hostMoved: dspFloorSummary.maxParticipantsPassed > floorSummary.maxParticipantsPassed
      }
    : undefined;
if (ceilingOverFloor)
  console.log(
    `  ceiling: the DSP floor (sockets and the DSP core, nothing else) passed ${ceilingOverFloor.dspFloor} participants: ` +
      `ratio ${ceilingOverFloor.ratio.toFixed(2)} of the I/O floor, the most an engine with this DSP could reach` +
      stallWarning(ceilingOverFloor.stalledBelowFullCore) +
      (ceilingOverFloor.hostMoved
        ? '\n  not a capacity ratio: the DSP floor carried more than the I/O floor, which does less of the same work; the host ran faster for one ramp than the other, so neither ratio of this run measures the code: run again'
        : '')
  );
for (const o of overFloor) {
  console.log(
    `  at ${o.participants} participants${rounds > 1 ? ` (round ${o.round})` : ''}: engine (wasm) ${o.engineUs.toFixed(1)} µs per participant-frame, of which the I/O floor (SIP + RTP sockets, no media work) is ${o.floorUs.toFixed(1)} µs (${o.floorSharePct.toFixed(0)} %)` +
      (o.dspFloorUs === undefined ? '' : `; the DSP floor ${o.dspFloorUs.toFixed(1)} µs`)
  );
}
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  pinned,
  engineNice: engineNice === undefined ? 0 : Number(engineNice),
  inbandDtmf,
  codec,
  limits: { lateTickPct: LATE_TICK_LIMIT_PCT, lateThresholdMs: 5, lossPct: LOSS_LIMIT_PCT },
  settleMs: SETTLE_MS,
  warmupMs: WARMUP_MS,
  windowMs: WINDOW_MS,
  steps: all,
  summary,
  profile: profileRun,
  wasmSpeedupEndToEnd: wasmSpeedup,
  engineOverIoFloor: overFloor,
  capacityOverFloor,
  ceilingOverFloor,
  rounds: perRound
};
writeFileSync(join(resultsDir, `load-${stamp}.json`), JSON.stringify(result, null, 2));
writeFileSync(join(resultsDir, `load-${stamp}.svg`), renderChart(all));
console.log(`wrote bench/results/load-${stamp}.json and .svg`);
if (profileRun) {
  console.log(
    `\nprofile of the ${profileKernels} process's main thread over one window at ${profileRun.step?.participants ?? '?'} participants (${profileRun.file})`
  );
  console.log(formatProfileSummary(profileRun.summary));
  console.log(`\nlate ticks in that window against the profile (${stallTracePath(profileRun.file)})`);
  console.log(formatStallReport(profileRun.stalls));
}
