/**
 * `npm run bench:load`: how many conference participants one core carries, end to end.
 *
 * The engine (bench/load/engine-app.ts) runs in one process pinned to core 0; the load
 * (bench/load/load-generator.ts: SIP calls, 50 RTP packets/s each way) comes from another pinned to
 * core 1. For each room shape it adds participants step by step until more than 1 % of frame-clock
 * ticks are over 5 ms late or more than 0.1 % of RTP packets are lost, and reports CPU per
 * participant-frame, tick lateness and packet counts; then the same ramp with the plain-JS
 * kernels. Writes bench/results/load-<date>.json and a chart (SVG).
 *
 * Flags: --quick (two small steps, one shape), --kernels=wasm|js|wasm,js, --shapes=3,10,100,mixed,
 * --min=N / --max=N (participants: the ramp's range), --engine-node-args='--flag …' (for the engine
 * process), --profile (engine under --cpu-prof; summarised by stage).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import os from 'node:os';
import type { EngineSample, FromEngine, FromGenerator, GeneratorSample, ToEngine, ToGenerator } from './protocol.js';
import { renderChart } from './chart.js';
import { summariseProfile } from './profile-summary.js';

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
const kernelsList = (args.get('kernels') ?? 'wasm,js').split(',') as Array<'wasm' | 'js'>;
const maxParticipants = Number(args.get('max') ?? 1500);
const minParticipants = Number(args.get('min') ?? 0);

interface Shape {
  name: string;
  roomSizes: number[];
  steps: number[];
}

const RAMP = [50, 100, 200, 300, 400, 500, 600, 700, 800, 1000, 1200, 1500];
const ALL_SHAPES: Record<string, Shape> = {
  '3': { name: '100 rooms of 3', roomSizes: [3], steps: RAMP.filter((n) => n <= 300) },
  '3x': { name: 'rooms of 3 (ramp)', roomSizes: [3], steps: RAMP },
  '10': { name: '10 rooms of 10', roomSizes: [10], steps: [50, 100] },
  '100': { name: '1 room of 100', roomSizes: [100], steps: [50, 100] },
  mixed: { name: 'mixed (2, 3, 5, 10, 25)', roomSizes: [2, 3, 5, 10, 25], steps: RAMP }
};
const shapes = quick
  ? [{ name: 'quick: rooms of 3', roomSizes: [3], steps: [6, 12] }]
  : (args.get('shapes') ?? '3,10,100,mixed,3x').split(',').map((k) => ALL_SHAPES[k]);

const SETTLE_MS = quick ? 1000 : 2500;
const WINDOW_MS = quick ? 2000 : 5000;
const LATE_TICK_LIMIT_PCT = 1;
const LOSS_LIMIT_PCT = 0.1;

export interface StepResult {
  kernels: 'wasm' | 'js';
  shape: string;
  participants: number;
  rooms: number;
  failedCalls: number;
  cpuUsPerParticipantFrame: number;
  coreSharePct: number;
  lateTickPct: number;
  skippedTicks: number;
  latenessMsP50: number;
  latenessMsP99: number;
  latenessMsMax: number;
  packetsIntoEngine: number;
  packetsOutOfEngine: number;
  engineInboundLossPct: number;
  deliveredToCallersPct: number;
  generatorKeptUpPct: number;
  passed: boolean;
}

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return os.cpus().length >= 2;
  } catch {
    return false;
  }
})();

function launch(file: string, core: number, env: Record<string, string>, extraNodeArgs: string[] = []): ChildProcess {
  const node = [process.execPath, ...extraNodeArgs, '--import', 'tsx', join(here, file)];
  const [cmd, ...rest] = hasTaskset ? ['taskset', '-c', String(core), ...node] : node;
  return spawn(cmd, rest, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
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
    const onExit = (code: number | null): void => reject(new Error(`child exited (${code}) while waiting for '${type}'`));
    child.on('message', onMessage);
    child.on('exit', onExit);
    if (message !== null) child.send(message);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function ramp(kernels: 'wasm' | 'js', shape: Shape, profileDir?: string): Promise<StepResult[]> {
  const nodeArgs = [...(args.get('engine-node-args')?.split(' ').filter(Boolean) ?? [])];
  if (profileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  const engine = launch('engine-app.ts', 0, { LOAD_KERNELS: kernels }, nodeArgs);
  const generator = launch('load-generator.ts', 1, {});
  const results: StepResult[] = [];
  try {
    const { port } = await request<{ port: number }>(engine, null, 'ready');
    await request(generator, null, 'grown');
    for (const participants of shape.steps.filter((n) => n <= maxParticipants && n >= minParticipants)) {
      const grown = await request<{ calls: number; failed: number }>(
        generator,
        { type: 'grow', port, total: participants, roomSizes: shape.roomSizes, roomPrefix: 'load' },
        'grown'
      );
      // Call set-up (SIP, ports, DSP slots) leaves garbage and warm-up behind: settle longer after big steps.
      await sleep(SETTLE_MS + 5 * Math.max(0, participants - (results.at(-1)?.participants ?? 0)));
      engine.send({ type: 'resetClock' } satisfies ToEngine);
      const e0 = (await request<{ sample: EngineSample }>(engine, { type: 'sample' }, 'sample')).sample;
      const g0 = (await request<{ sample: GeneratorSample }>(generator, { type: 'sample' }, 'sample')).sample;
      const t0 = performance.now();
      await sleep(WINDOW_MS);
      const e1 = (await request<{ sample: EngineSample }>(engine, { type: 'sample' }, 'sample')).sample;
      const g1 = (await request<{ sample: GeneratorSample }>(generator, { type: 'sample' }, 'sample')).sample;
      const seconds = (performance.now() - t0) / 1000;
      const n = e1.calls;
      const cpuUs = e1.cpuUserUs + e1.cpuSystemUs - (e0.cpuUserUs + e0.cpuSystemUs);
      const frames = seconds * 50;
      const into = e1.packetsIn - e0.packetsIn;
      const lost = e1.packetsLost - e0.packetsLost;
      const expectedPerDirection = n * frames;
      const step: StepResult = {
        kernels,
        shape: shape.name,
        participants: n,
        rooms: e1.rooms,
        failedCalls: grown.failed,
        cpuUsPerParticipantFrame: n === 0 ? 0 : cpuUs / (n * frames),
        coreSharePct: (100 * cpuUs) / (seconds * 1e6),
        lateTickPct: e1.ticks === 0 ? 0 : (100 * e1.lateTicks) / e1.ticks,
        skippedTicks: e1.skippedTicks,
        latenessMsP50: e1.latenessMsP50,
        latenessMsP99: e1.latenessMsP99,
        latenessMsMax: e1.latenessMsMax,
        packetsIntoEngine: into,
        packetsOutOfEngine: e1.packetsOut - e0.packetsOut,
        engineInboundLossPct: into + lost === 0 ? 0 : (100 * lost) / (into + lost),
        deliveredToCallersPct: expectedPerDirection === 0 ? 100 : (100 * (g1.received - g0.received)) / expectedPerDirection,
        generatorKeptUpPct: expectedPerDirection === 0 ? 100 : (100 * (g1.sent - g0.sent)) / expectedPerDirection,
        passed: false
      };
      step.passed =
        step.failedCalls === 0 &&
        step.lateTickPct <= LATE_TICK_LIMIT_PCT &&
        step.engineInboundLossPct <= LOSS_LIMIT_PCT &&
        step.deliveredToCallersPct >= 100 - LOSS_LIMIT_PCT - 0.5; // ±1 packet per call at the window edges
      results.push(step);
      console.log(
        `[${kernels}] ${shape.name}: ${n} participants in ${step.rooms} rooms | engine core ${step.coreSharePct.toFixed(0)}% ` +
          `${step.cpuUsPerParticipantFrame.toFixed(1)} µs/participant-frame | late ticks ${step.lateTickPct.toFixed(2)}% ` +
          `p50/p99/max ${step.latenessMsP50.toFixed(1)}/${step.latenessMsP99.toFixed(1)}/${step.latenessMsMax.toFixed(1)} ms | ` +
          `in-loss ${step.engineInboundLossPct.toFixed(3)}% delivered ${step.deliveredToCallersPct.toFixed(2)}% ` +
          `(generator sent ${step.generatorKeptUpPct.toFixed(1)}%) ${step.passed ? 'ok' : 'LIMIT'}`
      );
      if (!step.passed) break;
    }
  } finally {
    if (engine.connected) engine.send({ type: 'stop' } satisfies ToEngine);
    if (generator.connected) generator.send({ type: 'stop' } satisfies ToGenerator);
    await Promise.all([engine, generator].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  }
  return results;
}

mkdirSync(resultsDir, { recursive: true });
if (profile) mkdirSync(join(resultsDir, 'profiles'), { recursive: true });
const profileDir = profile ? join(resultsDir, 'profiles', new Date().toISOString().replace(/[:.]/g, '-')) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const all: StepResult[] = [];
for (const kernels of kernelsList) for (const shape of shapes) all.push(...(await ramp(kernels, shape, kernels === 'wasm' ? profileDir : undefined)));

const summary = kernelsList.map((kernels) => {
  const ok = all.filter((r) => r.kernels === kernels && r.passed);
  const best = ok.reduce<StepResult | undefined>((b, r) => (!b || r.participants > b.participants ? r : b), undefined);
  // At the largest load that passed, fixed costs (clock, timers, RTCP) weigh least per participant.
  const perFrame = best?.cpuUsPerParticipantFrame ?? NaN;
  return {
    kernels,
    maxParticipantsPassed: best?.participants ?? 0,
    atShape: best?.shape,
    cpuUsPerParticipantFrameAtMax: perFrame,
    extrapolatedParticipantsPerCore: Math.floor(20_000 / perFrame)
  };
});
console.log('\nsummary');
for (const s of summary) {
  console.log(
    `  ${s.kernels}: up to ${s.maxParticipantsPassed} participants passed (${s.atShape ?? '-'}); ` +
      `${s.cpuUsPerParticipantFrameAtMax.toFixed(1)} µs per participant-frame there ⇒ ~${s.extrapolatedParticipantsPerCore} per core at 100 % CPU`
  );
}
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const out = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, pinned: hasTaskset, steps: all, summary };
writeFileSync(join(resultsDir, `load-${stamp}.json`), JSON.stringify(out, null, 2));
writeFileSync(join(resultsDir, `load-${stamp}.svg`), renderChart(all));
console.log(`wrote bench/results/load-${stamp}.json and .svg`);
if (profileDir) {
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  for (const f of files) console.log(`\nprofile ${f}\n${summariseProfile(join(profileDir, f))}`);
}
