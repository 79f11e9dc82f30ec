/**
 * The checks on `EngineOptions` the engine makes when it is constructed, so a wrong setting
 * fails there, once, instead of at `start()` or on every call later: an unknown key at any depth
 * (a typo would otherwise be ignored, security settings included), a list given as a string, a
 * value of the wrong kind or out of range. Options a lower layer owns (the RTP port range, TTS,
 * the cluster, registrations) go through that layer's own check, which it makes again itself.
 */
import { Resolver } from 'node:dns';
import { isIP } from 'node:net';
import {
  AUDIO_CODECS,
  DEFAULT_SESSION_TIMER,
  DEFAULT_TIMERS,
  MAX_TIMER_MS,
  checkRegistrationOptions,
  SRTP_POLICIES,
  SourceFilter,
  resolveConnectionLimits,
  resolveMessageLimits
} from '../sip/index.js';
import { ENGINE_NAMES, isEngineName } from '../tts/index.js';
import { checkClusterOptions } from './cluster/cluster-member.js';
import { checkJitterDelays } from './rtp/jitter-buffer.js';
import { DSP_MAX_PARTIES, DSP_MAX_ROOMS, slotLimit } from './dsp/kernels.js';
import { checkRtpPortRange } from './rtp/port-pool.js';
import type { EngineOptions } from './engine.js';
import { ENGINE_OPTION_KEYS } from './engine-option-keys.js';
import { InvalidArgumentError } from './errors.js';
import { checkTlsPair } from './util/tls-pair-check.js';
import { INBAND_DTMF_MODES } from './dtmf/inband-dtmf-mode.js';
import { resolveDigitRateLimit } from './dtmf/digit-rate-limit.js';
import { isWildcardAddress } from './rtp/advertised-address.js';
import { LATCHING_MODES } from './rtp/peer-latch.js';
import { checkOptionKeys, shown } from './util/option-keys.js';
import { checkLogLevel } from './observability/logger.js';

export const ROOM_SAMPLE_RATES_HZ = [8000, 16000] as const;
export const KERNEL_KINDS = ['wasm', 'js'] as const;
/** The RTP port range when `rtp.minPort`/`rtp.maxPort` are not given. */
export const DEFAULT_RTP_PORTS = { minPort: 20000, maxPort: 29999 } as const;
const SIP_TRANSPORTS = ['udp', 'tcp'] as const;

export function checkEngineOptions(options: EngineOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('EngineOptions must be an object');
  checkOptionKeys(options, ENGINE_OPTION_KEYS);
  const rate: unknown = options.roomSampleRateHz;
  if (rate !== undefined && !(ROOM_SAMPLE_RATES_HZ as readonly unknown[]).includes(rate)) {
    throw new RangeError(`EngineOptions.roomSampleRateHz must be 8000 or 16000, got ${String(rate)}`);
  }
  const kernels: unknown = options.kernels;
  if (kernels !== undefined && !(KERNEL_KINDS as readonly unknown[]).includes(kernels)) {
    throw new RangeError(`EngineOptions.kernels must be 'wasm' or 'js', got ${String(kernels)}`);
  }
  const inband: unknown = options.inbandDtmf;
  if (inband !== undefined && !(INBAND_DTMF_MODES as readonly unknown[]).includes(inband)) {
    throw new RangeError(
      `EngineOptions.inbandDtmf must be 'always', 'auto' or 'never', got ${String(inband)}`
    );
  }
  resolveDigitRateLimit(options.dtmfRateLimit, 'EngineOptions.dtmfRateLimit');
  checkJitterDelays('EngineOptions.rtp.jitter', options.rtp?.jitter);
  checkAdvertised(options);
  resolveMessageLimits(options.sip?.limits);
  resolveConnectionLimits(options.sip?.connections);
  checkSipOptions(options.sip);
  checkRtpOptions(options.rtp);
  checkFiles(options);
  checkCalls(options);
  checkAuthLockout('lockout', options.access?.auth?.lockout);
  checkAuthLockout('accountLockout', options.access?.auth?.accountLockout);
  checkTts(options.tts);
  checkLogger(options.logger);
  if (options.logLevel !== undefined) checkLogLevel('EngineOptions.logLevel', options.logLevel);
  if (options.cluster !== undefined) checkClusterOptions(options.cluster);
  const registrations: unknown = options.registrations;
  if (registrations !== undefined) {
    if (!Array.isArray(registrations))
      throw new TypeError(`EngineOptions.registrations must be an array, got ${shown(registrations)}`);
    for (const [index, registration] of registrations.entries())
      checkRegistrationOptions(registration, `EngineOptions.registrations[${index}].`);
  }
  const guard: unknown = options.overloadGuard;
  if (guard !== undefined && typeof guard !== 'boolean' && (guard === null || typeof guard !== 'object'))
    throw new TypeError(`EngineOptions.overloadGuard must be true, false or thresholds, got ${shown(guard)}`);
}

function checkSipOptions(sip: EngineOptions['sip']): void {
  for (const [index, transport] of (sip?.transports ?? []).entries())
    oneOf(`sip.transports[${index}]`, transport, SIP_TRANSPORTS);
  bindHost('sip.host', sip?.host);
  port('sip.port', sip?.port);
  const name: unknown = sip?.userAgentName;
  // It goes into every message's User-Agent or Server header as it is: CR LF would add headers.
  if (name !== undefined && !(typeof name === 'string' && /^[\x20-\x7e\x80-\uffff]{1,256}$/.test(name)))
    throw new TypeError(
      `EngineOptions.sip.userAgentName must be 1-256 characters without control characters, got ${shown(name)}`
    );
  if (sip?.tls !== undefined) {
    port('sip.tls.port', sip.tls.port);
    if (sip.tls.cert === undefined || sip.tls.key === undefined)
      throw new TypeError('EngineOptions.sip.tls needs cert and key (PEM)');
    checkTlsPair('sip.tls', sip.tls);
  }
  for (const name of ['t1Ms', 't2Ms', 't4Ms'] as const) {
    const value: unknown = sip?.timers?.[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 1 && value <= MAX_TIMER_MS))
      throw new RangeError(
        `EngineOptions.sip.timers.${name} must be a number of ms from 1 to ${MAX_TIMER_MS}, got ${shown(value)}`
      );
  }
  const t1 = sip?.timers?.t1Ms ?? DEFAULT_TIMERS.t1Ms;
  const t2 = sip?.timers?.t2Ms ?? DEFAULT_TIMERS.t2Ms;
  if (t2 < t1)
    throw new RangeError(
      `EngineOptions.sip.timers.t2Ms (${t2}) must not be below t1Ms (${t1}): retransmissions double from T1 up to T2 (RFC 3261 §17.1.2.2)`
    );
  checkSessionTimer(sip?.sessionTimer);
  const keepalive: unknown = sip?.natKeepaliveSeconds;
  if (
    keepalive !== undefined &&
    keepalive !== false &&
    !(typeof keepalive === 'number' && keepalive > 0 && Number.isFinite(keepalive))
  )
    throw new RangeError(
      `EngineOptions.sip.natKeepaliveSeconds must be a positive number of seconds or false, got ${shown(keepalive)}`
    );
  if (sip?.dnsServers !== undefined) {
    try {
      new Resolver().setServers(sip.dnsServers);
    } catch {
      throw new TypeError(
        `EngineOptions.sip.dnsServers must list IP addresses, with a port or not ('192.0.2.53', '[2001:db8::53]:5353'), got ${shown(sip.dnsServers)}`
      );
    }
  }
}

/** RFC 4028: an interval we ask for below the smallest we accept would be refused by ourselves. */
function checkSessionTimer(timer: unknown): void {
  if (timer === undefined || timer === false) return;
  if (timer === null || typeof timer !== 'object')
    throw new TypeError(
      `EngineOptions.sip.sessionTimer must be { expiresSeconds?, minSeSeconds? } or false, got ${shown(timer)}`
    );
  const {
    expiresSeconds = DEFAULT_SESSION_TIMER.expiresSeconds,
    minSeSeconds = DEFAULT_SESSION_TIMER.minSeSeconds
  } = timer as { expiresSeconds?: unknown; minSeSeconds?: unknown };
  for (const [name, value] of [
    ['expiresSeconds', expiresSeconds],
    ['minSeSeconds', minSeSeconds]
  ] as const) {
    if (!Number.isInteger(value) || (value as number) < 1)
      throw new RangeError(
        `EngineOptions.sip.sessionTimer.${name} must be a positive integer of seconds, got ${shown(value)}`
      );
  }
  if ((expiresSeconds as number) < (minSeSeconds as number))
    throw new RangeError(
      `EngineOptions.sip.sessionTimer.expiresSeconds ${String(expiresSeconds)} is below minSeSeconds ${String(minSeSeconds)} (RFC 4028 Min-SE; default 90)`
    );
}

function checkRtpOptions(rtp: EngineOptions['rtp']): void {
  bindHost('rtp.host', rtp?.host);
  if (rtp?.srtp !== undefined) oneOf('rtp.srtp', rtp.srtp, SRTP_POLICIES);
  if (rtp?.latching !== undefined) oneOf('rtp.latching', rtp.latching, LATCHING_MODES);
  inactivityMs(rtp?.inactivityTimeoutSeconds);
  // A port given as a string ('51000', from an environment variable) was reported as a range with no pair.
  for (const name of ['minPort', 'maxPort'] as const) {
    const value: unknown = rtp?.[name];
    if (value !== undefined && typeof value !== 'number')
      throw new TypeError(`EngineOptions.rtp.${name} must be a port number, got ${shown(value)}`);
  }
  checkRtpPortRange(rtp?.minPort ?? DEFAULT_RTP_PORTS.minPort, rtp?.maxPort ?? DEFAULT_RTP_PORTS.maxPort);
}

function checkTts(tts: EngineOptions['tts']): void {
  if (tts === undefined) return;
  if (tts.engine !== undefined && !isEngineName(tts.engine)) oneOf('tts.engine', tts.engine, ENGINE_NAMES);
  const workers: unknown = tts.workers;
  if (
    workers !== undefined &&
    !(Number.isInteger(workers) && (workers as number) >= 1 && (workers as number) <= 16)
  )
    throw new RangeError(
      `EngineOptions.tts.workers must be a whole number from 1 to 16, got ${shown(workers)}`
    );
  const bytes: unknown = tts.cacheBytes;
  // Checked here, not when start() makes the cache: Infinity passed this check and failed start().
  if (bytes !== undefined && !(typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0))
    throw new RangeError(`EngineOptions.tts.cacheBytes must be a non-negative number, got ${shown(bytes)}`);
  const timeout: unknown = tts.synthesisTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 1 && timeout <= MAX_TIMER_MS))
    throw new RangeError(
      `EngineOptions.tts.synthesisTimeoutMs must be a number of ms from 1 to ${MAX_TIMER_MS}, got ${shown(timeout)}`
    );
}

/** The file sandbox: a folder given as anything but a non-empty string would open or move it. */
function checkFiles(options: EngineOptions): void {
  folder('promptFolder', options.promptFolder);
  for (const [index, entry] of (options.files?.playFolders ?? []).entries())
    folder(`files.playFolders[${index}]`, entry);
  folder('files.recordFolder', options.files?.recordFolder);
}

function checkCalls(options: EngineOptions): void {
  const codecs = options.codecs;
  if (codecs !== undefined) {
    if (codecs.length === 0)
      throw new RangeError('EngineOptions.codecs must name at least one codec (PCMU, PCMA, G722, L16)');
    for (const [index, codec] of codecs.entries())
      oneOf(`codecs[${index}]`, codec, Object.keys(AUDIO_CODECS));
  }
  const filter: unknown = options.inviteFilter;
  if (filter !== undefined && typeof filter !== 'function')
    throw new TypeError(`EngineOptions.inviteFilter must be a function, got ${shown(filter)}`);
  const waitMs: unknown = options.stopByeWaitMs;
  if (waitMs !== undefined && !(typeof waitMs === 'number' && waitMs >= 0 && waitMs <= MAX_TIMER_MS))
    throw new RangeError(
      `EngineOptions.stopByeWaitMs must be a number of ms from 0 to ${MAX_TIMER_MS}, got ${shown(waitMs)}`
    );
  const ringSeconds: unknown = options.incomingCallTimeoutSeconds;
  if (
    ringSeconds !== undefined &&
    ringSeconds !== null &&
    !(typeof ringSeconds === 'number' && ringSeconds > 0 && ringSeconds * 1000 <= MAX_TIMER_MS)
  )
    throw new RangeError(
      `EngineOptions.incomingCallTimeoutSeconds must be a positive number of seconds or null, got ${shown(ringSeconds)}`
    );
  port('metricsPort', options.metricsPort);
  const metricsHost: unknown = options.metricsHost;
  if (metricsHost !== undefined && !(typeof metricsHost === 'string' && isIP(metricsHost) !== 0))
    throw new TypeError(`EngineOptions.metricsHost must be an IP address, got ${shown(metricsHost)}`);
  const metricsAllow: unknown = options.metricsAllow;
  if (metricsAllow !== undefined) {
    if (!Array.isArray(metricsAllow))
      throw new TypeError(`EngineOptions.metricsAllow must be an array, got ${shown(metricsAllow)}`);
    new SourceFilter({ allow: metricsAllow as string[] }, { allow: 'EngineOptions.metricsAllow', deny: '' });
  }
  port('webSocket.port', options.webSocket?.port);
  checkTlsPair('webSocket.tls', options.webSocket?.tls);
  const slots = options.dspSlots;
  slotLimit(slots?.maxParties, DSP_MAX_PARTIES, 'EngineOptions.dspSlots.maxParties');
  slotLimit(slots?.maxRooms, DSP_MAX_ROOMS, 'EngineOptions.dspSlots.maxRooms');
}

function checkAuthLockout(option: 'lockout' | 'accountLockout', lockout: unknown): void {
  if (lockout === undefined || lockout === false) return;
  if (lockout === null || typeof lockout !== 'object')
    throw new TypeError(
      `EngineOptions.access.auth.${option} must be { failures?, windowSeconds?, lockSeconds? } or false, got ${shown(lockout)}`
    );
  const { failures, windowSeconds, lockSeconds } = lockout as Record<string, unknown>;
  if (failures !== undefined && !(Number.isInteger(failures) && (failures as number) >= 1))
    throw new RangeError(
      `EngineOptions.access.auth.${option}.failures must be a whole number of at least 1, got ${shown(failures)}`
    );
  for (const [name, value] of [
    ['windowSeconds', windowSeconds],
    ['lockSeconds', lockSeconds]
  ] as const) {
    if (value !== undefined && !(typeof value === 'number' && value > 0 && value <= 86_400))
      throw new RangeError(
        `EngineOptions.access.auth.${option}.${name} must be a positive number of seconds up to 86400, got ${shown(value)}`
      );
  }
}

/** `rtp.inactivityTimeoutSeconds` in ms: undefined for never (null), 30 s when not given. */
export function inactivityMs(seconds: number | null | undefined): number | undefined {
  if (seconds === null) return undefined;
  if (seconds === undefined) return 30_000;
  if (typeof seconds !== 'number' || !(seconds > 0)) {
    throw new InvalidArgumentError(
      'rtp.inactivityTimeoutSeconds',
      `rtp.inactivityTimeoutSeconds must be a positive number or null, got ${String(seconds)}`
    );
  }
  return seconds * 1000;
}

function oneOf(name: string, value: unknown, allowed: readonly string[]): void {
  if (allowed.includes(value as string)) return;
  const sameLetters = allowed.find(
    (a) => typeof value === 'string' && a.toLowerCase() === value.toLowerCase()
  );
  const hint = sameLetters === undefined ? '' : ` (did you mean '${sameLetters}'?)`;
  throw new RangeError(
    `EngineOptions.${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${shown(value)}${hint}`
  );
}

function port(name: string, value: unknown): void {
  if (
    value !== undefined &&
    !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535)
  )
    throw new RangeError(`EngineOptions.${name} must be a port number from 0 to 65535, got ${shown(value)}`);
}

/** An empty host bound every interface (Node's default) and then failed every call's SDP with 503. */
function bindHost(name: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'string' && /^[^\s\0]+$/.test(value)))
    throw new TypeError(
      `EngineOptions.${name} must be an address or host name to bind (0.0.0.0 or :: for every interface), got ${shown(value)}`
    );
}

function folder(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0 || value.includes('\0')))
    throw new TypeError(
      `EngineOptions.${name} must be a folder path (a non-empty string), got ${shown(value)}`
    );
}

/** What we tell peers to send to must be an address they can send to: never a wildcard. */
function checkAdvertised(options: EngineOptions): void {
  const rtp: unknown = options.rtp?.advertisedAddress;
  if (rtp !== undefined && (typeof rtp !== 'string' || isIP(rtp) === 0 || isWildcardAddress(rtp))) {
    throw new InvalidArgumentError(
      'rtp.advertisedAddress',
      `EngineOptions.rtp.advertisedAddress must be a concrete IPv4 or IPv6 address, got '${String(rtp)}'`
    );
  }
  const sip: unknown = options.sip?.advertisedHost;
  if (sip !== undefined && (typeof sip !== 'string' || !/^[^\s]+$/.test(sip) || isWildcardAddress(sip))) {
    throw new InvalidArgumentError(
      'sip.advertisedHost',
      `EngineOptions.sip.advertisedHost must be a host name or concrete address, got '${String(sip)}'`
    );
  }
}

const LOGGER_METHODS = ['child', 'debug', 'info', 'warn', 'error'] as const;

/** An application's own logger (pino's interface): one without these failed at the first call or warning. */
function checkLogger(logger: unknown): void {
  if (logger === undefined) return;
  const methods = logger as Record<string, unknown> | null;
  const missing = LOGGER_METHODS.filter((m) => typeof methods?.[m] !== 'function');
  if (missing.length > 0)
    throw new TypeError(
      `EngineOptions.logger must be a pino-style logger (${LOGGER_METHODS.join(', ')}), got ${shown(logger)} without ${missing.join(', ')}`
    );
}
