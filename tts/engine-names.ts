/**
 * The names of the speech engines, without loading any of them: the main thread validates names
 * here, while only synthesis workers load the engines themselves (and node:wasi with them).
 */
import type { TtsEngineName } from './voice.js';

export const ENGINE_NAMES: readonly TtsEngineName[] = ['flite', 'espeak'];

export function isEngineName(name: string): name is TtsEngineName {
  return (ENGINE_NAMES as readonly string[]).includes(name);
}
