/** resamplePcm: libsamplerate conversion keeps the tone, the level and the duration. */
import { describe, expect, it } from 'vitest';
import { TtsError, loadResampler, resamplePcm } from '../../tts/index.js';
import { rms, toneFrequencyHz } from '../support/tts-audio.js';

function tone(hz: number, rateHz: number, seconds: number, amplitude = 10000): Int16Array {
  const out = new Int16Array(Math.round(rateHz * seconds));
  for (let i = 0; i < out.length; i++)
    out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rateHz));
  return out;
}

describe('resamplePcm', () => {
  it('needs loadResampler() first and says so', () => {
    expect(() => resamplePcm(tone(440, 16000, 0.1), 16000, 8000)).toThrow(TtsError);
    try {
      resamplePcm(tone(440, 16000, 0.1), 16000, 8000);
    } catch (error) {
      expect((error as TtsError).code).toBe('ERR_RESAMPLER_NOT_LOADED');
    }
  });

  const pairs: [number, number][] = [
    [16000, 8000],
    [8000, 16000],
    [22050, 8000],
    [44100, 16000],
    [48000, 8000],
    [8000, 48000]
  ];
  for (const [from, to] of pairs) {
    it(`converts a 440 Hz tone from ${from} to ${to} Hz`, async () => {
      await loadResampler();
      const out = resamplePcm(tone(440, from, 0.5), from, to);
      expect(Math.abs(out.length - 0.5 * to)).toBeLessThanOrEqual(2);
      const body = out.subarray(Math.round(to * 0.02), out.length - Math.round(to * 0.02));
      expect(toneFrequencyHz(body, to)).toBeCloseTo(440, -1);
      expect(rms(body) / (10000 / Math.SQRT2)).toBeGreaterThan(0.97);
      expect(rms(body) / (10000 / Math.SQRT2)).toBeLessThan(1.03);
    });
  }

  it('removes content above the new Nyquist frequency instead of aliasing it', async () => {
    await loadResampler();
    // 6 kHz cannot exist at 8 kHz: it must be filtered out, not folded to 2 kHz.
    const out = resamplePcm(tone(6000, 16000, 0.5), 16000, 8000);
    expect(rms(out.subarray(200, out.length - 200))).toBeLessThan(100);
  });

  it('converts more than the glue buffer (1,008,000 samples) whole, after a short conversion', async () => {
    await loadResampler();
    resamplePcm(tone(440, 22050, 0.1), 22050, 8000);
    // 60 s at 22.05 kHz: 1,323,000 samples in.
    const out = resamplePcm(tone(440, 22050, 60), 22050, 8000);
    expect(out.length).toBe(60 * 8000);
    for (const second of [1, 30, 58]) {
      const window = out.subarray(second * 8000, (second + 1) * 8000);
      expect(toneFrequencyHz(window, 8000)).toBeCloseTo(440, -1);
      expect(rms(window) / (10000 / Math.SQRT2)).toBeGreaterThan(0.97);
    }
    // The filter's tail is flushed: the last samples are the tone, not silence.
    expect(rms(out.subarray(out.length - 80))).toBeGreaterThan(0.9 * (10000 / Math.SQRT2));
  });

  it('returns the input unchanged when the rates match and rejects absurd rates', async () => {
    await loadResampler();
    const pcm = tone(440, 8000, 0.1);
    expect(resamplePcm(pcm, 8000, 8000)).toBe(pcm);
    expect(() => resamplePcm(pcm, 8000, 0)).toThrow(TtsError);
  });
});
