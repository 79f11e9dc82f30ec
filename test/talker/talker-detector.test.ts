import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import { MIN_DBFS, TalkerDetector, type TalkerTransition } from '../../engine/talker/talker-detector.js';
import { concat, frames, hum, mix, speechLike, tone, whiteNoise } from './signals.js';

const RATES = [8000, 16000] as const;

interface Run {
  events: { at: number; transition: TalkerTransition }[];
  levels: number[];
  talking: boolean[];
}

/** Feeds a whole signal in 20 ms frames; `at` is the frame index of each transition. */
function run(detector: TalkerDetector, signal: Int16Array): Run {
  const out: Run = { events: [], levels: [], talking: [] };
  frames(signal, detector.sampleRateHz).forEach((frame, i) => {
    const transition = detector.pushFrame(frame);
    if (transition !== 'none') out.events.push({ at: i, transition });
    out.levels.push(detector.levelDbfs);
    out.talking.push(detector.talking);
  });
  return out;
}

const silence = (rate: number, ms: number) => new Int16Array((rate * ms) / 1000);

/** The espeak-ng fixture (8 kHz), and a 16 kHz version by linear interpolation. */
function realSpeech(rate: 8000 | 16000): Int16Array {
  const path = fileURLToPath(new URL('../fixtures/talker/speech8k.wav', import.meta.url));
  const wav = new wavefile.WaveFile(readFileSync(path));
  const at8k = Int16Array.from(wav.getSamples(false, Int16Array) as unknown as ArrayLike<number>);
  if (rate === 8000) return at8k;
  const up = new Int16Array(at8k.length * 2);
  for (let i = 0; i < at8k.length; i++) {
    up[2 * i] = at8k[i];
    up[2 * i + 1] = (at8k[i] + (at8k[i + 1] ?? 0)) >> 1;
  }
  return up;
}

describe.each(RATES)('TalkerDetector at %i Hz', (rate) => {
  it('starts once and stops once for words separated by short pauses (no flapping)', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    const speech = speechLike({
      sampleRateHz: rate,
      seed: 7,
      words: [2, 3, 1, 2, 2],
      pauseMs: 250,
      leadMs: 500,
      levelDbfs: -22
    });
    const speechFrames = Math.floor(speech.length / (rate / 50));
    const r = run(d, concat(speech, silence(rate, 2000)));
    expect(r.events.map((e) => e.transition)).toEqual(['started', 'stopped']);
    // Starts within 200 ms of the first syllable (frame 25), stops after the last one plus hangover.
    expect(r.events[0].at).toBeGreaterThanOrEqual(25);
    expect(r.events[0].at).toBeLessThan(35);
    expect(r.events[1].at).toBeGreaterThanOrEqual(speechFrames + 400 / 20 - 15);
    expect(r.events[1].at).toBeLessThan(speechFrames + 500 / 20);
    expect(d.talking).toBe(false);
  });

  it('flaps without hangover, which is what the hangover prevents', () => {
    const d = new TalkerDetector({ sampleRateHz: rate, hangoverMs: 0 });
    const speech = speechLike({
      sampleRateHz: rate,
      seed: 7,
      words: [2, 3, 1, 2, 2],
      pauseMs: 250,
      levelDbfs: -22
    });
    const r = run(d, concat(speech, silence(rate, 500)));
    expect(r.events.filter((e) => e.transition === 'started').length).toBeGreaterThan(1);
  });

  it('splits speech at a pause longer than the hangover', () => {
    const d = new TalkerDetector({ sampleRateHz: rate, hangoverMs: 300 });
    const a = speechLike({ sampleRateHz: rate, seed: 3, words: [3], pauseMs: 0, levelDbfs: -25 });
    const b = speechLike({ sampleRateHz: rate, seed: 4, words: [2], pauseMs: 0, levelDbfs: -25 });
    const r = run(d, concat(a, silence(rate, 1000), b, silence(rate, 1000)));
    expect(r.events.map((e) => e.transition)).toEqual(['started', 'stopped', 'started', 'stopped']);
  });

  it('detects real speech (espeak-ng fixture) as one utterance', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    const r = run(d, concat(silence(rate, 300), realSpeech(rate), silence(rate, 1500)));
    expect(r.events.map((e) => e.transition)).toEqual(['started', 'stopped']);
  });

  it('never starts on silence', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    const r = run(d, silence(rate, 3000));
    expect(r.events).toEqual([]);
    expect(d.levelDbfs).toBe(MIN_DBFS);
    expect(d.spectralChecks).toBe(0);
  });

  it.each([-40, -25, -10])('never starts on steady white noise at %i dBFS', (level) => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    const r = run(d, concat(silence(rate, 500), whiteNoise(rate, 8000, level, 11)));
    expect(r.events).toEqual([]);
    // The floor has absorbed the noise by the end (the high-pass removes little of white noise).
    expect(d.noiseFloorDbfs).toBeGreaterThan(level - 6);
  });

  it.each([50, 60])('never starts on %i Hz mains hum', (mainsHz) => {
    for (const level of [-30, -15, -6]) {
      const d = new TalkerDetector({ sampleRateHz: rate });
      const r = run(d, concat(silence(rate, 500), hum(rate, 6000, level, mainsHz)));
      expect(r.events).toEqual([]);
      expect(Math.abs(d.levelDbfs - level)).toBeLessThan(0.5);
    }
  });

  it('hears speech over steady noise once the floor has adapted', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    const noise = whiteNoise(rate, 12_000, -40, 5);
    const speech = speechLike({
      sampleRateHz: rate,
      seed: 9,
      words: [2, 2, 3],
      pauseMs: 200,
      leadMs: 6000,
      levelDbfs: -20
    });
    const r = run(d, mix(noise, concat(speech, silence(rate, 100))));
    expect(r.events.map((e) => e.transition)).toEqual(['started', 'stopped']);
    expect(r.events[0].at).toBeGreaterThanOrEqual(300);
  });

  it('hears speech over hum', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    const speech = speechLike({
      sampleRateHz: rate,
      seed: 12,
      words: [3, 2],
      pauseMs: 200,
      leadMs: 3000,
      levelDbfs: -22
    });
    const r = run(d, mix(hum(rate, 8000, -20, 50), speech));
    expect(r.events.map((e) => e.transition)).toEqual(['started', 'stopped']);
    expect(r.events[0].at).toBeGreaterThanOrEqual(150);
  });

  it('reports the RMS level of each frame in dBFS', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    for (const level of [-6, -20, -35, -50]) {
      run(d, tone(rate, 100, level, 1000));
      expect(d.levelDbfs).toBeCloseTo(level, 1);
    }
    // A full-scale square wave is 0 dBFS by this definition.
    d.pushFrame(new Int16Array(rate / 50).map((_, i) => (i % 2 ? 32767 : -32768)));
    expect(d.levelDbfs).toBeCloseTo(0, 2);
    d.pushFrame(new Int16Array(rate / 50));
    expect(d.levelDbfs).toBe(MIN_DBFS);
  });

  it('reset() returns stopped for a talker and none otherwise, and forgets the state', () => {
    const d = new TalkerDetector({ sampleRateHz: rate });
    expect(d.reset()).toBe('none');
    const speech = speechLike({
      sampleRateHz: rate,
      seed: 2,
      words: [4],
      pauseMs: 0,
      leadMs: 200,
      levelDbfs: -20
    });
    const r = run(d, speech.subarray(0, Math.round(rate * 0.7)));
    expect(r.events.map((e) => e.transition)).toEqual(['started']);
    expect(d.talking).toBe(true);
    expect(d.reset()).toBe('stopped');
    expect(d.talking).toBe(false);
    expect(d.levelDbfs).toBe(MIN_DBFS);
    expect(d.noiseFloorDbfs).toBe(MIN_DBFS);
    expect(d.reset()).toBe('none');
    // Works again after the reset.
    const again = run(d, concat(speech, silence(rate, 1000)));
    expect(again.events.map((e) => e.transition)).toEqual(['started', 'stopped']);
  });

  it('is deterministic: the same input gives the same events and levels', () => {
    const signal = concat(
      speechLike({ sampleRateHz: rate, seed: 21, words: [2, 2], pauseMs: 300, levelDbfs: -30 }),
      silence(rate, 800)
    );
    const a = run(new TalkerDetector({ sampleRateHz: rate }), signal);
    const b = run(new TalkerDetector({ sampleRateHz: rate }), signal);
    expect(a).toEqual(b);
  });
});

describe('TalkerDetector options', () => {
  it('needs startFrames consecutive candidates', () => {
    const signal = concat(
      speechLike({ sampleRateHz: 8000, seed: 5, words: [3], pauseMs: 0, leadMs: 400, levelDbfs: -20 }),
      new Int16Array(8000)
    );
    const early = run(new TalkerDetector({ sampleRateHz: 8000, startFrames: 1 }), signal).events[0].at;
    const late = run(new TalkerDetector({ sampleRateHz: 8000, startFrames: 5 }), signal).events[0].at;
    expect(late - early).toBeGreaterThanOrEqual(4);
  });

  it('respects an absolute start threshold above the speech level', () => {
    const signal = speechLike({ sampleRateHz: 8000, seed: 5, words: [3, 3], pauseMs: 200, levelDbfs: -40 });
    expect(run(new TalkerDetector({ sampleRateHz: 8000 }), signal).events.length).toBeGreaterThan(0);
    expect(
      run(new TalkerDetector({ sampleRateHz: 8000, startThresholdDbfs: -20, stopThresholdDbfs: -25 }), signal)
        .events
    ).toEqual([]);
  });

  it('rejects bad options with RangeError', () => {
    expect(() => new TalkerDetector({ sampleRateHz: 44100 as 8000 })).toThrow(RangeError);
    expect(
      () => new TalkerDetector({ sampleRateHz: 8000, startThresholdDbfs: -50, stopThresholdDbfs: -40 })
    ).toThrow(RangeError);
    expect(() => new TalkerDetector({ sampleRateHz: 8000, startFrames: 0 })).toThrow(RangeError);
    expect(() => new TalkerDetector({ sampleRateHz: 8000, hangoverMs: -1 })).toThrow(RangeError);
    expect(() => new TalkerDetector({ sampleRateHz: 8000, startThresholdDbfs: Number.NaN })).toThrow(
      RangeError
    );
  });

  it('ignores an empty frame', () => {
    const d = new TalkerDetector({ sampleRateHz: 8000 });
    expect(d.pushFrame(new Int16Array(0))).toBe('none');
    expect(d.levelDbfs).toBe(MIN_DBFS);
  });

  it('calls meyda only while deciding a start, not per frame of a talker', () => {
    const d = new TalkerDetector({ sampleRateHz: 8000 });
    const speech = speechLike({
      sampleRateHz: 8000,
      seed: 8,
      words: [3, 3, 3, 3],
      pauseMs: 200,
      levelDbfs: -20
    });
    const r = run(d, speech);
    expect(r.events[0].transition).toBe('started');
    expect(d.spectralChecks).toBeLessThanOrEqual(r.events[0].at + 1);
    expect(d.spectralChecks).toBeLessThan(r.talking.length / 10);
  });
});
