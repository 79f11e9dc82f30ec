/**
 * Talker detector cost per party-frame (one 20 ms frame of one party) at 8 and 16 kHz, on
 * silence, on running speech with pauses (so onsets and their meyda checks are included), on
 * steady white noise once absorbed by the noise floor and before it is, and the cost of one meyda spectral-flatness extract alone, the reason the
 * detector calls meyda only while deciding a start. Also reports bytes allocated per call.
 */
import { nsPerCall } from '../support/ns-per-call.js';
import type { BenchReport } from '../report.js';
import { bytesPerCall } from '../support/heap-sampling.js';
import { TalkerDetector } from '../../engine/talker/talker-detector.js';
import { flatnessInputSamples, spectralFlatness } from '../../engine/talker/spectral-flatness.js';
import {
  FILTER_STATE_SLOTS,
  MEASUREMENT_SLOTS,
  highPassCoefficients,
  measureFrame
} from '../../engine/talker/talker-features.js';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { concat, frames, speechLike, whiteNoise } from '../../test/talker/signals.js';

/** benchmark.js sampling for this suite's measurements. */
const SAMPLING = { minSamples: 20, maxTime: 1.5 };

/** The single-kernel exports of assembly/room.ts this suite calls. */
interface TalkerKernelExports {
  memory: WebAssembly.Memory;
  benchBufferPtr(): number;
  talkerMeasureFrame(party: number, src: number, n: number, roomRate: number): void;
  talkerMeasurePairFrame(a: number, b: number, n: number, roomRate: number): void;
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
      const ns = nsPerCall(`detector ${label}`, step, SAMPLING);
      const bytes = await bytesPerCall(step, 20_000);
      report.add({
        suite: 'talker',
        name: `detector ${rate / 1000} kHz ${label}`,
        nsPerFrame: ns,
        nsPerPartyFrame: ns,
        extra: { bytesPerFrame: bytes, meydaCallsPerFrame: detector.spectralChecks / pushes }
      });
    }

    // The engine's path: the DSP core measures the frame (assembly/talker.ts) and the detector
    // decides on the figures, reading samples only for meyda. The measurement against its
    // TypeScript reference, and the decision alone, on speech with pauses.
    const kernels = new WasmKernels();
    const room = kernels.createRoom(rate);
    const party = kernels.createParty(rate === 16000 ? 'L16' : 'PCMU');
    kernels.addParty(room, party);
    const e = kernels.exports as unknown as TalkerKernelExports;
    const scratch = e.benchBufferPtr();
    const scratchView = new Int16Array(e.memory.buffer, scratch, rate / 50);
    const speechFrames = frames(speech, rate);
    let at = 0;
    const measureInCore = (): void => {
      scratchView.set(speechFrames[at]);
      at = at + 1 === speechFrames.length ? 0 : at + 1;
      e.talkerMeasureFrame(party, scratch, rate / 50, rate);
    };
    const coefficients = highPassCoefficients(rate);
    const filter = new Float64Array(FILTER_STATE_SLOTS);
    const measurement = new Float64Array(MEASUREMENT_SLOTS);
    const measureInJs = (): void => {
      scratchView.set(speechFrames[at]);
      at = at + 1 === speechFrames.length ? 0 : at + 1;
      measureFrame(scratchView, rate / 50, coefficients, filter, measurement);
    };
    const other = kernels.createParty(rate === 16000 ? 'L16' : 'PCMU');
    kernels.addParty(room, other);
    const decodedA = kernels.decodedInput(party);
    const decodedB = kernels.decodedInput(other);
    const measurePairInCore = (): void => {
      decodedA.set(speechFrames[at]);
      decodedB.set(speechFrames[speechFrames.length - 1 - at]);
      at = at + 1 === speechFrames.length ? 0 : at + 1;
      e.talkerMeasurePairFrame(party, other, rate / 50, rate);
    };
    const wasmNs = nsPerCall('talker measurement wasm', measureInCore, SAMPLING);
    const pairNs = nsPerCall('talker measurement wasm, two parties', measurePairInCore, SAMPLING) / 2;
    const jsNs = nsPerCall('talker measurement js', measureInJs, SAMPLING);
    report.add({
      suite: 'talker',
      name: `measurement in the WASM core ${rate / 1000} kHz (filter, energy, zero crossings)`,
      nsPerFrame: wasmNs,
      nsPerPartyFrame: wasmNs,
      speedupOverJs: jsNs / wasmNs
    });
    report.add({
      suite: 'talker',
      name: `measurement in the WASM core ${rate / 1000} kHz, two parties side by side (f64x2), per party`,
      nsPerFrame: pairNs,
      nsPerPartyFrame: pairNs,
      speedupOverJs: jsNs / pairNs
    });
    report.add({
      suite: 'talker',
      name: `measurement, TypeScript reference ${rate / 1000} kHz`,
      nsPerFrame: jsNs,
      nsPerPartyFrame: jsNs
    });
    kernels.close();

    const measured = speechFrames.map((f) => {
      const m = new Float64Array(MEASUREMENT_SLOTS);
      measureFrame(f, f.length, coefficients, new Float64Array(FILTER_STATE_SLOTS), m);
      return m;
    });
    const decider = new TalkerDetector({ sampleRateHz: rate });
    let k = 0;
    let decisions = 0;
    const decide = (): void => {
      decider.measurement.set(measured[k]);
      decider.pushMeasurement(speechFrames[k === 0 ? speechFrames.length - 1 : k - 1], speechFrames[k]);
      k = k + 1 === speechFrames.length ? 0 : k + 1;
      decisions++;
    };
    const decideNs = nsPerCall('talker decision', decide, SAMPLING);
    report.add({
      suite: 'talker',
      name: `decision on the core's measurement ${rate / 1000} kHz speech+pauses (the engine's JS per frame)`,
      nsPerFrame: decideNs,
      nsPerPartyFrame: decideNs,
      extra: {
        bytesPerFrame: await bytesPerCall(decide, 20_000),
        meydaCallsPerFrame: decider.spectralChecks / decisions
      }
    });

    const window = new Float32Array(flatnessInputSamples(rate));
    window.set(speech.subarray(rate, rate + window.length));
    const extract = (): void => {
      spectralFlatness(window, rate);
    };
    const ns = nsPerCall('meyda extract', extract, SAMPLING);
    report.add({
      suite: 'talker',
      name: `meyda spectralFlatness extract alone ${rate / 1000} kHz (256-pt)`,
      nsPerFrame: ns,
      nsPerPartyFrame: ns,
      extra: { bytesPerCall: await bytesPerCall(extract, 500) }
    });
  }
}
