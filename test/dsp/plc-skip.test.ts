/**
 * The cross-fade into a frame that follows a skipped one (setInput's `followsSkip`,
 * assembly/plc.ts plcSkip), in both cores: the join has no step, only the first 4 ms change, the
 * flag lasts one frame, and it adds nothing where concealment already continues the audio.
 */
import { describe, it, expect, afterAll } from 'vitest';
import {
  createKernels,
  INPUT_LOST,
  INPUT_SILENT,
  type Codec,
  type DspKernels
} from '../../engine/dsp/kernels.js';
import { ulawCompress } from '../../engine/dsp/reference/g711.js';
import { sine } from '../support/dsp-prng.js';
import { largestStep } from '../support/tone-analysis.js';

const TONE_HZ = 437;
const AMPLITUDE = 8000;

/** A step of the input: tone frame `frame` (flagged as following a skip or not), a lost frame, or silence (flagged or not). */
type Step = { frame: number; followsSkip?: boolean } | 'lost' | 'silent' | 'silent+flag';

describe.each(['wasm', 'js'] as const)('skip cross-fade in the %s core', (kind) => {
  let k: DspKernels | undefined;
  afterAll(() => k?.close());

  /** Plays the steps to one party of codec `codec` in a room at its own rate; returns its decoded input, all frames joined. */
  async function run(codec: Codec, steps: Step[]): Promise<Int16Array> {
    k ??= await createKernels(kind);
    const rate = codec === 'L16' ? 16000 : 8000;
    const n = rate / 50;
    const room = k.createRoom(rate);
    const p = k.createParty(codec);
    k.addParty(room, p);
    const out = new Int16Array(steps.length * n);
    steps.forEach((step, f) => {
      if (step === 'lost') k!.setInput(p, INPUT_LOST);
      else if (step === 'silent' || step === 'silent+flag')
        k!.setInput(p, INPUT_SILENT, step === 'silent+flag');
      else {
        const pcm = sine(n, TONE_HZ, rate, AMPLITUDE, step.frame * n);
        const b = k!.inputPayload(p);
        for (let j = 0; j < n; j++) {
          if (codec === 'L16') {
            b[2 * j] = (pcm[j] >> 8) & 0xff;
            b[2 * j + 1] = pcm[j] & 0xff;
          } else b[j] = ulawCompress(pcm[j]);
        }
        k!.setInput(p, codec === 'L16' ? 2 * n : n, step.followsSkip === true);
      }
      k!.processRoom(room);
      out.set(k!.decodedInput(p), f * n);
    });
    k.destroyRoom(room);
    k.destroyParty(p);
    return out;
  }

  const frames = (...ids: number[]): Step[] => ids.map((frame) => ({ frame }));

  it.each([
    ['L16', 320],
    ['PCMU', 160]
  ] as const)(
    'joins %s audio across a skipped frame without a step, changing only 4 ms',
    async (codec, n) => {
      const clean = await run(codec, frames(0, 1, 2, 3, 4, 5, 6, 7));
      const spliced = await run(codec, frames(0, 1, 2, 3, 4, 6, 7));
      const smoothed = await run(codec, [
        ...frames(0, 1, 2, 3, 4),
        { frame: 6, followsSkip: true },
        ...frames(7)
      ]);
      const at = 5 * n;
      const toneStep = largestStep(clean, n, clean.length);
      // The splice is there to smooth: stepping onto frame 6 directly is a click.
      expect(largestStep(spliced, at - 8, at + 8)).toBeGreaterThan(2 * toneStep);
      expect(largestStep(smoothed, at - 8, at + 8)).toBeLessThan(1.25 * toneStep);
      expect(largestStep(smoothed, n, smoothed.length)).toBeLessThan(1.25 * toneStep);
      // 4 ms cross-fade (32 samples at 8 kHz), then frame 6 as it is; frame 7 untouched.
      const fade = (32 * n) / 160;
      let changed = 0;
      for (let i = at; i < at + n; i++) if (smoothed[i] !== spliced[i]) changed = i - at + 1;
      expect(changed).toBeGreaterThan(fade / 2);
      expect(changed).toBeLessThanOrEqual(fade);
      expect(smoothed.subarray(0, at)).toEqual(spliced.subarray(0, at));
      expect(smoothed.subarray(at + n)).toEqual(spliced.subarray(at + n));
    }
  );

  it('starts the fade from the continuation of the audio before the skip', async () => {
    const smoothed = await run('L16', [...frames(0, 1, 2, 3, 4), { frame: 6, followsSkip: true }]);
    const clean = await run('L16', frames(0, 1, 2, 3, 4, 5));
    // The first joined sample is where the tone would have gone on (pitch repetition, a whole-sample period).
    expect(Math.abs(smoothed[5 * 320] - clean[5 * 320])).toBeLessThan(0.05 * AMPLITUDE);
  });

  it('adds nothing after a concealed frame, whose concealment already continues the audio', async () => {
    const resumed = await run('L16', [...frames(0, 1, 2, 3, 4), 'lost', ...frames(6, 7)]);
    const flagged = await run('L16', [
      ...frames(0, 1, 2, 3, 4),
      'lost',
      { frame: 6, followsSkip: true },
      ...frames(7)
    ]);
    expect(flagged).toEqual(resumed);
  });

  it('forgets a flag given with a silent frame', async () => {
    const plain = await run('L16', [...frames(0, 1, 2, 3, 4), 'silent', ...frames(6, 7)]);
    const flagged = await run('L16', [...frames(0, 1, 2, 3, 4), 'silent+flag', ...frames(6, 7)]);
    expect(flagged).toEqual(plain);
  });
});
