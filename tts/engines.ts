/**
 * The registry of speech engines a synthesis worker can run. A third engine (a Piper/VITS voice
 * through onnxruntime, for instance) joins by implementing `TtsEngine` and adding a factory here
 * and its name to `TtsEngineName`.
 */
import { TtsError } from './errors.js';
import { EspeakEngine } from './espeak-engine.js';
import { FliteEngine } from './flite-engine.js';
import type { TtsEngine, TtsEngineName } from './voice.js';

export interface EngineContext {
  /** A directory the engine may use for temporary files. */
  scratchDir: string;
}

const FACTORIES: Record<TtsEngineName, (context: EngineContext) => TtsEngine> = {
  flite: (context) => new FliteEngine(context.scratchDir),
  espeak: () => new EspeakEngine()
};

export const ENGINE_NAMES = Object.keys(FACTORIES) as TtsEngineName[];

export function isEngineName(name: string): name is TtsEngineName {
  return Object.hasOwn(FACTORIES, name);
}

export function createEngine(name: string, context: EngineContext): TtsEngine {
  if (!isEngineName(name)) {
    throw new TtsError('UNKNOWN_ENGINE', `no speech engine '${name}'; expected one of ${ENGINE_NAMES.join(', ')}`);
  }
  return FACTORIES[name](context);
}
