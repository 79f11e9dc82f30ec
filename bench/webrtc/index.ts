/**
 * `npm run bench:webrtc`: what a browser participant costs next to a phone, end to end.
 *
 * The engine (engine-app.ts) runs in its own process pinned to core 0; the callers run here,
 * pinned to core 1: phones (SIP, PCMU over RTP, test/support/tone-phone.ts) and browsers
 * (@roamhq/wrtc peer connections with Opus over SIP on WebSockets,
 * test/support/webrtc-caller.ts), each sending a tone, in rooms of --room-size.
 *
 * 1. Side by side in one run: the idle engine, then --side phones, then as many browsers
 *    more. CPU per participant-frame of each kind (the difference each adds, over --window-s),
 *    the engine's own share (its main thread) against @roamhq/wrtc's threads, and threads and
 *    memory per browser leg.
 * 2. Ramp: browsers added --step at a time until more than 1 % of ticks are over 5 ms late or
 *    --max is reached. The callers' own peer connections cost about as much as the engine's,
 *    so on a small host the generator's core may give out first: the report says which.
 *
 * Writes bench/results/webrtc-<date>.json. Figures from a shared host move between runs.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { FromWebRtcEngine, ToWebRtcEngine, WebRtcEngineSample } from './protocol.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = new Map(
  process.argv.slice(2).map((a): [string, string] => {
    const [k, v = ''] = a.replace(/^--/, '').split('=');
    return [k, v];
  })
);
const roomSize = Number(args.get('room-size') || 5);
const side = Number(args.get('side') || 10);
const step = Number(args.get('step') || 10);
const max = Number(args.get('max') || 40);
const windowS = Number(args.get('window-s') || 10);
const settleS = Number(args.get('settle-s') || 3);
const FRAMES_PER_S = 50;

function hasTaskset(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' });
    return os.availableParallelism() >= 2;
  } catch {
    return false;
  }
}
const pinned = hasTaskset();
// Before @roamhq/wrtc starts its threads, so they inherit the affinity.
if (pinned) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
const { WebRtcCaller } = await import('../../test/support/webrtc-caller.js');
const { TonePhone } = await import('../../test/support/tone-phone.js');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class EngineProcess {
  private readonly pending: Array<(s: WebRtcEngineSample) => void> = [];
  ready!: { sipPort: number; wsPort: number };
  constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromWebRtcEngine) => {
      if (m.type === 'sample') this.pending.shift()?.(m.sample);
    });
  }
  static async start(): Promise<EngineProcess> {
    const node = [process.execPath, '--import', 'tsx', join(here, 'engine-app.ts')];
    const command = pinned ? ['taskset', '-c', '0', ...node] : node;
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const engine = new EngineProcess(child);
    const [message] = (await once(child, 'message')) as [FromWebRtcEngine];
    if (message.type !== 'ready') throw new Error('engine did not start');
    engine.ready = message;
    return engine;
  }
  send(m: ToWebRtcEngine): void {
    this.child.send(m);
  }
  sample(): Promise<WebRtcEngineSample> {
    return new Promise((resolve) => {
      this.pending.push(resolve);
      this.send({ type: 'sample' });
    });
  }
}

interface Window {
  label: string;
  phones: number;
  browsers: number;
  cpuUsPerS: number;
  mainUsPerS: number;
  threads: number;
  rssMb: number;
  latePct: number;
  latenessMsP99: number;
  generatorCorePct: number;
}

async function measure(
  engine: EngineProcess,
  label: string,
  phones: number,
  browsers: number
): Promise<Window> {
  await sleep(settleS * 1000);
  engine.send({ type: 'resetClock' });
  const a = await engine.sample();
  const genA = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const b = await engine.sample();
  const seconds = (performance.now() - t0) / 1000;
  const gen = process.cpuUsage(genA);
  const w: Window = {
    label,
    phones,
    browsers,
    cpuUsPerS: (b.cpuUs - a.cpuUs) / seconds,
    mainUsPerS: (b.mainThreadCpuUs - a.mainThreadCpuUs) / seconds,
    threads: b.threads,
    rssMb: b.rssBytes / 2 ** 20,
    latePct: b.ticks > 0 ? (100 * b.lateTicks) / b.ticks : 0,
    latenessMsP99: b.latenessMsP99,
    generatorCorePct: ((gen.user + gen.system) / seconds / 1e6) * 100
  };
  console.log(
    `${label.padEnd(34)} engine ${(w.cpuUsPerS / 1e4).toFixed(1).padStart(5)} % of a core (main thread ${(w.mainUsPerS / 1e4).toFixed(1)} %), ${w.threads} threads, ${w.rssMb.toFixed(0)} MB, late ticks ${w.latePct.toFixed(2)} %, p99 ${w.latenessMsP99.toFixed(1)} ms; callers' core ${w.generatorCorePct.toFixed(0)} %`
  );
  return w;
}

const engine = await EngineProcess.start();
const phones: Array<Awaited<ReturnType<typeof TonePhone.create>>> = [];
const browsers: Array<InstanceType<typeof WebRtcCaller>> = [];
const wsUrl = `ws://127.0.0.1:${engine.ready.wsPort}/sip`;
let toneIndex = 0;
const nextTone = (): number => 300 + 37 * (toneIndex++ % 80);

async function addPhones(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const room = `phones${Math.floor(phones.length / roomSize)}`;
    const phone = await TonePhone.create({
      toneHz: nextTone(),
      amplitude: 2000,
      user: `tel${phones.length}`
    });
    phones.push(phone);
    await phone.call(`sip:${room}@127.0.0.1:${engine.ready.sipPort}`);
  }
}

async function addBrowsers(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const room = `browsers${Math.floor(browsers.length / roomSize)}`;
    const caller = new WebRtcCaller({ toneHz: nextTone(), amplitude: 2000, user: `web${browsers.length}` });
    browsers.push(caller);
    const response = await caller.call(wsUrl, `sip:${room}@127.0.0.1`);
    if (response.status !== 200) throw new Error(`browser ${browsers.length} refused: ${response.status}`);
  }
}

const perPf = (usPerS: number, participants: number): number => usPerS / (participants * FRAMES_PER_S);
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  host: os.cpus()[0]?.model,
  cores: os.availableParallelism(),
  pinned,
  roomSize,
  windowS
};
try {
  console.log(
    `engine pinned to core 0: ${pinned}; rooms of ${roomSize}; ${windowS} s windows after ${settleS} s settling\n`
  );
  const idle = await measure(engine, 'idle engine', 0, 0);
  await addPhones(side);
  const withPhones = await measure(engine, `${side} phones`, side, 0);
  await addBrowsers(side);
  const withBoth = await measure(engine, `${side} phones + ${side} browsers`, side, side);
  const sipPf = perPf(withPhones.cpuUsPerS - idle.cpuUsPerS, side);
  const webPf = perPf(withBoth.cpuUsPerS - withPhones.cpuUsPerS, side);
  const webMainPf = perPf(withBoth.mainUsPerS - withPhones.mainUsPerS, side);
  const sideBySide = {
    sipUsPerParticipantFrame: sipPf,
    webrtcUsPerParticipantFrame: webPf,
    webrtcEngineMainThreadUsPerParticipantFrame: webMainPf,
    webrtcEngineShare: webMainPf / webPf,
    webrtcCorePctPerLeg: ((withBoth.cpuUsPerS - withPhones.cpuUsPerS) / side / 1e6) * 100,
    threadsPerWebrtcLeg: (withBoth.threads - withPhones.threads) / side,
    rssMbPerWebrtcLeg: (withBoth.rssMb - withPhones.rssMb) / side,
    windows: [idle, withPhones, withBoth]
  };
  results.sideBySide = sideBySide;
  console.log(`
per participant-frame: phone ${sipPf.toFixed(1)} µs, browser ${webPf.toFixed(1)} µs (${(webPf / sipPf).toFixed(1)}x), of which the engine's main thread ${webMainPf.toFixed(1)} µs (${(100 * sideBySide.webrtcEngineShare).toFixed(0)} %)
per browser leg: ${sideBySide.webrtcCorePctPerLeg.toFixed(2)} % of a core, ${sideBySide.threadsPerWebrtcLeg.toFixed(1)} threads, ${sideBySide.rssMbPerWebrtcLeg.toFixed(1)} MB
`);
  const ramp: Window[] = [];
  while (browsers.length < max) {
    await addBrowsers(Math.min(step, max - browsers.length));
    const w = await measure(engine, `${side} phones + ${browsers.length} browsers`, side, browsers.length);
    ramp.push(w);
    if (w.latePct > 1) break;
  }
  results.ramp = ramp;
  const last = ramp[ramp.length - 1];
  const verdict =
    last && last.latePct > 1
      ? `ticks ran late at ${last.browsers} browsers (${last.latePct.toFixed(2)} % over 5 ms)`
      : `no late ticks up to ${browsers.length} browsers (--max); the callers' core was at ${last?.generatorCorePct.toFixed(0)} %`;
  const baseline = `the idle engine already had ${idle.latePct.toFixed(2)} % late ticks (p99 ${idle.latenessMsP99.toFixed(1)} ms): what is late beyond that is the load's`;
  results.verdict = `${verdict}; ${baseline}`;
  console.log(
    `\nramp: ${verdict}\n      ${baseline}; load average ${os.loadavg()[0].toFixed(1)} on ${os.availableParallelism()} cores`
  );
  const resultsDir = join(here, '..', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `webrtc-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`wrote ${file}`);
} finally {
  await Promise.all(browsers.map((b) => b.close()));
  await Promise.all(phones.map((p) => p.close()));
  engine.send({ type: 'stop' });
  await once(engine.child, 'exit');
  // @roamhq/wrtc crashes a process that exits normally once it has been used.
  process.exit(0);
}
