/**
 * What the two floors (io-floor-app.ts, dsp-floor-app.ts) share: the engine's SIP stack, frame
 * clock and RTP port pool, and the engine app's side of the IPC protocol, with samples made from
 * the floor's own packet counts.
 */
import { SipUserAgent } from '../../sip/user-agent.js';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { send, serveOrchestrator } from './child-ipc.js';

export interface FloorCounts {
  packetsIn: number;
  packetsOut: number;
  calls: number;
  rooms: number;
}

export interface FloorParts {
  ua: SipUserAgent;
  clock: FrameClock;
  /** The engine's own port pool: the same sockets (RTP and RTCP pair, IP-literal lookup) as the engine's calls. */
  portPool: RtpPortPool;
}

export function createFloorParts(): FloorParts {
  return {
    ua: new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] }),
    clock: new FrameClock({ periodMs: 20 }),
    portPool: new RtpPortPool({ host: '127.0.0.1', minPort: 40000, maxPort: 59999 })
  };
}

/** The SDP answer a floor accepts a call with: PCMU at 20 ms on its RTP port. */
export function floorAnswerSdp(origin: string, rtpPort: number): string {
  return `v=0\r\no=${origin} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${rtpPort} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`;
}

/** Answers the orchestrator, starts the UA and the clock, and says it is ready. `close` runs on stop. */
export async function runFloor(
  parts: FloorParts,
  counts: () => FloorCounts,
  close?: () => void
): Promise<void> {
  const { ua, clock, portPool } = parts;
  serveOrchestrator({
    sample: () => {
      const atMs = performance.now();
      const cpu = process.cpuUsage();
      const c = clock.stats();
      const floor = counts();
      return {
        atMs,
        cpuUserUs: cpu.user,
        cpuSystemUs: cpu.system,
        ticks: c.ticks,
        lateTicks: c.lateTicks,
        skippedTicks: c.skippedTicks,
        latenessMsP50: c.latenessMsP50,
        latenessMsP99: c.latenessMsP99,
        latenessMsMax: c.latenessMsMax,
        workMsMean: c.workMsMean,
        packetsLost: 0,
        packetsLate: 0,
        packetsDiscarded: 0,
        framesConcealed: 0,
        ...floor
      };
    },
    clock,
    resetClock: () => clock.resetStats(),
    stop: async () => {
      clock.stop();
      portPool.close();
      close?.();
      await ua.close();
    }
  });
  await ua.start();
  clock.start();
  send({ type: 'ready', port: ua.addresses()[0].port });
}
