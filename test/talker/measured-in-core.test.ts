/**
 * In the engine the DSP core measures each frame for the talker detector (assembly/talker.ts):
 * deciding on those figures must give exactly what the detector decides measuring the same
 * decoded frames itself, on both kernel sets and both room rates.
 */
import { describe, expect, it } from 'vitest';
import { createKernels, type Codec } from '../../engine/dsp/kernels.js';
import { l16EncodeFrame } from '../../engine/dsp/reference/g711.js';
import { TalkerDetector, type TalkerTransition } from '../../engine/talker/talker-detector.js';
import { SUM_HIGH_PASSED, ZERO_CROSSINGS } from '../../engine/talker/talker-features.js';
import { concat, frames, hum, mix, speechLike, whiteNoise } from './signals.js';

interface Decisions {
  transitions: TalkerTransition[];
  levels: number[];
  floors: number[];
  spectralChecks: number;
}

describe('talker detection on the DSP core measurement', () => {
  for (const kind of ['wasm', 'js'] as const) {
    for (const rate of [8000, 16000] as const) {
      it(`${kind} kernels, ${rate / 1000} kHz room: the same transitions, levels and meyda checks as measuring in the detector`, async () => {
        const k = await createKernels(kind);
        // L16 is the party's own rate of 16 kHz: no resampling when the room is 16 kHz either.
        const codec: Codec = 'L16';
        const room = k.createRoom(rate);
        const party = k.createParty(codec);
        k.addParty(room, party);
        const signal = concat(
          new Int16Array(8000),
          speechLike({ sampleRateHz: 16000, seed: 4, words: [2, 3, 1], pauseMs: 250, levelDbfs: -22 }),
          new Int16Array(16000),
          mix(whiteNoise(16000, 1500, -35, 7), hum(16000, 1500, -30, 50)),
          speechLike({ sampleRateHz: 16000, seed: 5, words: [1, 2], pauseMs: 200, levelDbfs: -28 }),
          new Int16Array(16000)
        );
        const inCore = new TalkerDetector({ sampleRateHz: rate });
        const onItsOwn = new TalkerDetector({ sampleRateHz: rate });
        const a: Decisions = { transitions: [], levels: [], floors: [], spectralChecks: 0 };
        const b: Decisions = { transitions: [], levels: [], floors: [], spectralChecks: 0 };
        for (const frame of frames(signal, 16000)) {
          l16EncodeFrame(frame, k.inputPayload(party), frame.length);
          k.setInput(party, 2 * frame.length);
          k.processRoom(room);
          k.talkerMeasurement(party, inCore.measurement);
          a.transitions.push(inCore.pushMeasurement(k.previousDecodedInput(party), k.decodedInput(party)));
          a.levels.push(inCore.levelDbfs);
          a.floors.push(inCore.noiseFloorDbfs);
          b.transitions.push(onItsOwn.pushFrame(Int16Array.from(k.decodedInput(party))));
          b.levels.push(onItsOwn.levelDbfs);
          b.floors.push(onItsOwn.noiseFloorDbfs);
        }
        a.spectralChecks = inCore.spectralChecks;
        b.spectralChecks = onItsOwn.spectralChecks;
        expect(a).toEqual(b);
        // The signal really made it talk, stop, and look at the spectrum.
        expect(a.transitions.filter((t) => t === 'started').length).toBeGreaterThanOrEqual(2);
        expect(a.transitions.filter((t) => t === 'stopped').length).toBeGreaterThanOrEqual(2);
        expect(a.spectralChecks).toBeGreaterThan(0);
        k.close();
      });
    }
  }

  it('comes to rest in silence after speech, the same on both kernel sets: no crossings, no energy', async () => {
    const wasm = await createKernels('wasm');
    const js = await createKernels('js');
    const perKernel = [wasm, js].map((k) => {
      const room = k.createRoom(8000);
      const party = k.createParty('L16');
      k.addParty(room, party);
      const measurement = new Float64Array(4);
      const log: number[][] = [];
      const speech = speechLike({ sampleRateHz: 16000, seed: 9, words: [1], pauseMs: 0, levelDbfs: -20 });
      for (const frame of frames(concat(speech, new Int16Array(16000)), 16000)) {
        l16EncodeFrame(frame, k.inputPayload(party), frame.length);
        k.setInput(party, 2 * frame.length);
        k.processRoom(room);
        k.talkerMeasurement(party, measurement);
        log.push(Array.from(measurement));
      }
      k.close();
      return log;
    });
    expect(perKernel[0]).toEqual(perKernel[1]);
    // The last half second of silence: the filter has stopped (it used to decay into subnormal
    // numbers and cycle there, crossing zero at every sample).
    for (const m of perKernel[0].slice(-25)) {
      expect(m[ZERO_CROSSINGS]).toBe(0);
      expect(m[SUM_HIGH_PASSED]).toBe(0);
    }
  });
});
