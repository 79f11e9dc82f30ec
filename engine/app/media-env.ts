/**
 * The media settings `npm start` reads from its environment: UASMEDIA_ROOM_SAMPLE_RATE, 8000
 * (default) or 16000. At 16 kHz its rooms are wideband: phones that offer G.722 and browsers are
 * heard at 16 kHz, and G.711 callers are resampled into them. UASMEDIA_PLAY_FOLDER and
 * UASMEDIA_RECORD_FOLDER (default data/prompts and data/recordings), created if missing. A bad
 * value stops start-up with a message naming the variable; an empty one counts as unset.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../engine.js';

type Env = Readonly<Record<string, string | undefined>>;

export function mediaOptionsFromEnv(env: Env = process.env): Pick<EngineOptions, 'roomSampleRateHz'> {
  const rate = env.UASMEDIA_ROOM_SAMPLE_RATE;
  if (rate === undefined || rate === '') return { roomSampleRateHz: 8000 };
  if (rate !== '8000' && rate !== '16000')
    throw new InvalidArgumentError(
      'UASMEDIA_ROOM_SAMPLE_RATE',
      `UASMEDIA_ROOM_SAMPLE_RATE=${rate} must be 8000 or 16000`
    );
  return { roomSampleRateHz: rate === '16000' ? 16000 : 8000 };
}

/** The play and record folders, created. Empty had meant the working directory itself. */
export function mediaFoldersFromEnv(env: Env = process.env): { playFolder: string; recordFolder: string } {
  return {
    playFolder: folderFrom(env, 'UASMEDIA_PLAY_FOLDER', 'data/prompts'),
    recordFolder: folderFrom(env, 'UASMEDIA_RECORD_FOLDER', 'data/recordings')
  };
}

function folderFrom(env: Env, name: string, fallback: string): string {
  const folder = resolve(env[name] || fallback);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new InvalidArgumentError(name, `${name}=${env[name]}: ${(error as Error).message}`);
  }
  return folder;
}
