/**
 * Turns the API's media items (text to say, a WAV file, the entry beep) into PCM at a room's rate,
 * through the prompt service (TTS worker and cache, WAV reader and resampler).
 */
import type { PromptService } from '../../tts/index.js';
import type { Media } from '../settings/media.js';
import { entryBeep } from './tones.js';
import { playRefusal } from './file-folders.js';

export class MediaResolver {
  constructor(private readonly prompts: PromptService) {}

  /** `signal`: nobody waits for the speech or file any more (the caller hung up); see PromptService. */
  toPcm(media: Media, sampleRateHz: number, signal?: AbortSignal): Promise<Int16Array> {
    switch (media.kind) {
      case 'text':
        return this.prompts.textToPcm(
          media.text,
          sampleRateHz,
          { voice: media.voice, rateWpm: media.rateWpm, pitch: media.pitch },
          signal
        );
      case 'file':
        return this.prompts.fileToPcm(media.path, sampleRateHz, signal).catch((error: unknown) => {
          throw playRefusal(error, media.path);
        });
      case 'tone':
        return Promise.resolve(entryBeep(sampleRateHz));
    }
  }

  /** Each part of one announcement, in order, made or failed on its own: one bad part spoils no other. */
  each(parts: readonly Media[], sampleRateHz: number): Promise<PromiseSettledResult<Int16Array>[]> {
    return Promise.allSettled(parts.map((part) => this.toPcm(part, sampleRateHz)));
  }
}
