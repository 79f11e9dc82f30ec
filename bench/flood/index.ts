/**
 * `npm run bench:flood [-- --seconds 5] [--only options|tls|tcp]`: what one hostile source costs a running conference.
 * An engine (UDP and TLS) carries a conference of three tone phones; a flooder in another
 * process (flooder.ts) on 127.0.0.2 sends, in turn: OPTIONS at 5,000 a second, OPTIONS as fast
 * as it can, and TLS handshakes 64 at a time. For each it reports what was sent and answered,
 * the engine process's CPU above its quiet level, frame ticks over 5 ms late and the lateness
 * p99 and maximum, and the longest gap a phone heard. The same floods run against an engine
 * whose per-source limits are lifted (the reference in the same run): the ratio of the CPU each
 * flood costs with the limits to the cost without them shows what the limits spare.
 * The phones run in the engine's process, so their gaps also carry the flood's load on it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Engine } from '../../engine/index.js';
import type { ConnectionLimits } from '../../sip/index.js';
import { TonePhone } from '../../test/support/tone-phone.js';
import { makeTestCertificate, type TestCertificate } from '../../test/support/tls-certificate.js';
import { ToneRoomEngine } from '../../test/support/tone-room-engine.js';

interface Flood {
  name: string;
  kind: 'options' | 'tls' | 'tcp';
  /** OPTIONS a second (0: as fast as possible), or connections at once. */
  rate: number;
}

const ALL_FLOODS: Flood[] = [
  { name: 'OPTIONS, 5000/s', kind: 'options', rate: 5000 },
  { name: 'OPTIONS, flat out', kind: 'options', rate: 0 },
  { name: 'TLS handshakes, 64 at once', kind: 'tls', rate: 64 },
  { name: 'OPTIONS over 64 TCP connections', kind: 'tcp', rate: 64 }
];

/** Per-source limits lifted: the reference. */
const LIFTED: Partial<ConnectionLimits> = {
  maxMessagesPerSecondPerSource: 1e9,
  messageBurstPerSource: 1e9,
  maxConnectionsPerSecondPerSource: 1e9,
  connectionBurst: 1e9
};

interface Outcome {
  sent: number;
  answered: number;
  cpuPct: number;
  lateTicks: number;
  ticks: number;
  p99Ms: number;
  maxMs: number;
  gapMs: number;
}

const seconds = Number(argument('seconds') ?? 5);
const only = argument('only');
const FLOODS = only === undefined ? ALL_FLOODS : ALL_FLOODS.filter((f) => f.kind === only);
const flooderPath = fileURLToPath(new URL('./flooder.ts', import.meta.url));

function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

class Conference {
  private constructor(
    readonly engine: Engine,
    readonly phones: TonePhone[]
  ) {}

  static async start(
    certificate: TestCertificate,
    connections?: Partial<ConnectionLimits>
  ): Promise<Conference> {
    const rooms = await ToneRoomEngine.start({
      rtp: { minPort: 43000, maxPort: 43099 },
      sip: {
        transports: ['udp', 'tcp'],
        tls: { port: 0, cert: certificate.cert, key: certificate.key },
        connections
      },
      logLevel: 'error'
    });
    const phones = await Promise.all(
      [440, 660, 880].map((toneHz, i) => TonePhone.create({ toneHz, user: `phone${i}` }))
    );
    await rooms.join('flooded', phones);
    return new Conference(rooms.engine, phones);
  }

  port(protocol: 'udp' | 'tcp' | 'tls'): number {
    return this.engine.sipAddresses().find((a) => a.protocol === protocol)!.port;
  }

  /** Measures the engine process and the phones from when `run` has `started` until it is `done`. */
  async measure(run: Run): Promise<Outcome> {
    await run.started;
    this.phones.forEach((p) => p.clearReceived());
    this.engine.clock.resetStats();
    const startedMs = performance.now();
    const cpu = process.cpuUsage();
    const { sent, answered } = await run.done;
    const used = process.cpuUsage(cpu);
    const elapsedMs = performance.now() - startedMs;
    const clock = this.engine.clockStats();
    return {
      sent,
      answered,
      cpuPct: ((used.user + used.system) / 1000 / elapsedMs) * 100,
      lateTicks: clock.lateTicks,
      ticks: clock.ticks,
      p99Ms: clock.latenessMsP99,
      maxMs: clock.latenessMsMax,
      gapMs: Math.max(...this.phones.map((p) => p.largestGap().gapMs))
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.phones.map((p) => p.close()));
    await this.engine.stop();
  }
}

interface Run {
  started: Promise<void>;
  done: Promise<{ sent: number; answered: number }>;
}

function quietFor(ms: number): Run {
  return {
    started: Promise.resolve(),
    done: new Promise((resolve) => setTimeout(() => resolve({ sent: 0, answered: 0 }), ms))
  };
}

function flood(f: Flood, port: number): Run {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', flooderPath, f.kind, String(port), String(seconds), String(f.rate)],
    {
      stdio: ['ignore', 'pipe', 'inherit']
    }
  );
  let out = '';
  let started!: () => void;
  const run: Run = {
    started: new Promise((resolve) => (started = resolve)),
    done: new Promise((resolve, reject) =>
      child.on('exit', (code) => {
        started();
        try {
          if (code !== 0) throw new Error(`flooder exited with ${code}`);
          resolve(JSON.parse(out.slice(out.indexOf('\n') + 1).trim()) as { sent: number; answered: number });
        } catch (error) {
          reject(error as Error);
        }
      })
    )
  };
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('started\n')) started();
  });
  return run;
}

function line(label: string, o: Outcome, quietCpuPct: number): string {
  const share = o.sent === 0 ? 0 : (100 * o.answered) / o.sent;
  return (
    `  ${label.padEnd(30)} sent ${String(o.sent).padStart(7)}, answered ${String(o.answered).padStart(6)} ` +
    `(${share.toFixed(1).padStart(5)} %) | CPU +${(o.cpuPct - quietCpuPct).toFixed(0).padStart(3)} % | ` +
    `late ticks ${o.lateTicks}/${o.ticks}, p99 ${o.p99Ms.toFixed(1)} ms, max ${o.maxMs.toFixed(1)} ms | ` +
    `longest gap heard ${o.gapMs.toFixed(0)} ms`
  );
}

async function run(
  label: string,
  certificate: TestCertificate,
  connections?: Partial<ConnectionLimits>
): Promise<Map<string, number>> {
  const conference = await Conference.start(certificate, connections);
  const costs = new Map<string, number>();
  try {
    // Warm: the SIP path compiled, the engine's first seconds behind it.
    await conference.measure(flood({ name: 'warm-up', kind: 'options', rate: 500 }, conference.port('udp')));
    const quiet = await conference.measure(quietFor(seconds * 1000));
    console.log(
      `${label}: quiet conference of three: CPU ${quiet.cpuPct.toFixed(0)} %, late ticks ${quiet.lateTicks}/${quiet.ticks}`
    );
    for (const f of FLOODS) {
      const port = conference.port(f.kind === 'options' ? 'udp' : f.kind);
      const outcome = await conference.measure(flood(f, port));
      console.log(line(f.name, outcome, quiet.cpuPct));
      costs.set(f.name, Math.max(0.1, outcome.cpuPct - quiet.cpuPct));
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  } finally {
    await conference.stop();
  }
  return costs;
}

const certificate = makeTestCertificate();
try {
  const limited = await run('default per-source limits', certificate);
  const lifted = await run('per-source limits lifted (reference)', certificate, LIFTED);
  console.log('CPU a flood costs with the default limits, as a share of its cost with them lifted:');
  for (const f of FLOODS)
    console.log(`  ${f.name.padEnd(30)} ${(limited.get(f.name)! / lifted.get(f.name)!).toFixed(2)}`);
} finally {
  certificate.remove();
}
process.exit(0);
