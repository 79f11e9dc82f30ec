/**
 * The engine side of the WebRTC bench, in its own process (pinned to one core by the
 * orchestrator): every call, phone or browser, is answered and transferred into the room its
 * Request-URI names, without prompts. Samples the whole process's CPU, its main thread's (from
 * /proc: the engine's own work, apart from @roamhq/wrtc's threads), threads and memory.
 */
import { readFileSync } from 'node:fs';
import { Engine, openPeerConnections } from '../../engine/index.js';
import { answerIntoRooms } from '../support/answer-into-rooms.js';
import type { FromWebRtcEngine, ToWebRtcEngine, WebRtcEngineSample } from './protocol.js';

const engine = new Engine({
  sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
  webSocket: { host: '127.0.0.1', port: 0 },
  rtp: { minPort: 40000, maxPort: 49999 },
  logLevel: 'warn'
});
const answered = answerIntoRooms(engine, { fallbackRoom: 'bench', secondsTimeout: 60 });

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function mainThreadCpuUs(): number {
  try {
    // Fields after the command name: utime and stime are the 12th and 13th (proc(5)).
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

function threads(): number {
  try {
    return Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  } catch {
    return Number.NaN;
  }
}

function sample(): WebRtcEngineSample {
  const cpu = process.cpuUsage();
  const clock = engine.clockStats();
  return {
    cpuUs: cpu.user + cpu.system,
    mainThreadCpuUs: mainThreadCpuUs(),
    threads: threads(),
    rssBytes: process.memoryUsage.rss(),
    ticks: clock.ticks,
    lateTicks: clock.lateTicks,
    latenessMsP99: clock.latenessMsP99,
    workMsMean: clock.workMsMean,
    calls: answered.size,
    peerConnections: openPeerConnections()
  };
}

const send = (message: FromWebRtcEngine): void => void process.send?.(message);
process.on('disconnect', () => process.exit(1));
process.on('message', (message: ToWebRtcEngine) => {
  if (message.type === 'sample') send({ type: 'sample', sample: sample() });
  else if (message.type === 'resetClock') engine.clock.resetStats();
  // @roamhq/wrtc crashes a process that exits normally: stop (closing every peer connection), then exit.
  else if (message.type === 'stop') void engine.stop().then(() => process.exit(0));
});

await engine.start();
const addresses = engine.sipAddresses();
send({
  type: 'ready',
  sipPort: addresses.find((a) => a.protocol === 'udp')!.port,
  wsPort: addresses.find((a) => a.protocol === 'ws')!.port
});
