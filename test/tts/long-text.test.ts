/**
 * Long texts keep their length. eSpeak speaks at 22.05 kHz, so everything it says is resampled;
 * past about 1,008,000 samples (45 s of speech, some 800 characters) libsamplerate-js's `simple()`
 * fell back to a streaming path that made audio only for its first 100 ms, and a 1,000-character
 * text came out as 0.1 s. Flite's 16 kHz voices (slt, awb, rms) in an 8 kHz room did the same
 * past 63 s of speech.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PromptService, TEXT_CHARS_MAX, type SpeakOptions } from '../../tts/index.js';
import { speechFeatures } from '../support/tts-audio.js';

const SENTENCES = [
  'The quick brown fox jumps over the lazy dog near the river bank.',
  'Please hold while we connect your call to the next available agent.',
  'Our offices are open from nine in the morning until five in the evening.',
  'Thank you for calling, your satisfaction is very important to us.',
  'If you know the extension of the person you are calling, dial it now.'
];

/** Whole sentences, as many as fit in `chars`. */
function sentences(chars: number): string {
  let text = '';
  for (let i = 0; ; i++) {
    const next = (text ? `${text} ` : '') + SENTENCES[i % SENTENCES.length];
    if (next.length > chars) return text;
    text = next;
  }
}

const FIRST = sentences(1000);
const WHOLE = sentences(3000);

const cases: { name: string; options: SpeakOptions; rate: number }[] = [
  { name: 'espeak (22.05 kHz) at 8 kHz', options: { engine: 'espeak' }, rate: 8000 },
  { name: 'espeak (22.05 kHz) at 16 kHz', options: { engine: 'espeak' }, rate: 16000 },
  { name: 'flite slt (16 kHz) at 8 kHz', options: { engine: 'flite', voice: 'slt' }, rate: 8000 }
];

describe('long texts', { timeout: 180_000 }, () => {
  let service: PromptService;
  beforeAll(() => {
    // Flite's 16 kHz voices take seconds for 3,000 characters on a busy host: the deadline is not what is tested here.
    service = new PromptService({ synthesisTimeoutMs: 120_000 });
  });
  afterAll(() => service.close());

  it('are long enough to matter and within what a prompt may say', () => {
    expect(FIRST.length).toBeGreaterThan(900);
    expect(WHOLE.length).toBeGreaterThan(2900);
    expect(WHOLE.length).toBeLessThanOrEqual(TEXT_CHARS_MAX);
    expect(WHOLE.startsWith(FIRST)).toBe(true);
  });

  it('flite: a long run of dots alone says nothing, and is silence rather than a failure', async () => {
    // Flite failed with "memory access out of bounds" on it; a piece with no letter or digit is skipped.
    const pcm = await service.textToPcm('.'.repeat(400), 8000);
    expect(pcm.length).toBe(0);
    expect(
      (await service.textToPcm(`Please hold. ${'.'.repeat(400)} Thank you.`, 8000)).length / 8000
    ).toBeGreaterThan(1);
  });

  for (const { name, options, rate } of cases) {
    it(`${name}: 3,000 characters last about three times as long as their first 1,000`, async () => {
      // A short prompt first: the converter state it leaves must not spoil the long ones.
      const short = await service.textToPcm('george has joined', rate, options);
      expect(short.length / rate).toBeGreaterThan(0.5);
      const first = await service.textToPcm(FIRST, rate, options);
      const whole = await service.textToPcm(WHOLE, rate, options);
      const firstS = first.length / rate;
      const wholeS = whole.length / rate;
      // Some 175 words: about a minute of speech.
      expect(firstS).toBeGreaterThan(40);
      expect(wholeS).toBeGreaterThan(2.5 * firstS);
      // Speech all the way: the last minute is as voiced as the first.
      const lastMinute = speechFeatures(whole.subarray(whole.length - 60 * rate), rate);
      const firstMinute = speechFeatures(whole.subarray(0, 60 * rate), rate);
      expect(lastMinute.voicedShare).toBeGreaterThan(0.5);
      expect(lastMinute.voicedShare).toBeGreaterThan(firstMinute.voicedShare - 0.15);
    });
  }
});
