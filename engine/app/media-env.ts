/**
 * The media settings `npm start` reads from its environment: UASMEDIA_ROOM_SAMPLE_RATE, 8000
 * (default) or 16000. At 16 kHz its rooms are wideband: phones that offer G.722 and browsers are
 * heard at 16 kHz, and G.711 callers are resampled into them. UASMEDIA_PLAY_FOLDER and
 * UASMEDIA_RECORD_FOLDER (default data/prompts and data/recordings), created if missing.
 * UASMEDIA_RTP_MIN_PORT and UASMEDIA_RTP_MAX_PORT, the UDP ports calls' RTP and RTCP use (the
 * engine's 20000-29999 by default), for a firewall that opens only those. A bad value stops
 * start-up with a message naming the variable; an empty one counts as unset.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import type { EngineOptions } from '../engine.js';
import { DEFAULT_RTP_PORTS } from '../engine-options.js';
import { checkRtpPortRange } from '../rtp/port-pool.js';

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

/** The RTP port range; either variable alone moves only its own end of the default range. */
export function rtpPortsFromEnv(env: Env = process.env): { minPort: number; maxPort: number } {
  const min = rtpPortFrom(env, 'UASMEDIA_RTP_MIN_PORT');
  const max = rtpPortFrom(env, 'UASMEDIA_RTP_MAX_PORT');
  const minPort = min ?? DEFAULT_RTP_PORTS.minPort;
  const maxPort = max ?? DEFAULT_RTP_PORTS.maxPort;
  try {
    checkRtpPortRange(minPort, maxPort);
  } catch {
    const named = (name: string, given: number | undefined, port: number): string =>
      given === undefined ? `${name} unset (${port})` : `${name}=${port}`;
    throw new InvalidArgumentError(
      min === undefined ? 'UASMEDIA_RTP_MAX_PORT' : 'UASMEDIA_RTP_MIN_PORT',
      `${named('UASMEDIA_RTP_MIN_PORT', min, minPort)}, ${named('UASMEDIA_RTP_MAX_PORT', max, maxPort)}: ` +
        'the range must hold an even port for RTP and the odd one above it for RTCP'
    );
  }
  return { minPort, maxPort };
}

/** A port 1-65535 in decimal digits, or undefined when unset or empty. */
function rtpPortFrom(env: Env, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new InvalidArgumentError(name, `${name}=${text} must be a port number from 1 to 65535`);
  return port;
}
