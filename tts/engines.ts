/**
 * The registry of speech engines a synthesis worker can run. A third engine (a Piper/VITS voice
 * through onnxruntime, for instance) joins by implementing `TtsEngine` and adding a factory here,
 * its name to `TtsEngineName` and to `ENGINE_NAMES` (engine-names.ts).
 */
import { TtsError } from './errors.js';
import { EspeakEngine } from './espeak-engine.js';
import { FliteEngine } from './flite-engine.js';
import type { TtsEngine, TtsEngineName } from './voice.js';
import { ENGINE_NAMES, isEngineName } from './engine-names.js';

export { ENGINE_NAMES, isEngineName };

const FACTORIES: Record<TtsEngineName, () => TtsEngine> = {
  flite: () => new FliteEngine(),
  espeak: () => new EspeakEngine()
};

export function createEngine(name: string): TtsEngine {
  if (!isEngineName(name)) {
    throw new TtsError(
      'ERR_UNKNOWN_ENGINE',
      `no speech engine '${name}'; expected one of ${ENGINE_NAMES.join(', ')}`
    );
  }
  return FACTORIES[name]();
}
