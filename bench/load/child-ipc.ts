/**
 * The orchestrator's side of a load-bench child that stands in for the engine (engine-app.ts,
 * io-floor-app.ts): samples on request, clock statistics reset, a CPU profile of one measurement
 * window, stop; and the child exits with the orchestrator.
 */
import type { FrameClock } from '../../engine/clock/frame-clock.js';
import type { EngineSample, FromEngine, ToEngine } from './protocol.js';
import { WindowProfiler } from './window-profiler.js';
import { StallTracer } from './stall-tracer.js';

export interface EngineStandIn {
  /** May take several event-loop turns (engine-app.ts reads its calls a slice at a time). */
  sample(): EngineSample | Promise<EngineSample>;
  clock: FrameClock;
  resetClock(): void;
  stop(): Promise<void>;
}

export function send(message: FromEngine): void {
  process.send?.(message);
}

export function serveOrchestrator(app: EngineStandIn): void {
  // An orchestrator that dies (Ctrl-C, kill) takes its children with it.
  process.on('disconnect', () => process.exit(1));
  const profiler = new WindowProfiler();
  const tracer = new StallTracer(app.clock);
  process.on('message', (message: ToEngine) => {
    if (message.type === 'sample')
      void Promise.resolve(app.sample()).then((sample) => send({ type: 'sample', sample }));
    else if (message.type === 'resetClock') app.resetClock();
    else if (message.type === 'profileStart')
      void profiler.start().then(() => send({ type: 'profileStarted' }));
    else if (message.type === 'profileStop') {
      const { path } = message;
      void profiler.stop(path).then(() => send({ type: 'profileWritten', path }));
    } else if (message.type === 'traceStart') {
      tracer.start();
      send({ type: 'traceStarted' });
    } else if (message.type === 'traceStop') send({ type: 'traceStopped', trace: tracer.stop() });
    else if (message.type === 'stop') void app.stop().then(() => process.exit(0));
  });
}
