/**
 * Talker detector cost per party-frame (one 20 ms frame of one party) at 8 and 16 kHz, on
 * silence, on running speech with pauses (so onsets and their meyda checks are included), on
 * steady white noise once absorbed by the noise floor and before it is, and the cost of one meyda spectral-flatness extract alone, the reason the
 * detector calls meyda only while deciding a start. Also reports bytes allocated per call.
 */
import Benchmark from 'benchmark';
import type { BenchReport } from '../report.js';
import { bytesPerCall } from '../support/heap-sampling.js';
import { TalkerDetector } from '../../engine/talker/talker-detector.js';
import { flatnessInputSamples, spectralFlatness } from '../../engine/talker/spectral-flatness.js';
import { concat, frames, speechLike, whiteNoise } from '../../test/talker/signals.js';

function nsPerCall(name: string, fn: () => void): number {
  const bench = new Benchmark(name, fn, { minSamples: 20, maxTime: 1.5 });
  bench.run();
  return bench.stats.mean * 1e9;
}

/** Cycles through a signal's 20 ms frames, one per call. */
function cycler(signal: Int16Array, rate: number): () => Int16Array {
  const list = frames(signal, rate);
  let i = 0;
  return () => {
    const f = list[i];
    i = i + 1 === list.length ? 0 : i + 1;
    return f;
  };
}

export async function run(report: BenchReport): Promise<void> {
  for (const rate of [8000, 16000] as const) {
    const silence = new Int16Array(rate * 2);
    const speech = concat(
      speechLike({ sampleRateHz: rate, seed: 1, words: [2, 3, 1, 2, 2, 3], pauseMs: 250, levelDbfs: -22 }),
      new Int16Array(rate),
      speechLike({ sampleRateHz: rate, seed: 2, words: [3, 1, 2], pauseMs: 200, levelDbfs: -26 }),
      new Int16Array(rate)
    );
    const noise = whiteNoise(rate, 10_000, -30, 3);
    for (const [label, signal] of [
      ['silence', silence],
      ['speech+pauses', speech],
      ['white noise -30 dBFS', noise],
      ['white noise -30 dBFS, floor reset every 2 s', noise]
    ] as const) {
      const detector = new TalkerDetector({ sampleRateHz: rate });
      const next = cycler(signal, rate);
      let pushes = 0;
      const push = (): void => {
        detector.pushFrame(next());
        pushes++;
      };
      // Noise is also measured while the floor has not absorbed it yet: that is when the
      // detector keeps asking meyda (with back-off).
      const pushResetting = (): void => {
        if (pushes % 100 === 0) detector.reset();
        push();
      };
      const step = label.includes('reset') ? pushResetting : push;
      const ns = nsPerCall(`detector ${label}`, step);
      const bytes = await bytesPerCall(step, 20_000);
      report.add({
        suite: 'talker',
        name: `detector ${rate / 1000} kHz ${label}`,
        nsPerFrame: ns,
        nsPerPartyFrame: ns,
        extra: { bytesPerFrame: bytes, meydaCallsPerFrame: detector.spectralChecks / pushes }
      });
    }

    const window = new Float32Array(flatnessInputSamples(rate));
    window.set(speech.subarray(rate, rate + window.length));
    const extract = (): void => {
      spectralFlatness(window, rate);
    };
    const ns = nsPerCall('meyda extract', extract);
    report.add({
      suite: 'talker',
      name: `meyda spectralFlatness extract alone ${rate / 1000} kHz (256-pt)`,
      nsPerFrame: ns,
      nsPerPartyFrame: ns,
      extra: { bytesPerCall: await bytesPerCall(extract, 500) }
    });
  }
}
