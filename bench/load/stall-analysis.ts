/**
 * Lines the late ticks of a stall trace (stall-tracer.ts) up with the CPU profile of the same
 * window: for every tick that started more than 5 ms after it was due, what the engine's thread
 * ran between the due time and the start (by stage, by function, and by the event-loop callback
 * it ran under), next to the GC pauses in those gaps and the event loop's delay. A gap the
 * profile shows as idle was not the engine's doing: the thread was not run, or its timer fired late.
 * `npx tsx bench/load/stall-analysis.ts <file.cpuprofile> <file.stalls.json>`.
 */
import { readFileSync } from 'node:fs';
import { stageOf, whereOf, type CpuProfile } from './profile-summary.js';
import type { StallTrace } from './protocol.js';

const LATE_MS = 5;

export interface StallReport {
  windowMs: number;
  ticks: number;
  lateTicks: number;
  /** Summed over the late ticks' gaps (due → start). */
  gapMs: number;
  gapByStage: Array<{ stage: string; pct: number }>;
  gapTopFunctions: Array<{ fn: string; where: string; pct: number }>;
  /** The outermost JavaScript function of each sample: which kind of callback held the thread. */
  gapByEntry: Array<{ entry: string; pct: number }>;
  /** Share of the whole window's samples by stage, for comparison. */
  windowByStage: Array<{ stage: string; pct: number }>;
  gcInGapsMs: number;
  gcPauses: number;
  gcMaxMs: number;
  /** Longest run of busy samples (not idle) anywhere in the window, and what ran most in it. */
  longestBusyRunMs: number;
  longestBusyRunTop: Array<{ fn: string; pct: number }>;
  eventLoopDelayMs: StallTrace['eventLoopDelayMs'];
  involuntaryContextSwitches: number;
  voluntaryContextSwitches: number;
  threads: StallTrace['threads'];
  worstTicks: Array<{ atMs: number; latenessMs: number; topStage: string }>;
}

function shares(map: Map<string, number>, total: number, n = 8): Array<[string, number]> {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => [k, total === 0 ? 0 : (100 * v) / total]);
}

const add = (map: Map<string, number>, key: string, v: number): void => {
  map.set(key, (map.get(key) ?? 0) + v);
};

export function analyseStalls(profilePath: string, tracePath: string): StallReport {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as StallTrace;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const entryOf = (id: number): string => {
    // The frame just under (root) is the callback the event loop ran (or '(program)', '(idle)', GC).
    let at = id;
    for (
      let up = parent.get(at);
      up !== undefined && byId.get(up)?.callFrame.functionName !== '(root)';
      up = parent.get(at)
    )
      at = up;
    const f = byId.get(at)?.callFrame;
    if (!f) return '?';
    const file = f.url.replace(/^.*\//, '');
    return file ? `${f.functionName || '(anonymous)'} (${file})` : f.functionName;
  };

  // Sample i covers [t_i, t_i + timeDeltas[i+1]); its timestamp is cumulative.
  const times: number[] = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  const durationOf = (i: number): number => (i + 1 < times.length ? times[i + 1] - times[i] : 0);

  const windowStages = new Map<string, number>();
  let windowUs = 0;
  let busyRunStart = -1;
  let longest = { from: 0, to: -1, us: 0 };
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)?.callFrame;
    const stage = f ? stageOf(f.url, f.functionName) : 'other';
    const us = durationOf(i);
    add(windowStages, stage, us);
    windowUs += us;
    const idle = stage === 'idle';
    if (!idle && busyRunStart < 0) busyRunStart = i;
    if ((idle || i === profile.samples.length - 1) && busyRunStart >= 0) {
      const runUs = times[i] - times[busyRunStart];
      if (runUs > longest.us) longest = { from: busyRunStart, to: i, us: runUs };
      busyRunStart = -1;
    }
  });
  const longestTop = new Map<string, number>();
  for (let i = longest.from; i < longest.to; i++) {
    const f = byId.get(profile.samples[i])?.callFrame;
    if (f) add(longestTop, `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '')}`, durationOf(i));
  }

  const late = trace.ticks.filter((k) => k.latenessMs > LATE_MS);
  const gapStages = new Map<string, number>();
  const gapFunctions = new Map<string, number>();
  const gapEntries = new Map<string, number>();
  let gapUs = 0;
  const worst: StallReport['worstTicks'] = [];
  let cursor = 0;
  for (const tick of late) {
    const from = tick.dueUs;
    const to = tick.dueUs + tick.latenessMs * 1000;
    while (cursor < times.length && times[cursor] < from) cursor++;
    const stagesHere = new Map<string, number>();
    for (let i = cursor; i < times.length && times[i] < to; i++) {
      const node = byId.get(profile.samples[i]);
      if (!node) continue;
      const { url, functionName, lineNumber } = node.callFrame;
      const stage = stageOf(url, functionName);
      const us = durationOf(i);
      add(gapStages, stage, us);
      add(stagesHere, stage, us);
      add(gapFunctions, `${functionName || '(anonymous)'}\t${whereOf(url, lineNumber)}`, us);
      add(gapEntries, entryOf(node.id), us);
      gapUs += us;
    }
    worst.push({
      atMs: (tick.dueUs - trace.startUs) / 1000,
      latenessMs: tick.latenessMs,
      topStage: shares(stagesHere, 1, 1)[0]?.[0] ?? '(no samples)'
    });
  }
  const gcInGaps = trace.gc.filter((g) =>
    late.some((k) => g.startUs < k.dueUs + k.latenessMs * 1000 && g.startUs + g.durationMs * 1000 > k.dueUs)
  );
  return {
    windowMs: windowUs / 1000,
    ticks: trace.ticks.length,
    lateTicks: late.length,
    gapMs: gapUs / 1000,
    gapByStage: shares(gapStages, gapUs).map(([stage, pct]) => ({ stage, pct })),
    gapTopFunctions: shares(gapFunctions, gapUs, 12).map(([k, pct]) => {
      const [fn, where] = k.split('\t');
      return { fn, where, pct };
    }),
    gapByEntry: shares(gapEntries, gapUs).map(([entry, pct]) => ({ entry, pct })),
    windowByStage: shares(windowStages, windowUs).map(([stage, pct]) => ({ stage, pct })),
    gcInGapsMs: gcInGaps.reduce((a, g) => a + g.durationMs, 0),
    gcPauses: trace.gc.length,
    gcMaxMs: trace.gc.reduce((a, g) => Math.max(a, g.durationMs), 0),
    longestBusyRunMs: longest.us / 1000,
    longestBusyRunTop: shares(longestTop, longest.us, 6).map(([fn, pct]) => ({ fn, pct })),
    eventLoopDelayMs: trace.eventLoopDelayMs,
    involuntaryContextSwitches: trace.involuntaryContextSwitches,
    voluntaryContextSwitches: trace.voluntaryContextSwitches,
    threads: trace.threads,
    worstTicks: worst.sort((a, b) => b.latenessMs - a.latenessMs).slice(0, 8)
  };
}

export function formatStallReport(r: StallReport): string {
  const pct = (list: Array<{ pct: number }>, label: (x: never) => string): string[] =>
    list.map((x) => `      ${x.pct.toFixed(1).padStart(5)} %  ${label(x as never)}`);
  return [
    `  ${r.lateTicks} of ${r.ticks} ticks over ${LATE_MS} ms late; their gaps (due → start) sum to ${r.gapMs.toFixed(0)} ms of a ${r.windowMs.toFixed(0)} ms window`,
    `  event loop delay p50/p99/max ${r.eventLoopDelayMs.p50.toFixed(1)}/${r.eventLoopDelayMs.p99.toFixed(1)}/${r.eventLoopDelayMs.max.toFixed(1)} ms; ` +
      `GC ${r.gcPauses} pauses, max ${r.gcMaxMs.toFixed(1)} ms, ${r.gcInGapsMs.toFixed(1)} ms inside the gaps; ` +
      `context switches ${r.voluntaryContextSwitches} voluntary, ${r.involuntaryContextSwitches} involuntary`,
    `  threads on the CPU (ms run / ms waiting for it): ${r.threads
      .slice(0, 8)
      .map((t) => `${t.name} ${t.runMs.toFixed(0)}/${t.waitMs.toFixed(0)}`)
      .join(', ')}`,
    `  longest busy run ${r.longestBusyRunMs.toFixed(1)} ms:`,
    ...pct(r.longestBusyRunTop, (x: { fn: string }) => x.fn),
    '    in the gaps, by stage (whole window in brackets):',
    ...r.gapByStage.map(
      (s) =>
        `      ${s.pct.toFixed(1).padStart(5)} %  ${s.stage} [${(r.windowByStage.find((w) => w.stage === s.stage)?.pct ?? 0).toFixed(1)} %]`
    ),
    '    in the gaps, by event-loop callback:',
    ...pct(r.gapByEntry, (x: { entry: string }) => x.entry),
    '    in the gaps, by function (self):',
    ...pct(r.gapTopFunctions, (x: { fn: string; where: string }) => `${x.fn} ${x.where}`),
    '    worst ticks:',
    ...r.worstTicks.map(
      (w) => `      at ${w.atMs.toFixed(0)} ms: ${w.latenessMs.toFixed(1)} ms late, mostly ${w.topStage}`
    )
  ].join('\n');
}

if (process.argv[1]?.endsWith('stall-analysis.ts') && process.argv[3]) {
  console.log(formatStallReport(analyseStalls(process.argv[2], process.argv[3])));
}
