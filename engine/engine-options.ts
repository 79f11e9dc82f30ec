/**
 * The checks on `EngineOptions` the engine makes when it is constructed, so a wrong setting
 * fails there, once, instead of failing every call later. Options a lower layer owns (ports,
 * TTS workers, cache size) are checked by that layer when `start()` creates it.
 */
import { isIP } from 'node:net';
import { resolveConnectionLimits, resolveMessageLimits } from '../sip/index.js';
import { checkJitterDelays } from './rtp/jitter-buffer.js';
import type { EngineOptions } from './engine.js';
import { INBAND_DTMF_MODES } from './dtmf/inband-dtmf-mode.js';
import { resolveDigitRateLimit } from './dtmf/digit-rate-limit.js';
import { isWildcardAddress } from './rtp/advertised-address.js';
import { InvalidArgumentError } from './errors.js';

export const ROOM_SAMPLE_RATES_HZ = [8000, 16000] as const;
export const KERNEL_KINDS = ['wasm', 'js'] as const;

export function checkEngineOptions(options: EngineOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('EngineOptions must be an object');
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
