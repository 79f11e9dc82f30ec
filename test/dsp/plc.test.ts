import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_LOST } from '../../engine/dsp/kernels.js';
import { alawCompress as alaw } from '../../engine/dsp/reference/g711.js';
import { sine } from '../support/dsp-prng.js';
import { largestStep } from '../support/tone-analysis.js';

function rms(x: Int16Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

describe('packet-loss concealment (G.711 Appendix I style)', () => {
  let k: WasmKernels;
  beforeAll(() => {
    k = new WasmKernels();
  });
  afterAll(() => k.close());

  /** A 16 kHz room with one L16 party (lossless), fed a 200 Hz tone; returns the decoded input per frame. */
  function run(pattern: ('ok' | 'lost')[], freqHz = 200, amplitude = 8000): Int16Array[] {
    const room = k.createRoom(16000);
    const p = k.createParty('L16');
    k.addParty(room, p);
    const frames: Int16Array[] = [];
    pattern.forEach((kind, f) => {
      if (kind === 'ok') {
        const pcm = sine(320, freqHz, 16000, amplitude, f * 320);
        const b = k.inputPayload(p);
        for (let j = 0; j < 320; j++) {
          b[2 * j] = (pcm[j] >> 8) & 0xff;
          b[2 * j + 1] = pcm[j] & 0xff;
        }
        k.setInput(p, 640);
      } else {
        k.setInput(p, INPUT_LOST);
      }
      k.processRoom(room);
      frames.push(Int16Array.from(k.decodedInput(p)));
    });
    k.destroyRoom(room);
    k.destroyParty(p);
    return frames;
  }

  it('continues a periodic signal through a lost frame at full level and in phase', () => {
    const frames = run(['ok', 'ok', 'ok', 'lost']);
    const expected = sine(320, 200, 16000, 8000, 3 * 320);
    let err = 0;
    for (let i = 0; i < 160; i++) err = Math.max(err, Math.abs(frames[3][i] - expected[i]));
    // 200 Hz at 16 kHz is an exact 80-sample period: for the first 10 ms (before the fade) the
    // repetition matches within rounding.
    expect(err).toBeLessThan(100);
    expect(rms(frames[3], 0, 160)).toBeGreaterThan(0.95 * rms(expected));
  });

  it('fades out: 20 % per 10 ms after the first 10 ms, silent from 60 ms on', () => {
    const frames = run(['ok', 'ok', 'ok', 'lost', 'lost', 'lost', 'lost']);
    const lost = new Int16Array(4 * 320);
    for (let f = 0; f < 4; f++) lost.set(frames[3 + f], f * 320);
    const full = rms(frames[2]);
    const per10ms = [0, 1, 2, 3, 4, 5, 6, 7].map((b) => rms(lost, b * 160, (b + 1) * 160) / full);
    expect(per10ms[0]).toBeGreaterThan(0.95);
    for (let b = 1; b < 6; b++) expect(per10ms[b]).toBeLessThan(per10ms[b - 1]);
    expect(per10ms[2]).toBeGreaterThan(0.55);
    expect(per10ms[2]).toBeLessThan(0.8);
    expect(per10ms[6]).toBe(0);
    expect(per10ms[7]).toBe(0);
  });

  it('does not click when real audio resumes after a loss', () => {
    const frames = run(
      ['ok', 'ok', 'ok', 'lost', 'ok', 'ok', 'ok', 'lost', 'lost', 'lost', 'lost', 'ok', 'ok'],
      170
    );
    const all = new Int16Array(frames.length * 320);
    frames.forEach((f, i) => all.set(f, i * 320));
    // A 170 Hz tone of amplitude 8000 changes by at most ~535 per sample at 16 kHz; the PLC
    // pitch (a whole number of samples) is slightly off, so allow a margin, far below a click.
    const smooth = largestStep(sine(320, 170, 16000, 8000));
    expect(largestStep(all)).toBeLessThan(2 * smooth);
    // Without the cross-fade the jump back from silence at frame 11 would be ~8000.
    expect(Math.abs(all[11 * 320] - all[11 * 320 - 1])).toBeLessThan(2 * smooth);
  });

  it('conceals G.711 parties at 8 kHz too, then is silent after 60 ms', () => {
    const room = k.createRoom(8000);
    const p = k.createParty('PCMA');
    k.addParty(room, p);
    const out: Int16Array[] = [];
    for (let f = 0; f < 8; f++) {
      if (f < 3) {
        const pcm = sine(160, 250, 8000, 6000, f * 160);
        const b = k.inputPayload(p);
        for (let j = 0; j < 160; j++) b[j] = alaw(pcm[j]);
        k.setInput(p, 160);
      } else k.setInput(p, INPUT_LOST);
      k.processRoom(room);
      out.push(Int16Array.from(k.decodedInput(p)));
    }
    expect(rms(out[3])).toBeGreaterThan(0.9 * rms(out[2]));
    expect(rms(out[6])).toBe(0);
    k.destroyRoom(room);
    k.destroyParty(p);
  });
});
