/**
 * The per-frame path allocates nothing once optimised: a whole media path (RTP packets in with
 * SSRCs and timestamps above 2^31, jitter buffers, the frame loop, talker detection, RTP packets
 * out) measured with V8's sampling heap profiler, counting what the engine's own code allocates
 * (not the test's driver, which emits the packets). A double that V8 boxes per packet or per
 * frame costs 16 bytes a time; the two such regressions so far cost 8 and 16 bytes per
 * participant-frame. What the engine allocates once every 50 frames per leg (its metrics flush)
 * or once per frame (the tick's timing) stays well under the limit. The same with a coach's
 * whisper in every room: its frame copied to its agent's private prompt each frame.
 */
import { describe, it, expect } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { buildPipeline } from '../../bench/suites/media-path.js';
import { bytesPerCall } from '../../bench/support/heap-sampling.js';

const PARTICIPANTS = 30;
const WARM_FRAMES = 3000;
const MEASURED_FRAMES = 400;
/** Windows measured before giving up: the optimising compiler runs in the background and may be late on a busy host. */
const WINDOWS = 6;
const MAX_BYTES_PER_PARTICIPANT_FRAME = 4;
const ENGINE_CODE = `${new URL('../../engine/', import.meta.url).pathname}`;

describe('the per-frame media path', () => {
  for (const coached of [false, true])
    it(`allocates (next to) nothing per participant-frame${coached ? ', a coach whispering in every room' : ''}`, async () => {
      const kernels = new WasmKernels();
      const pipeline = buildPipeline(kernels, PARTICIPANTS, 'always', coached);
      try {
        for (let f = 0; f < WARM_FRAMES; f++) pipeline.frame();
        const measured: number[] = [];
        for (let w = 0; w < WINDOWS; w++) {
          const bytes =
            (await bytesPerCall(
              () => pipeline.frame(),
              MEASURED_FRAMES,
              (url) => url.includes(ENGINE_CODE)
            )) / PARTICIPANTS;
          measured.push(Number(bytes.toFixed(2)));
          if (bytes < MAX_BYTES_PER_PARTICIPANT_FRAME) break;
        }
        expect(
          Math.min(...measured),
          `bytes per participant-frame, by window: ${measured.join(', ')}`
        ).toBeLessThan(MAX_BYTES_PER_PARTICIPANT_FRAME);
        expect(pipeline.sent()).toBeGreaterThan(PARTICIPANTS * WARM_FRAMES * 0.9);
      } finally {
        pipeline.close();
        kernels.close();
      }
    });
});
