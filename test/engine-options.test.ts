/** Engine options are checked when the Engine is constructed: the playout delays (one range, one check), the room rate, the kernels. */
import { describe, expect, it } from 'vitest';
import { Engine } from '../engine/index.js';
import { JITTER_DELAY_MS, JitterBuffer } from '../engine/rtp/jitter-buffer.js';

describe('jitter delay options', () => {
  it('are refused by the Engine constructor when out of range, not of the right type, or min above max', () => {
    const make = (jitter: object) => () => new Engine({ rtp: { jitter } });
    expect(make({ minDelayMs: -1 })).toThrow(RangeError);
    expect(make({ maxDelayMs: JITTER_DELAY_MS.max + 1 })).toThrow(
      'EngineOptions.rtp.jitter.maxDelayMs 2001 must be between 0 and 2000 ms'
    );
    expect(make({ startDelayMs: Number.NaN })).toThrow(RangeError);
    expect(make({ minDelayMs: '20' })).toThrow(TypeError);
    expect(make({ minDelayMs: 300, maxDelayMs: 100 })).toThrow('must not exceed maxDelayMs 100');
  });

  it('are accepted across the range, and a jitter buffer takes them', () => {
    expect(
      () =>
        new Engine({ rtp: { jitter: { minDelayMs: 0, maxDelayMs: JITTER_DELAY_MS.max, startDelayMs: 60 } } })
    ).not.toThrow();
    const buffer = new JitterBuffer({
      clockRateHz: 8000,
      samplesPerFrame: 160,
      minDelayMs: 0,
      maxDelayMs: 2000
    });
    expect(buffer.capacity).toBeGreaterThan(200);
    expect(() => new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160, maxDelayMs: -5 })).toThrow(
      RangeError
    );
  });
});

describe('other engine options checked by the constructor', () => {
  it('refuses a room sample rate other than 8 or 16 kHz and an unknown kernel kind', () => {
    expect(() => new Engine({ roomSampleRateHz: 44100 as 8000 })).toThrow(
      'roomSampleRateHz must be 8000 or 16000, got 44100'
    );
    expect(() => new Engine({ kernels: 'gpu' as 'js' })).toThrow(RangeError);
    expect(() => new Engine({ roomSampleRateHz: 16000, kernels: 'js' })).not.toThrow();
  });

  it('refuses a DTMF rate limit that lets no digit through', () => {
    expect(() => new Engine({ dtmfRateLimit: { digitsPerSecond: -1 } })).toThrow(
      'EngineOptions.dtmfRateLimit.digitsPerSecond must be a positive number, got -1'
    );
    expect(() => new Engine({ dtmfRateLimit: { burstDigits: 0 } })).toThrow(RangeError);
    expect(() => new Engine({ dtmfRateLimit: { digitsPerSecond: 50, burstDigits: 25 } })).not.toThrow();
  });

  it('refuses SIP message and connection limits that are not positive integers', () => {
    expect(() => new Engine({ sip: { limits: { maxBodyBytes: 0 } } })).toThrow(
      'limits.maxBodyBytes must be a positive integer, got 0'
    );
    expect(() => new Engine({ sip: { connections: { idleTimeoutMs: -1 } } })).toThrow(RangeError);
    expect(
      () =>
        new Engine({ sip: { limits: { maxLineBytes: 4096 }, connections: { maxConnectionsPerSource: 8 } } })
    ).not.toThrow();
  });

  it('refuses webSocket.allowedHosts that are not a list of host names without scheme or port', () => {
    const make = (allowedHosts: unknown) => () =>
      new Engine({ webSocket: { allowedHosts: allowedHosts as string[] } });
    expect(make('pbx.example.com')).toThrow(TypeError);
    expect(make(['https://pbx.example.com'])).toThrow(
      "webSocket.allowedHosts entries must be host names without scheme or port ('pbx.example.com', '*.example.com'), got 'https://pbx.example.com'"
    );
    for (const bad of [['pbx.example.com:8088'], [''], ['a..b'], ['*'], ['a.*.b'], [42]])
      expect(make(bad), JSON.stringify(bad)).toThrow(RangeError);
    expect(make(['pbx.example.com', '*.rooms.example.com', 'Host-1.', 'localhost'])).not.toThrow();
  });
});

describe('advertised addresses', () => {
  it('are refused by the Engine constructor when a wildcard, or for RTP not an IP address', () => {
    for (const bad of ['0.0.0.0', '::', 'media.example.com', ''])
      expect(() => new Engine({ rtp: { advertisedAddress: bad } }), bad).toThrow('rtp.advertisedAddress');
    for (const bad of ['0.0.0.0', '::', '', 'a b'])
      expect(() => new Engine({ sip: { advertisedHost: bad } }), bad).toThrow('sip.advertisedHost');
    expect(
      () =>
        new Engine({ sip: { advertisedHost: 'sip.example.com' }, rtp: { advertisedAddress: '2001:db8::7' } })
    ).not.toThrow();
  });
});
