/**
 * `npm run soak [-- --minutes 10 | --seconds 30] [--concurrency 6] [--interval-seconds 10] [--phases 1] [--heap-snapshots 1]`
 * `[--kinds normal,played]`: cycles calls of every kind through an engine in its own process for
 * a set time, reports what the engine holds every interval, and at the end checks that every
 * counter came back to where it started (exit 1 otherwise). Kinds: normal (conference, caller
 * hangs up), never-ACKed, vanished (no BYE, no RTP: ended by the RTP inactivity timeout), refused
 * (403), played, recorded, transferred and retrieved, moderated (muted, held, coaching, its volumes
 * set, then removed by the application); --kinds cycles only those named. Writes
 * bench/results/soak-<time>.json (and, with --heap-snapshots 1, the engine's heap at the start
 * and at the end of every phase beside it; compare them with `bench/soak/heap-diff.ts`). With
 * --phases N the run is cut into N parts: after each, callers pause until the engine is idle,
 * and its heap after a full GC is reported against
 * the number of calls so far (a leak grows with calls; warming up levels off).
 * SOAK_ENGINE_NODE_FLAGS adds Node/V8 flags to the engine's process (e.g. `--max-opt=0`: the
 * interpreter only, no optimized code, to tell a leak from the JIT filling its code space).
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ResourceCounts } from '../../engine/index.js';
import { TonePhone } from '../../test/support/tone-phone.js';
import { RawUac } from '../../test/support/raw-uac.js';
import type { FromSoakEngine, SoakSample, ToSoakEngine } from './protocol.js';
import { memoryTrend } from './memory-trend.js';

interface Options {
  seconds: number;
  concurrency: number;
  intervalSeconds: number;
  /** Runs cut into this many parts; after each, callers pause and the idle engine is weighed. */
  phases: number;
  /** Heap snapshots at the start and at the end of every phase. */
  heapSnapshots: boolean;
  /** The kinds of call cycled (default all), to find which one a growth comes with. */
  kinds: Kind[];
}

/** RSS is averaged over this many parts of the run (memory-trend.ts). */
const TREND_PARTS = 5;
const KINDS = [
  'normal',
  'noack',
  'vanished',
  'refused',
  'played',
  'recorded',
  'transferred',
  'moderated'
] as const;
type Kind = (typeof KINDS)[number];

function parseKinds(text: string | undefined): Kind[] {
  const kinds = (text ?? '').split(',').filter((k) => k.length > 0);
  const unknown = kinds.filter((k) => !(KINDS as readonly string[]).includes(k));
  if (kinds.length === 0 || unknown.length > 0)
    throw new Error(`--kinds needs a comma-separated list of ${KINDS.join(', ')}`);
  return kinds as Kind[];
}

function parseOptions(argv: string[]): Options {
  const options: Options = {
    seconds: 600,
    concurrency: 6,
    intervalSeconds: 10,
    phases: 1,
    heapSnapshots: false,
    kinds: [...KINDS]
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    if (flag === '--kinds') {
      options.kinds = parseKinds(inline ?? argv[++i]);
      continue;
    }
    const value = Number(inline ?? argv[++i]);
    if (!(value > 0)) throw new Error(`${flag} needs a positive number`);
    if (flag === '--minutes') options.seconds = value * 60;
    else if (flag === '--seconds') options.seconds = value;
    else if (flag === '--concurrency') options.concurrency = Math.floor(value);
    else if (flag === '--interval-seconds') options.intervalSeconds = value;
    else if (flag === '--phases') options.phases = Math.floor(value);
    else if (flag === '--heap-snapshots') options.heapSnapshots = true;
    else
      throw new Error(
        `unknown option ${flag}; expected --minutes, --seconds, --concurrency, --interval-seconds, --phases, --heap-snapshots, --kinds`
      );
  }
  return options;
}

const options = parseOptions(process.argv.slice(2));
const child = fork(fileURLToPath(new URL('./soak-engine.ts', import.meta.url)), [], {
  execArgv: [
    '--expose-gc',
    '--import',
    'tsx',
    ...(process.env.SOAK_ENGINE_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [])
  ],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc']
});
let nextSampleId = 1;
const pendingSamples = new Map<number, (sample: SoakSample) => void>();
const ready = new Promise<number>((resolve, reject) => {
  child.on('message', (message: FromSoakEngine) => {
    if (message.type === 'ready') resolve(message.port);
    else if (message.type === 'sample') {
      pendingSamples.get(message.id)?.(message.sample);
      pendingSamples.delete(message.id);
    }
  });
  child.once('exit', (code) => reject(new Error(`the soak engine exited early with code ${code}`)));
});

function sample(fullGc: boolean, heapSnapshotPath?: string): Promise<SoakSample> {
  const id = nextSampleId++;
  return new Promise((resolve) => {
    pendingSamples.set(id, resolve);
    child.send({ type: 'sample', id, fullGc, heapSnapshotPath } satisfies ToSoakEngine);
  });
}

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
const runName = `soak-${new Date().toISOString().replace(/[:.]/g, '-')}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const placed: Record<Kind, number> = {
  normal: 0,
  noack: 0,
  vanished: 0,
  refused: 0,
  played: 0,
  recorded: 0,
  transferred: 0,
  moderated: 0
};
const failures: string[] = [];
let callNumber = 0;

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** One call of `kind`, start to end as its caller sees it. */
async function runCall(port: number, kind: Kind): Promise<void> {
  const n = ++callNumber;
  const room = n % 4;
  placed[kind]++;
  if (kind === 'noack') {
    const uac = await new RawUac().open();
    try {
      const final = await uac.invite(port, [], 41_000, false);
      if (final.status !== 200) failures.push(`never-ACKed call got ${final.status}`);
    } catch (error) {
      failures.push(`never-ACKed call: ${(error as Error).message}`);
    } finally {
      await uac.close();
    }
    return;
  }
  const phone = await TonePhone.create({ toneHz: 300 + (n % 20) * 25, displayName: `caller ${n}` });
  try {
    const user = {
      normal: 'room',
      vanished: 'room',
      refused: 'refused',
      played: 'play',
      recorded: 'record',
      transferred: 'retrieve',
      moderated: 'moderate'
    }[kind];
    const call = phone.call(`sip:${user}${room}@127.0.0.1:${port}`);
    if (kind === 'refused') {
      const status = await call.then(
        () => 200,
        (error: { status?: number }) => error.status ?? 0
      );
      if (status !== 403) failures.push(`refused call got ${status}`);
      return;
    }
    await call;
    if (kind === 'normal') {
      await sleep(2000 + (n % 4) * 1000);
      await phone.hangUp();
    } else if (kind === 'vanished') {
      await sleep(1500);
      await phone.vanish();
    } else if (!(await until(() => phone.ended, 30_000))) {
      failures.push(`${kind} call was not hung up by the engine`);
    }
  } catch (error) {
    failures.push(`${kind} call failed: ${(error as Error).message}`);
  } finally {
    await phone.close();
  }
}

function residentMb(kb: number | undefined): string {
  return kb === undefined ? '-' : (kb / 1024).toFixed(1);
}

const COLUMNS: Array<[string, (s: SoakSample) => string]> = [
  ['rss MB', (s) => (s.rssBytes / 2 ** 20).toFixed(1)],
  ['heap MB', (s) => (s.heapUsedBytes / 2 ** 20).toFixed(2)],
  ['of it code MB', (s) => (s.codeSpaceBytes / 2 ** 20).toFixed(2)],
  ['heap held MB', (s) => (s.heapCommittedBytes / 2 ** 20).toFixed(1)],
  ['external MB', (s) => (s.externalBytes / 2 ** 20).toFixed(1)],
  ['wasm MB', (s) => residentMb(s.resident?.wasmMemoriesKb)],
  ['arenas MB', (s) => residentMb(s.resident?.threadArenasKb)],
  ['fds', (s) => String(s.resources.openDescriptors)],
  ['rooms', (s) => String(s.resources.rooms)],
  ['channels', (s) => String(s.resources.channels)],
  ['ports', (s) => String(s.resources.rtpPortPairs)],
  ['party slots', (s) => String(s.resources.partySlots)],
  ['room slots', (s) => String(s.resources.roomSlots)],
  ['timers', (s) => String(s.resources.timers)],
  ['workers', (s) => String(s.resources.workers)]
];

function line(label: string, s: SoakSample): string {
  return [label.padEnd(8), ...COLUMNS.map(([name, get]) => `${name} ${get(s)}`)].join('  ');
}

/**
 * Counters that must come back exactly, and those that must not end above their start by more
 * than a little (a descriptor opened lazily, a timer of Node's own); ending below is no leak.
 */
const EXACT: Array<keyof ResourceCounts> = [
  'rtpPortPairs',
  'partySlots',
  'roomSlots',
  'channels',
  'rooms',
  'workers'
];
const SLACK: Partial<Record<keyof ResourceCounts, number>> = { openDescriptors: 2, timers: 2 };

function differences(start: ResourceCounts, end: ResourceCounts): string[] {
  const out: string[] = [];
  for (const key of EXACT) if (end[key] !== start[key]) out.push(`${key} ${start[key]} → ${end[key]}`);
  for (const [key, slack] of Object.entries(SLACK) as Array<[keyof ResourceCounts, number]>) {
    if (end[key] - start[key] > slack) out.push(`${key} ${start[key]} → ${end[key]}`);
  }
  return out;
}

/**
 * Waits for the engine to come back to `start` (or, for the baseline, to be idle with its SIP
 * transactions' timers run out: 64·T1 = 6.4 s after the last message here).
 */
async function settle(start: ResourceCounts | undefined, ms: number): Promise<SoakSample> {
  const deadline = Date.now() + ms;
  let idleSince: number | undefined;
  for (;;) {
    const s = await sample(true);
    const idle = s.resources.channels === 0 && s.resources.rtpPortPairs === 0 && s.resources.rooms === 0;
    if (start && differences(start, s.resources).length === 0) return s;
    if (!start && idle) {
      idleSince ??= Date.now();
      if (Date.now() - idleSince > 8000) return s;
    } else idleSince = undefined;
    if (Date.now() > deadline) return s;
    await sleep(500);
  }
}

async function main(): Promise<number> {
  const port = await ready;
  console.log(
    `soak: ${options.seconds} s, ${options.concurrency} calls at a time, kinds ${options.kinds.join(', ')}; engine on 127.0.0.1:${port}`
  );
  // Warm-up: one call of each kind, so lazily loaded code and caches are in place before the baseline.
  await Promise.all(options.kinds.map((kind) => runCall(port, kind)));
  const baseline = await settle(undefined, 30_000);
  if (options.heapSnapshots) await sample(true, `${resultsDir}${runName}-start.heapsnapshot`);
  console.log(line('start', baseline));
  const samples: Array<{ atSeconds: number; sample: SoakSample }> = [{ atSeconds: 0, sample: baseline }];
  const quietPoints: Array<{
    calls: number;
    heapUsedBytes: number;
    codeSpaceBytes: number;
    rssBytes: number;
  }> = [
    {
      calls: 0,
      heapUsedBytes: baseline.heapUsedBytes,
      codeSpaceBytes: baseline.codeSpaceBytes,
      rssBytes: baseline.rssBytes
    }
  ];
  const started = Date.now();
  let kindIndex = 0;
  const inFlight = new Set<Promise<void>>();
  const reporter = setInterval(() => {
    void sample(true).then((s) => {
      const atSeconds = Math.round((Date.now() - started) / 1000);
      samples.push({ atSeconds, sample: s });
      console.log(line(`${atSeconds} s`, s));
    });
  }, options.intervalSeconds * 1000);
  let end = baseline;
  for (let phase = 1; phase <= options.phases; phase++) {
    const phaseEnd = Date.now() + (options.seconds * 1000) / options.phases;
    while (Date.now() < phaseEnd) {
      while (inFlight.size < options.concurrency) {
        const call = runCall(port, options.kinds[kindIndex++ % options.kinds.length]).finally(() =>
          inFlight.delete(call)
        );
        inFlight.add(call);
      }
      await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    // Vanished callers end by the RTP inactivity timeout, never-ACKed ones by timer H (6.4 s
    // here); then the last transactions' timers run out (64·T1) before the heap is weighed.
    end = await settle(baseline.resources, 60_000);
    if (phase < options.phases || options.heapSnapshots) {
      await sleep(8000);
      const name = phase === options.phases ? 'end' : String(phase);
      end = await sample(
        true,
        options.heapSnapshots ? `${resultsDir}${runName}-${name}.heapsnapshot` : undefined
      );
    }
    const calls = Object.values(placed).reduce((a, b) => a + b, 0);
    quietPoints.push({
      calls,
      heapUsedBytes: end.heapUsedBytes,
      codeSpaceBytes: end.codeSpaceBytes,
      rssBytes: end.rssBytes
    });
    if (phase < options.phases) console.log(`${line(`quiet ${phase}`, end)}  after ${calls} calls`);
  }
  clearInterval(reporter);
  console.log(line('end', end));
  if (options.phases > 1) {
    console.log(
      `heap after full GC at the quiet points: ${quietPoints
        .map(
          (q) =>
            `${q.calls} calls ${(q.heapUsedBytes / 2 ** 20).toFixed(2)} MB (code ${(q.codeSpaceBytes / 2 ** 20).toFixed(2)})`
        )
        .join(', ')}`
    );
  }
  const diff = differences(baseline.resources, end.resources);
  const totalCalls = Object.values(placed).reduce((a, b) => a + b, 0);
  console.log(`calls placed: ${totalCalls} (${options.kinds.map((k) => `${k} ${placed[k]}`).join(', ')})`);
  console.log(
    `engine saw: ${Object.entries(end.outcomes)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`
  );
  console.log(
    `heap after full GC: ${(baseline.heapUsedBytes / 2 ** 20).toFixed(2)} → ${(end.heapUsedBytes / 2 ** 20).toFixed(2)} MB; rss ${(baseline.rssBytes / 2 ** 20).toFixed(1)} → ${(end.rssBytes / 2 ** 20).toFixed(1)} MB; late ticks ${end.lateTicks} of ${end.ticks}`
  );
  const trend = memoryTrend(
    samples.slice(1).map((s) => s.sample),
    TREND_PARTS
  );
  const mb = (values: number[]): string => values.map((v) => v.toFixed(1)).join(', ');
  console.log(
    `rss, mean over each of ${trend.rssMb.length} parts of the run: ${mb(trend.rssMb)} MB; less the heap's held pages: ${mb(trend.rssOutsideHeapMb)} MB`
  );
  if (failures.length > 0)
    console.log(
      `caller-side failures (${failures.length}): ${[...new Set(failures)].slice(0, 10).join('; ')}`
    );
  mkdirSync(resultsDir, { recursive: true });
  const file = `${resultsDir}${runName}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      { options, placed, failures, baseline, end, samples, quietPoints, trend, differences: diff },
      null,
      2
    )
  );
  console.log(`written ${file}`);
  if (diff.length > 0) {
    console.log(`FAIL: counters did not return to their starting values: ${diff.join(', ')}`);
    return 1;
  }
  console.log('PASS: every counter returned to its starting value');
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error);
}
child.send({ type: 'stop' } satisfies ToSoakEngine);
// engine.stop() is bounded (2 s for BYE answers); an engine still running 30 s later is a failure.
const stopped = await Promise.race([
  new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
  sleep(30_000).then(() => false)
]);
if (!stopped) {
  console.log('FAIL: the engine did not stop within 30 s of being asked');
  child.kill('SIGKILL');
  code = 1;
}
process.exit(code);
