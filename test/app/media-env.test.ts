import { describe, expect, it } from 'vitest';
import { mediaOptionsFromEnv } from '../../engine/app/media-env.js';
import { EngineError } from '../../engine/errors.js';

describe("npm start's media settings from the environment", () => {
  it('runs 8 kHz rooms unless UASMEDIA_ROOM_SAMPLE_RATE says 16000', () => {
    expect(mediaOptionsFromEnv({})).toEqual({ roomSampleRateHz: 8000 });
    expect(mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: '' })).toEqual({ roomSampleRateHz: 8000 });
    expect(mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: '8000' })).toEqual({ roomSampleRateHz: 8000 });
    expect(mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: '16000' })).toEqual({ roomSampleRateHz: 16000 });
  });

  it('refuses anything else, naming the variable', () => {
    for (const bad of ['16k', '44100', ' 16000', '16000.0']) {
      let caught: unknown;
      try {
        mediaOptionsFromEnv({ UASMEDIA_ROOM_SAMPLE_RATE: bad });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EngineError);
      expect((caught as EngineError).code).toBe('ERR_INVALID_ARGUMENT');
      expect((caught as Error).message).toBe(`UASMEDIA_ROOM_SAMPLE_RATE=${bad} must be 8000 or 16000`);
    }
  });
});
