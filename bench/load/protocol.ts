/** Messages between the load orchestrator and its two child processes (over the fork IPC channel). */

export interface EngineSample {
  /** The engine process's performance.now() when it began reading its counters: rates are per the interval between two samples. */
  atMs: number;
  /** process.cpuUsage() of the engine process, microseconds. */
  cpuUserUs: number;
  cpuSystemUs: number;
  ticks: number;
  lateTicks: number;
  skippedTicks: number;
  latenessMsP50: number;
  latenessMsP99: number;
  latenessMsMax: number;
  /** Mean time inside the frame clock's tick (mixing, encoding, sending), ms. */
  workMsMean: number;
  /** Summed over every active call's RTP session. */
  packetsIn: number;
  packetsOut: number;
  packetsLost: number;
  packetsLate: number;
  /** Dropped by the RTP session: malformed, wrong payload type, jitter buffer overflow… */
  packetsDiscarded: number;
  /** Frames the jitter buffers handed to the DSP core to conceal (a packet missing or late, or a stretch). */
  framesConcealed: number;
  calls: number;
  rooms: number;
}

export interface GeneratorSample {
  /** The generator's performance.now() when it read its counters. */
  atMs: number;
  calls: number;
  sent: number;
  received: number;
  failedCalls: number;
}

/** What the engine's thread did over one window (stall-tracer.ts); times in monotonic µs. */
export interface StallTrace {
  startUs: number;
  endUs: number;
  ticks: Array<{ dueUs: number; latenessMs: number }>;
  gc: Array<{ startUs: number; durationMs: number; kind: number }>;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** The process's threads that ran in the window: ms on the CPU, ms runnable but waiting. */
  threads: Array<{ tid: number; name: string; runMs: number; waitMs: number }>;
  voluntaryContextSwitches: number;
  involuntaryContextSwitches: number;
}

export type ToEngine =
  | { type: 'sample' }
  | { type: 'resetClock' }
  | { type: 'profileStart' }
  /** Stops the CPU profile and writes it (a V8 .cpuprofile) to `path`. */
  | { type: 'profileStop'; path: string }
  | { type: 'traceStart' }
  | { type: 'traceStop' }
  | { type: 'stop' };
export type FromEngine =
  | { type: 'ready'; port: number }
  | { type: 'sample'; sample: EngineSample }
  | { type: 'profileStarted' }
  | { type: 'profileWritten'; path: string }
  | { type: 'traceStarted' }
  | { type: 'traceStopped'; trace: StallTrace };
export type ToGenerator =
  | {
      type: 'grow';
      port: number;
      total: number;
      roomSizes: number[];
      roomPrefix: string;
      /** Callers per room that talk (the first ones to join); the others send digital silence. All talk when absent. */
      talkersPerRoom?: number;
    }
  | { type: 'sample' }
  | { type: 'stop' };
export type FromGenerator =
  { type: 'grown'; calls: number; failed: number } | { type: 'sample'; sample: GeneratorSample };
