/**
 * Media legs move their RTP counters into the engine's metrics once a second (every 50 frames).
 * Legs set up in the same tick, as a burst of calls is, must not all do it in the same tick: the
 * flushes of a burst are spread over the second, and each leg still flushes once per 50 frames.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKernels, type DspKernels } from '../../engine/dsp/kernels.js';
import { FrameClock } from '../../engine/clock/frame-clock.js';
import { MixLoop } from '../../engine/media/mix-loop.js';
import type { MediaLeg } from '../../engine/media/media-leg.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { RtpPortPool } from '../../engine/rtp/port-pool.js';
import { pcmuLeg } from '../support/pcmu-leg.js';

const LEGS = 100;
const FLUSH_FRAMES = 50;

const offer = (port: number): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
  `m=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n`;

describe('media leg statistics flush', () => {
  const legs: MediaLeg[] = [];
  let kernels: DspKernels | undefined;
  let pool: RtpPortPool | undefined;
  let loop: MixLoop | undefined;

  afterEach(() => {
    for (const leg of legs.splice(0)) leg.close();
    loop?.close();
    pool?.close();
    kernels?.close();
  });

  it('spreads the flushes of legs set up together over the 50 frames', async () => {
    kernels = await createKernels('wasm');
    pool = new RtpPortPool({ host: '127.0.0.1', minPort: 41000, maxPort: 41999 });
    loop = new MixLoop(new FrameClock(), (error) => {
      throw error;
    });
    const metrics = new EngineMetrics();
    let flushes = 0;
    const inc = metrics.rtp.packetsIn.inc.bind(metrics.rtp.packetsIn);
    metrics.rtp.packetsIn.inc = (...args: Parameters<typeof inc>) => {
      flushes++;
      inc(...args);
    };
    for (let i = 0; i < LEGS; i++) {
      const leg = pcmuLeg({ kernels, loop, ports: await pool.allocate(), metrics });
      legs.push(leg);
      // Nobody listens at the discard port: the legs send into the void.
      leg.answer(offer(9));
    }

    const perTick: number[] = [];
    for (let tick = 0; tick < 2 * FLUSH_FRAMES; tick++) {
      const before = flushes;
      loop.tick();
      perTick.push(flushes - before);
    }
    // Every leg flushes once in each 50 frames...
    expect(perTick.slice(0, FLUSH_FRAMES).reduce((a, b) => a + b, 0)).toBe(LEGS);
    expect(perTick.slice(FLUSH_FRAMES).reduce((a, b) => a + b, 0)).toBe(LEGS);
    // ...and no tick carries more than its share (100 legs over 50 ticks: 2, not 100).
    expect(Math.max(...perTick)).toBeLessThanOrEqual(Math.ceil(LEGS / FLUSH_FRAMES));
  });
});
