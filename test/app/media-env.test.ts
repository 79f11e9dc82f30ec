import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mediaFoldersFromEnv, mediaOptionsFromEnv, rtpPortsFromEnv } from '../../engine/app/media-env.js';
import { EngineError } from '../../engine/errors.js';
import { killStartedMains, mainRefusing, startMain } from '../support/npm-start.js';
import { RawUac } from '../support/raw-uac.js';
import { waitFor } from '../support/wait.js';

afterEach(killStartedMains);

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

describe("npm start's play and record folders from the environment", () => {
  it('creates the folders named, and the defaults for unset or empty variables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uasmedia-folders-'));
    try {
      const named = mediaFoldersFromEnv({
        UASMEDIA_PLAY_FOLDER: join(dir, 'play'),
        UASMEDIA_RECORD_FOLDER: join(dir, 'rec')
      });
      expect(named).toEqual({ playFolder: join(dir, 'play'), recordFolder: join(dir, 'rec') });
      expect((await stat(join(dir, 'rec'))).isDirectory()).toBe(true);
      // Empty had meant the working directory itself.
      expect(mediaFoldersFromEnv({ UASMEDIA_PLAY_FOLDER: '', UASMEDIA_RECORD_FOLDER: '' })).toEqual({
        playFolder: resolve('data/prompts'),
        recordFolder: resolve('data/recordings')
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a folder it cannot create, naming the variable (it was a stack trace)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'uasmedia-folders-'));
    try {
      await writeFile(join(dir, 'file'), '');
      const folder = join(dir, 'file', 'rec');
      expect(() => mediaFoldersFromEnv({ UASMEDIA_RECORD_FOLDER: folder })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(`^UASMEDIA_RECORD_FOLDER=${folder}: ENOTDIR`)
        })
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("npm start's RTP port range (UASMEDIA_RTP_MIN_PORT, UASMEDIA_RTP_MAX_PORT)", () => {
  it("is the engine's default unless set; either alone moves its own end", () => {
    expect(rtpPortsFromEnv({})).toEqual({ minPort: 20000, maxPort: 29999 });
    expect(rtpPortsFromEnv({ UASMEDIA_RTP_MIN_PORT: '', UASMEDIA_RTP_MAX_PORT: '' })).toEqual({
      minPort: 20000,
      maxPort: 29999
    });
    expect(rtpPortsFromEnv({ UASMEDIA_RTP_MIN_PORT: '10000', UASMEDIA_RTP_MAX_PORT: '10999' })).toEqual({
      minPort: 10000,
      maxPort: 10999
    });
    expect(rtpPortsFromEnv({ UASMEDIA_RTP_MAX_PORT: '20001' })).toEqual({ minPort: 20000, maxPort: 20001 });
  });

  it('refuses a bad port or a range without an RTP/RTCP pair, naming the variables', () => {
    const messageOf = (env: Record<string, string>): string => {
      try {
        rtpPortsFromEnv(env);
      } catch (error) {
        expect((error as EngineError).code).toBe('ERR_INVALID_ARGUMENT');
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(messageOf({ UASMEDIA_RTP_MIN_PORT: 'abc' })).toBe(
      'UASMEDIA_RTP_MIN_PORT=abc must be a port number from 1 to 65535'
    );
    expect(messageOf({ UASMEDIA_RTP_MAX_PORT: '70000' })).toBe(
      'UASMEDIA_RTP_MAX_PORT=70000 must be a port number from 1 to 65535'
    );
    expect(messageOf({ UASMEDIA_RTP_MIN_PORT: '0' })).toBe(
      'UASMEDIA_RTP_MIN_PORT=0 must be a port number from 1 to 65535'
    );
    expect(messageOf({ UASMEDIA_RTP_MIN_PORT: '30001', UASMEDIA_RTP_MAX_PORT: '30001' })).toBe(
      'UASMEDIA_RTP_MIN_PORT=30001, UASMEDIA_RTP_MAX_PORT=30001: the range must hold an even port for RTP and the odd one above it for RTCP'
    );
    expect(messageOf({ UASMEDIA_RTP_MIN_PORT: '40000' })).toBe(
      'UASMEDIA_RTP_MIN_PORT=40000, UASMEDIA_RTP_MAX_PORT unset (29999): the range must hold an even port for RTP and the odd one above it for RTCP'
    );
  });

  it('gives calls media ports in the range, and stops start-up on a bad value', async () => {
    const range = { UASMEDIA_RTP_MIN_PORT: '54010', UASMEDIA_RTP_MAX_PORT: '54019' };
    const main = startMain({ ...range, UASMEDIA_SIP_HOST: '127.0.24.1' });
    // Generous: tsx compiles the entry on a machine other builds share.
    await waitFor(() => main.output().includes('Ctrl-C stops.') || main.child.exitCode !== null, 120_000);
    expect(main.output()).not.toContain('WARNING: UASMEDIA_RTP');
    const sipPort = Number(/sip:<room>@127\.0\.24\.1:(\d+)/.exec(main.output())?.[1]);
    expect(sipPort, main.output()).toBeGreaterThan(0);
    const uac = await new RawUac().open('127.0.24.30');
    try {
      uac.engineHost = '127.0.24.1';
      const final = await uac.invite(sipPort, [], 54700);
      expect(final.status).toBe(200);
      const port = Number(/m=audio (\d+)/.exec(final.bodyText)?.[1]);
      expect(port).toBeGreaterThanOrEqual(54010);
      expect(port).toBeLessThanOrEqual(54018);
      await uac.bye(final);
    } finally {
      uac.close();
    }
    expect(await main.exit(true)).toBe(0);

    const refused = await mainRefusing({ ...range, UASMEDIA_RTP_MAX_PORT: '54x' });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(
      /^uasmedia: UASMEDIA_RTP_MAX_PORT=54x must be a port number from 1 to 65535/
    );
  }, 180_000);
});
