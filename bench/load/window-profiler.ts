/**
 * A CPU profile of the engine's main thread over one measurement window only (not call set-up,
 * not start-up), through the in-process inspector: what `node --cpu-prof` gives, without the
 * ramp's SIP traffic and warm-up mixed in.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

export class WindowProfiler {
  private session: Session | undefined;

  async start(): Promise<void> {
    if (this.session) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    // 1 ms samples, as --cpu-prof takes by default.
    await session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await session.post('Profiler.start');
    this.session = session;
  }

  /** Stops profiling and writes the .cpuprofile to `path`. */
  async stop(path: string): Promise<void> {
    const session = this.session;
    if (!session) throw new Error('the window profiler was not started');
    this.session = undefined;
    const { profile } = await session.post('Profiler.stop');
    await session.post('Profiler.disable');
    session.disconnect();
    writeFileSync(path, JSON.stringify(profile));
  }
}
