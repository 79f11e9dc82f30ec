/**
 * Structured logging with pino: one root logger per engine, and per-call child loggers whose
 * every line carries the call id, channel id and (once it has one) room name, so one grep or
 * one log query follows a call through SIP, media and conference code.
 *
 * Level, first found: the `level` option, the `UASMEDIA_LOG_LEVEL` environment variable,
 * `silent` under vitest (`VITEST` is set), `info`.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { shown } from '../util/option-keys.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level?: string;
  /** Where lines go (anything with `write(line)`, e.g. `pino.destination(path)`); default stdout. */
  destination?: DestinationStream;
  /** `name` field of every line. Default `uasmedia`. */
  name?: string;
}

/** What a call's log lines are bound to. */
export interface CallLogBindings {
  callId: string;
  channelId: string;
  roomName?: string;
}

export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The pino level `value` names, trimmed and lower-cased; `name` is what the error calls it
 * (`EngineOptions.logLevel`, `UASMEDIA_LOG_LEVEL`). The one check of a level, made by the
 * Engine's constructor and again by `createLogger`.
 */
export function checkLogLevel(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`${name} must be one of ${LOG_LEVELS.join(', ')}, got ${shown(value)}`);
  const normalised = value.trim().toLowerCase();
  if (!LOG_LEVELS.includes(normalised)) {
    throw new RangeError(`${name} '${value}' is not a log level; expected one of ${LOG_LEVELS.join(', ')}`);
  }
  return normalised;
}

/** The level `createLogger` will use for these options and this environment. */
export function resolveLogLevel(level?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (level !== undefined) return checkLogLevel('EngineOptions.logLevel', level);
  const fromEnv = env.UASMEDIA_LOG_LEVEL;
  if (fromEnv !== undefined && fromEnv !== '') return checkLogLevel('UASMEDIA_LOG_LEVEL', fromEnv);
  return env.VITEST ? 'silent' : 'info';
}

/** The engine's root logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const config = { name: options.name ?? 'uasmedia', level: resolveLogLevel(options.level) };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A child of `base` whose every line carries `callId`, `channelId` and `roomName` (if given). */
export function callLogger(base: Logger, bindings: CallLogBindings): Logger {
  const { callId, channelId, roomName } = bindings;
  return base.child(roomName === undefined ? { callId, channelId } : { callId, channelId, roomName });
}
