/**
 * `npm run cluster`: a whole uasmedia cluster on this host, for trying it and as a template for a
 * real deployment. It starts a private redis-server (unix socket, no persistence), N engines
 * running the meet-me application (default one per core), each a cluster member on its own SIP
 * port, and Kamailio in front with the dispatcher spreading calls over them. Callers dial one
 * address: sip:<room>@127.0.0.1:5060. Ctrl-C stops everything.
 *
 * Environment: UASMEDIA_ENGINES (count), UASMEDIA_SIP_HOST (127.0.0.1), UASMEDIA_SIP_PORT
 * (Kamailio's port, 5060), UASMEDIA_ENGINE_BASE_PORT (first engine's port, 5070),
 * UASMEDIA_DISPATCH (`round-robin`, the default, or `room`: a room's callers on one engine).
 * With UASMEDIA_TLS_CERT and UASMEDIA_TLS_KEY, Kamailio also takes callers over TLS on
 * UASMEDIA_TLS_PORT (5061; Debian's kamailio-tls-modules), and engine N listens for TLS on the
 * first engine's port + 100 + N - 1 (it serves its join page over HTTPS with the same files).
 * With Debian's kamailio-websocket-modules, browsers reach the front too: SIP over WebSocket on
 * Kamailio's port (and over TLS on its TLS port), their media straight to their engine, from the
 * pages of the origins in UASMEDIA_FRONT_ORIGINS (comma-separated, https://app.example.com).
 * With UASMEDIA_METRICS_PORT, engine N serves /metrics on that port + N - 1. The RTP range
 * (UASMEDIA_RTP_MIN_PORT/MAX_PORT, default 20000-29999) is shared out: each engine gets a slice.
 * A process that exits on its own (an engine killed, Redis or Kamailio gone) is started again a
 * second later, as a service manager would: the other engines' calls go on meanwhile (their rooms
 * fail over, README "Failure"). One that exits five times within a minute stops the cluster.
 * Needs the Debian packages redis-server and kamailio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dispatcherArgs, originPattern } from './kamailio/dispatcher-command.js';
import { rtpPortSlices } from './rtp-port-slices.js';
import { rtpPortsFromEnv } from '../app/media-env.js';
import { InvalidArgumentError } from '../errors.js';

const host = process.env.UASMEDIA_SIP_HOST ?? '127.0.0.1';
const frontPort = Number(process.env.UASMEDIA_SIP_PORT ?? 5060);
const basePort = Number(process.env.UASMEDIA_ENGINE_BASE_PORT ?? 5070);
const engines = Number(process.env.UASMEDIA_ENGINES || availableParallelism());
let rtpPorts: ReturnType<typeof rtpPortSlices>;
try {
  if (!Number.isInteger(engines) || engines < 1)
    throw new InvalidArgumentError(
      'UASMEDIA_ENGINES',
      `UASMEDIA_ENGINES=${process.env.UASMEDIA_ENGINES} must be a whole number of engines, 1 or more`
    );
  rtpPorts = rtpPortSlices(rtpPortsFromEnv(), engines);
} catch (error) {
  console.error(`uasmedia cluster: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
// Kamailio dispatcher algorithms: 4 round-robin, 3 hash over the Request-URI user (the room).
const algorithm = process.env.UASMEDIA_DISPATCH === 'room' ? '3' : '4';
const here = fileURLToPath(new URL('.', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'uasmedia-cluster-'));
/** Each process the cluster runs, in start order (redis-server, Kamailio, the engines): its current child. */
interface Supervised {
  name: string;
  child: ChildProcess;
  exits: number[];
}
const supervised: Supervised[] = [];
const RESTART_DELAY_MS = 1000;
const RESTARTS_PER_MINUTE = 5;
/** Each engine's WebSocket (and join page) port: this one for the first, the next for the second, ... */
const wsBasePort = Number(process.env.UASMEDIA_WS_PORT ?? 8088);
/** Each engine's metrics port likewise, when one is asked for: one port would be taken by the first alone. */
const metricsBasePort = process.env.UASMEDIA_METRICS_PORT
  ? Number(process.env.UASMEDIA_METRICS_PORT)
  : undefined;
const PACKAGES: Record<string, string> = { 'redis-server': 'redis-server', kamailio: 'kamailio' };
const KAMAILIO_WEBSOCKET_MODULE = '/usr/lib/x86_64-linux-gnu/kamailio/modules/websocket.so';
// Browsers at the front too (SIP over WebSocket), when Kamailio's module for it is installed,
// from the pages of the origins listed.
const websocket = existsSync(KAMAILIO_WEBSOCKET_MODULE);
const websocketOrigins = (process.env.UASMEDIA_FRONT_ORIGINS ?? '')
  .split(',')
  .map((origin) => origin.trim())
  .filter((origin) => origin !== '');
try {
  originPattern(websocketOrigins);
} catch (error) {
  console.error(`uasmedia cluster: UASMEDIA_FRONT_ORIGINS: ${(error as Error).message}`);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
const tls =
  process.env.UASMEDIA_TLS_CERT && process.env.UASMEDIA_TLS_KEY
    ? {
        port: Number(process.env.UASMEDIA_TLS_PORT ?? 5061),
        certPath: process.env.UASMEDIA_TLS_CERT,
        keyPath: process.env.UASMEDIA_TLS_KEY
      }
    : undefined;

function start(name: string, command: string, args: string[], env: Record<string, string> = {}): void {
  const entry: Supervised = { name, child: launch(), exits: [] };
  supervised.push(entry);

  function launch(): ChildProcess {
    const child = spawn(command, args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env }
    });
    child.on('exit', (code, signal) => {
      if (stopping) return;
      const now = performance.now();
      entry.exits = [...entry.exits.filter((at) => now - at < 60_000), now];
      if (entry.exits.length >= RESTARTS_PER_MINUTE) {
        console.error(
          `${name} exited (${signal ?? code}) ${entry.exits.length} times in a minute; stopping the cluster`
        );
        void shutdown();
        return;
      }
      console.error(`${name} exited (${signal ?? code}); starting it again`);
      setTimeout(() => {
        if (!stopping) entry.child = launch();
      }, RESTART_DELAY_MS);
    });
    // A command that cannot start (not installed) is an 'error' with no 'exit': without a
    // listener it crashed this process and left the others running.
    child.on('error', (error) => {
      if (!stopping) {
        const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
        console.error(
          `${name} could not start: ${error.message}` +
            (missing ? `; is it installed (apt-get install -y ${PACKAGES[command] ?? command})?` : '')
        );
      }
      void shutdown();
    });
    return child;
  }
}

async function waitForFile(path: string, ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (!existsSync(path)) {
    if (performance.now() > until) {
      console.error(
        `${path} did not appear within ${ms} ms; is redis-server installed (apt-get install -y redis-server)?`
      );
      await shutdown();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Engines first (they hand their rooms over through Redis), then Kamailio and Redis.
  const [redis, kamailio, ...engineProcesses] = supervised.map((entry) => entry.child);
  await Promise.all(engineProcesses.map((c) => stop(c)));
  if (kamailio) await stop(kamailio);
  if (redis) await stop(redis);
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

function stop(child: ChildProcess): Promise<void> {
  // No pid: it never started (its 'error' said why), and no 'exit' will come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());

const socket = join(dir, 'redis.sock');
start('redis-server', 'redis-server', [
  '--port',
  '0',
  '--unixsocket',
  socket,
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  dir
]);
await waitForFile(socket, 10000);

const list = join(dir, 'dispatcher.list');
writeFileSync(
  list,
  Array.from({ length: engines }, (_, i) => `1 sip:${host}:${basePort + i} 0 0\n`).join('')
);
start(
  'kamailio',
  'kamailio',
  dispatcherArgs({
    host,
    port: frontPort,
    listFile: list,
    algorithm,
    runDir: dir,
    tls,
    websocket,
    websocketOrigins
  })
);

for (let i = 0; i < engines; i++) {
  start(`engine ${i + 1}`, process.execPath, ['--import', 'tsx', join(here, '..', 'main.ts')], {
    UASMEDIA_SIP_HOST: host,
    UASMEDIA_SIP_PORT: String(basePort + i),
    UASMEDIA_WS_PORT: String(wsBasePort + i),
    UASMEDIA_RTP_MIN_PORT: String(rtpPorts[i].minPort),
    UASMEDIA_RTP_MAX_PORT: String(rtpPorts[i].maxPort),
    UASMEDIA_CLUSTER_REDIS: socket,
    UASMEDIA_NODE_ID: `engine${i + 1}`,
    // Kamailio's INVITEs name their callers (X-Uasmedia-Source): the door counts each caller.
    UASMEDIA_TRUSTED_PROXIES: host,
    // A browser at the front reaches its engine over UDP through Kamailio.
    ...(websocket ? { UASMEDIA_WEBRTC_TRANSPORTS: 'ws,udp' } : {}),
    // The front has UASMEDIA_TLS_PORT; each engine a TLS port of its own.
    ...(tls ? { UASMEDIA_TLS_PORT: String(basePort + 100 + i) } : {}),
    ...(metricsBasePort !== undefined ? { UASMEDIA_METRICS_PORT: String(metricsBasePort + i) } : {}),
    UASMEDIA_LOG_LEVEL: process.env.UASMEDIA_LOG_LEVEL ?? 'warn'
  });
}

console.log(`uasmedia cluster: ${engines} engines on ${host}:${basePort}-${basePort + engines - 1} (RTP ${rtpPorts
  .map((r) => `${r.minPort}-${r.maxPort}`)
  .join(', ')}), Redis at ${socket},
Kamailio dispatching sip:<room>@${host}:${frontPort}${tls ? ` (and over TLS on port ${tls.port})` : ''} over them.
${
  websocket
    ? `Browsers (SIP over WebSocket) at ws://${host}:${frontPort}${tls ? ` and wss://${host}:${tls.port}` : ''}, from pages of ${
        websocketOrigins.length > 0
          ? websocketOrigins.join(', ')
          : 'no origin yet: list yours in UASMEDIA_FRONT_ORIGINS'
      }.`
    : 'For browsers at the front too: apt-get install -y kamailio-websocket-modules.'
}
Ctrl-C stops everything.`);
