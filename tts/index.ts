/** The text-to-speech and prompt module: what `engine/` may import from `tts/`. */
export { PromptService, type PromptServiceOptions, type PromptServiceStats } from './prompt-service.js';
export { TtsError, isTtsErrorCode, type TtsErrorCode } from './errors.js';
export { loadResampler, resamplePcm } from './resampler.js';
export { FLITE_VOICES } from './flite-voices.js';
export { ENGINE_NAMES, isEngineName } from './engine-names.js';
export { openedPath } from './opened-path.js';
export {
  checkSpeech,
  PITCH_SEMITONES,
  RATE_WPM,
  TEXT_CHARS_MAX,
  type SpeechOptions,
  type CheckedSpeech
} from './speech-options.js';
export type { SpeakOptions, TtsEngine, TtsEngineName, SynthesisRequest, SynthesizedAudio } from './voice.js';
