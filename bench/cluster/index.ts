/**
 * `npm run bench:cluster`: what the cluster costs. The same load, rooms of 6 callers each sending
 * 50 RTP packets a second, first with every party on one engine, then with each room spread over
 * two engines (3 + 3, one trunk leg per room). Measured: the engines' CPU per participant-frame
 * in both cases (the ratio is the cluster's overhead), the trunk's cost per room and node, Redis
 * commands per join and per second, and the delay one hop adds (a click sent by one caller and
 * timed at another, both on one engine, then on two). Writes bench/results/cluster-<date>.json.
 *
 * Flags: --rooms N (default 10), --window-s S (default 10), --clicks N (default 15).
 * The engines run as child processes on 127.0.0.21 and .22; redis-server is started privately.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { CallerPool } from './callers.js';
import type { FromBenchNode, ToBenchNode } from './node-app.js';

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '10' },
    'window-s': { type: 'string', default: '10' },
    clicks: { type: 'string', default: '15' }
  }
});
const ROOMS = Number(values.rooms);
const ROOM_SIZE = 6;
const WINDOW_S = Number(values['window-s']);
const CLICKS = Number(values.clicks);
const here = fileURLToPath(new URL('.', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class BenchNode {
  sipPort = 0;
  constructor(
    readonly host: string,
    private readonly child: ChildProcess
  ) {}

  static async start(host: string, nodeId: string, redis: string, rtpBase: number): Promise<BenchNode> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'node-app.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        BENCH_HOST: host,
        BENCH_NODE_ID: nodeId,
        BENCH_REDIS: redis,
        BENCH_RTP_BASE: String(rtpBase)
      }
    });
    const node = new BenchNode(host, child);
    node.sipPort = await new Promise<number>((resolve) => {
      child.on('message', (m: FromBenchNode) => {
        if (m.type === 'ready') resolve(m.sipPort);
      });
    });
    return node;
  }

  uri(room: string): string {
    return `sip:${room}@${this.host}:${this.sipPort}`;
  }

  cpu(): Promise<Extract<FromBenchNode, { type: 'cpu' }>> {
    return new Promise((resolve) => {
      const on = (m: FromBenchNode): void => {
        if (m.type !== 'cpu') return;
        this.child.off('message', on);
        resolve(m);
      };
      this.child.on('message', on);
      this.child.send({ type: 'cpu' } satisfies ToBenchNode);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.send({ type: 'stop' } satisfies ToBenchNode);
    });
  }
}

/** Commands Redis has run (those inside Lua scripts included), and script calls (EVALSHA/EVAL, one round trip each). */
async function redisCalls(redis: Redis): Promise<{ commands: number; scripts: number }> {
  const info = await redis.info('commandstats');
  let commands = 0;
  let scripts = 0;
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
    if (m[1] === 'info') continue; // the benchmark's own
    commands += Number(m[2]);
    if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2]);
  }
  return { commands, scripts };
}

async function waitParties(nodes: BenchNode[], expected: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const counts = await Promise.all(nodes.map((n) => n.cpu()));
    if (counts.reduce((s, c) => s + c.parties, 0) === expected) return;
    await sleep(100);
  }
  throw new Error(`parties did not reach ${expected}`);
}

interface LoadResult {
  participants: number;
  cpuUsPerParticipantFrame: number;
  cpuShareOfOneCore: number;
  trunkLegs: number;
  redisCommandsPerJoin: number;
  redisScriptCallsPerJoin: number;
  redisCommandsPerSecond: number;
  redisScriptCallsPerSecond: number;
}

async function measureLoad(
  label: string,
  nodes: BenchNode[],
  placeOn: (party: number) => BenchNode,
  split: boolean,
  redis: Redis
): Promise<LoadResult> {
  const pool = new CallerPool();
  await pool.start();
  const before = await redisCalls(redis);
  for (let room = 0; room < ROOMS; room++) {
    for (let party = 0; party < ROOM_SIZE; party++) await pool.add(placeOn(party).uri(`${label}${room}`));
  }
  const joins = ROOMS * ROOM_SIZE;
  const trunks = split ? ROOMS * 2 : 0; // a trunk leg is a party on both of its nodes
  await waitParties(nodes, joins + trunks);
  const afterJoins = await redisCalls(redis);
  await sleep(3000);
  // All on one engine: that engine alone is measured (the idle one is not part of the load).
  const measured = split ? nodes : [nodes[0]];
  const cpu0 = await Promise.all(measured.map((n) => n.cpu()));
  const redis0 = await redisCalls(redis);
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const cpu1 = await Promise.all(measured.map((n) => n.cpu()));
  const seconds = (performance.now() - t0) / 1000;
  const redis1 = await redisCalls(redis);
  const cpuUs = cpu1.reduce((s, c, i) => s + c.userUs + c.systemUs - cpu0[i].userUs - cpu0[i].systemUs, 0);
  const frames = seconds * 50;
  await pool.close();
  await waitParties(nodes, 0);
  return {
    participants: joins,
    cpuUsPerParticipantFrame: cpuUs / (joins * frames),
    cpuShareOfOneCore: cpuUs / 1e6 / seconds,
    trunkLegs: cpu1.reduce((s, c) => s + c.trunkLegs, 0),
    redisCommandsPerJoin: (afterJoins.commands - before.commands) / joins,
    redisScriptCallsPerJoin: (afterJoins.scripts - before.scripts) / joins,
    redisCommandsPerSecond: (redis1.commands - redis0.commands) / seconds,
    redisScriptCallsPerSecond: (redis1.scripts - redis0.scripts) / seconds
  };
}

async function measureClickDelay(
  room: string,
  talkerNode: BenchNode,
  listenerNode: BenchNode
): Promise<{ medianMs: number; p90Ms: number; samples: number[] }> {
  const pool = new CallerPool();
  await pool.start();
  const talker = await pool.add(talkerNode.uri(room));
  const listener = await pool.add(listenerNode.uri(room));
  talker.silent = true;
  listener.silent = true;
  await sleep(2000);
  const samples: number[] = [];
  for (let i = 0; i < CLICKS; i++) {
    const arrival = listener.nextClick();
    const sentAt = talker.click();
    const timeout = sleep(2000).then(() => -1);
    const at = await Promise.race([arrival, timeout]);
    if (at > 0) samples.push(at - sentAt);
    await sleep(300);
  }
  await pool.close();
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN,
    p90Ms: sorted[Math.floor(sorted.length * 0.9)] ?? NaN,
    samples: sorted
  };
}

const dir = await mkdtemp(join(tmpdir(), 'uasm-bench-redis-'));
const socket = join(dir, 'r.sock');
const redisServer = spawn(
  'redis-server',
  ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--dir', dir],
  { stdio: 'ignore' }
);
while (!existsSync(socket)) await sleep(25);
const redis = new Redis(socket);
const a = await BenchNode.start('127.0.0.21', 'bench-a', socket, 52000);
const b = await BenchNode.start('127.0.0.22', 'bench-b', socket, 54000);
try {
  console.log(
    `rooms of ${ROOM_SIZE}, ${ROOMS} rooms (${ROOMS * ROOM_SIZE} participants), ${WINDOW_S} s windows; 2 engines on a shared host`
  );
  const one = await measureLoad('one', [a, b], () => a, false, redis);
  const split = await measureLoad('split', [a, b], (party) => (party < ROOM_SIZE / 2 ? a : b), true, redis);
  const trunkCostUsPerRoomNodeFrame =
    ((split.cpuUsPerParticipantFrame - one.cpuUsPerParticipantFrame) * ROOMS * ROOM_SIZE) / (ROOMS * 2);
  const delayOne = await measureClickDelay('clickone', a, a);
  const delayTwo = await measureClickDelay('clicktwo', a, b);
  const result = {
    date: new Date().toISOString(),
    roomSize: ROOM_SIZE,
    rooms: ROOMS,
    windowS: WINDOW_S,
    oneEngine: one,
    twoEngines: split,
    overheadRatio: split.cpuUsPerParticipantFrame / one.cpuUsPerParticipantFrame,
    trunkCostUsPerRoomNodeFrame,
    clickDelayOneEngine: delayOne,
    clickDelayTwoEngines: delayTwo,
    addedDelayOfOneHopMs: delayTwo.medianMs - delayOne.medianMs
  };
  console.table({
    'one engine': {
      'µs CPU / participant-frame': one.cpuUsPerParticipantFrame.toFixed(2),
      'core share': one.cpuShareOfOneCore.toFixed(3),
      'trunk legs': one.trunkLegs,
      'Redis cmds (scripts) / join': `${one.redisCommandsPerJoin.toFixed(1)} (${one.redisScriptCallsPerJoin.toFixed(2)})`,
      'Redis cmds (scripts) / s': `${one.redisCommandsPerSecond.toFixed(1)} (${one.redisScriptCallsPerSecond.toFixed(1)})`
    },
    'two engines': {
      'µs CPU / participant-frame': split.cpuUsPerParticipantFrame.toFixed(2),
      'core share': split.cpuShareOfOneCore.toFixed(3),
      'trunk legs': split.trunkLegs,
      'Redis cmds (scripts) / join': `${split.redisCommandsPerJoin.toFixed(1)} (${split.redisScriptCallsPerJoin.toFixed(2)})`,
      'Redis cmds (scripts) / s': `${split.redisCommandsPerSecond.toFixed(1)} (${split.redisScriptCallsPerSecond.toFixed(1)})`
    }
  });
  console.log(
    `cluster overhead: x${result.overheadRatio.toFixed(3)} CPU per participant-frame; trunk cost ${trunkCostUsPerRoomNodeFrame.toFixed(2)} µs per room, node and frame`
  );
  console.log(
    `click delay: one engine median ${delayOne.medianMs.toFixed(1)} ms (p90 ${delayOne.p90Ms.toFixed(1)}), across two median ${delayTwo.medianMs.toFixed(1)} ms (p90 ${delayTwo.p90Ms.toFixed(1)}): one hop adds ${result.addedDelayOfOneHopMs.toFixed(1)} ms`
  );
  const out = fileURLToPath(
    new URL(`../results/cluster-${result.date.slice(0, 19).replace(/:/g, '-')}.json`, import.meta.url)
  );
  await mkdir(join(out, '..'), { recursive: true });
  await writeFile(out, JSON.stringify(result, null, 2));
  console.log(`wrote ${out}`);
} finally {
  await Promise.all([a.stop(), b.stop()]);
  redis.disconnect();
  redisServer.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
}
