/**
 * Attributes the self time of a V8 .cpuprofile (from `node --cpu-prof`) to the engine's stages,
 * by the source file or built-in each sample's function belongs to, and lists the functions with
 * the most self time. `npx tsx bench/load/profile-summary.ts <file.cpuprofile> [topN]`.
 */
import { readFileSync } from 'node:fs';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function is, relative to the project (tsx-compiled files report line 0 for everything: the file alone then). */
export function whereOf(url: string, lineNumber: number): string {
  const file = url.replace(/^.*\/(?=(engine|sip|tts|bench|node_modules)\/)/, '');
  return !url ? '' : lineNumber > 0 ? `${file}:${lineNumber + 1}` : file;
}

type Match = (url: string, fn: string) => boolean;

/** First match wins: specific folders before the catch-all ones. */
const STAGES: Array<[string, Match]> = [
  ['DSP (wasm)', (url) => url.startsWith('wasm://') || url.includes('.wasm')],
  ['DSP glue (engine/dsp)', (url) => url.includes('/engine/dsp/')],
  ['jitter buffer', (url) => url.includes('jitter-buffer')],
  ['RTP (packets, RTCP, sessions)', (url) => url.includes('/engine/rtp/')],
  ['talker detection', (url) => url.includes('/engine/talker/') || url.includes('meyda')],
  ['mixing loop and media legs', (url) => url.includes('/engine/media/') || url.includes('/engine/clock/')],
  ['conference and channels', (url) => url.includes('/engine/')],
  ['SIP', (url) => url.includes('/sip/')],
  ['TTS', (url) => url.includes('/tts/')],
  ['bench harness (engine-app sampling)', (url) => url.includes('/bench/load/')],
  [
    'socket I/O (dgram, libuv)',
    (url, fn) =>
      url.includes('dgram') || /^(send|onMessage|doSend|afterSend|_handle|sendto|handle_udp)/.test(fn)
  ],
  ['GC', (_url, fn) => fn === '(garbage collector)'],
  ['idle', (_url, fn) => fn === '(idle)'],
  ['program (native, event loop)', (_url, fn) => fn === '(program)'],
  [
    'timers and process (Node internals)',
    (url) => url.includes('timers') || url.includes('process/task_queues')
  ],
  ['other Node internals', (url) => url.startsWith('node:')],
  ['other', () => true]
];

export function stageOf(url: string, fn: string): string {
  return STAGES.find(([, match]) => match(url, fn))?.[0] ?? 'other';
}

export interface ProfileSummary {
  /** Self time by stage, ms, most first. */
  stages: Array<{ stage: string; ms: number; busyPct: number }>;
  /** Functions with the most self time. */
  top: Array<{ fn: string; where: string; stage: string; ms: number; busyPct: number }>;
  busyMs: number;
  idleMs: number;
}

export function analyseProfile(path: string, topN = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stages = new Map<string, number>();
  const functions = new Map<string, { fn: string; where: string; stage: string; us: number }>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const dt = profile.timeDeltas[i] ?? 0;
    const { url, functionName, lineNumber } = node.callFrame;
    const stage = stageOf(url, functionName);
    stages.set(stage, (stages.get(stage) ?? 0) + dt);
    const where = whereOf(url, lineNumber);
    const key = `${functionName}@${where}`;
    const entry = functions.get(key) ?? { fn: functionName || '(anonymous)', where, stage, us: 0 };
    entry.us += dt;
    functions.set(key, entry);
  });
  const idleUs = stages.get('idle') ?? 0;
  stages.delete('idle');
  const busyUs = [...stages.values()].reduce((a, b) => a + b, 0);
  const pct = (us: number): number => (busyUs === 0 ? 0 : (100 * us) / busyUs);
  return {
    stages: [...stages.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([stage, us]) => ({ stage, ms: us / 1000, busyPct: pct(us) })),
    top: [...functions.values()]
      .filter((f) => f.stage !== 'idle')
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ fn: f.fn, where: f.where, stage: f.stage, ms: f.us / 1000, busyPct: pct(f.us) })),
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000
  };
}

/** The profile at `path` summarised as a printable table. */
export function summariseProfile(path: string, topN = 15): string {
  return formatProfileSummary(analyseProfile(path, topN));
}

export function formatProfileSummary(s: ProfileSummary): string {
  const topN = s.top.length;
  const lines = [
    `  busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`,
    '  by stage (self time):'
  ];
  for (const { stage, ms, busyPct } of s.stages) {
    lines.push(`    ${stage.padEnd(38)} ${ms.toFixed(0).padStart(7)} ms ${busyPct.toFixed(1).padStart(5)} %`);
  }
  lines.push(`  top ${topN} functions (self time):`);
  for (const f of s.top) {
    lines.push(
      `    ${f.busyPct.toFixed(1).padStart(5)} %  ${f.fn.slice(0, 34).padEnd(34)} ${f.where.slice(0, 60).padEnd(60)} [${f.stage}]`
    );
  }
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.ts') && process.argv[2]) {
  console.log(summariseProfile(process.argv[2], Number(process.argv[3] ?? 15)));
}
