/**
 * The one pitch contract (tts/speech-options.ts: semitones, -12..+12, 0 normal) holds end to end:
 * a prompt set through the engine's settings at the documented minimum, normal and maximum pitch
 * is accepted when it is set and spoken by both voices; the maximum is audibly higher than normal
 * (an octave down from a male voice's ~100 Hz is below what the F0 estimate tracks, so the
 * minimum is only checked to be speech, and different from normal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaSlot } from '../../engine/settings/media.js';
import { PITCH_SEMITONES, PromptService } from '../../tts/index.js';
import { medianF0Hz, speechFeatures } from '../support/tts-audio.js';

const TEXT = 'george has joined the conference call today';

for (const engine of ['flite', 'espeak'] as const) {
  describe(`${engine} voice at the documented pitches`, () => {
    let service: PromptService;
    beforeAll(() => {
      service = new PromptService({ defaultEngine: engine, workers: 1 });
    });
    afterAll(() => service.close());

    it('speaks at the minimum, normal and maximum pitch', async () => {
      const f0Hz: number[] = [];
      const spoken: Int16Array[] = [];
      for (const pitch of [PITCH_SEMITONES.min, PITCH_SEMITONES.normal, PITCH_SEMITONES.max]) {
        const item = new MediaSlot('onEntryMedia').textToSay(TEXT, { pitch }).item;
        if (item?.kind !== 'text') throw new Error('textToSay kept no text item');
        const pcm = await service.textToPcm(item.text, 16000, { pitch: item.pitch });
        const features = speechFeatures(pcm, 16000);
        expect(pcm.length / 16000).toBeGreaterThan(1);
        expect(features.voicedShare).toBeGreaterThan(0.4);
        f0Hz.push(medianF0Hz(pcm, 16000));
        spoken.push(pcm);
      }
      console.log(
        `${engine} median f0 at -12, 0, +12 semitones: ${f0Hz.map((f) => f.toFixed(0)).join(', ')} Hz`
      );
      expect(spoken[0]).not.toEqual(spoken[1]);
      expect(f0Hz[2]).toBeGreaterThan(f0Hz[1] * 1.25);
    });
  });
}
