/**
 * Wrong options fail where they are given. `new Engine(options)` refuses an unknown key at any
 * depth (naming its full path and the key it was probably meant to be), a list given as
 * something else, and values that would otherwise fail every call later; the channel's methods
 * refuse an unknown key in their options at the call. Before, all of these were accepted: a
 * misspelled `access.sip.allow` left the door open, and `files.playFolders: '/tmp/x'` was
 * spread into one-character folders, '/' among them, opening every file on the host to calls.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, InvalidArgumentError, State, UASCallChannel } from '../engine/index.js';
import { TonePhone } from './support/tone-phone.js';
import { makeTestCertificate } from './support/tls-certificate.js';
import { hasPeer } from './support/peers.js';
import { waitFor } from './support/wait.js';

type ErrorClass = new (...args: never[]) => Error;

/** Options as a JavaScript caller (or a variable TypeScript does not check for excess keys) gives them. */
const wrongOptions: Array<[string, unknown, ErrorClass, string]> = [
  ['null for the options', null, TypeError, 'Engine options must be an object, got null'],
  ['a string for the options', 'sip:5060', TypeError, "Engine options must be an object, got 'sip:5060'"],
  [
    'a play folder given as a string',
    { files: { playFolders: '/tmp/x' } },
    TypeError,
    "files.playFolders must be an array, got '/tmp/x'"
  ],
  [
    'an empty play folder',
    { files: { playFolders: [''] } },
    TypeError,
    'files.playFolders[0] must be a folder path'
  ],
  [
    'a record folder given as a list',
    { files: { recordFolder: ['/tmp'] } },
    TypeError,
    'files.recordFolder must be a folder path'
  ],
  [
    'a prompt folder that is not a string',
    { promptFolder: 42 },
    TypeError,
    'promptFolder must be a folder path'
  ],
  [
    'a source list given as a string',
    { access: { sip: { allow: '10.0.0.0/8' } } },
    TypeError,
    'access.sip.allow must be an array'
  ],
  ['codecs given as a string', { codecs: 'PCMU' }, TypeError, 'codecs must be an array'],
  [
    'an auth lockout that never locks',
    { access: { auth: { realm: 'r', credentials: () => undefined, lockout: { failures: 0 } } } },
    RangeError,
    'access.auth.lockout.failures must be a whole number of at least 1, got 0'
  ],
  [
    'an auth lockout of no length',
    { access: { auth: { realm: 'r', credentials: () => undefined, lockout: { lockSeconds: -1 } } } },
    RangeError,
    'access.auth.lockout.lockSeconds must be a positive number of seconds up to 86400, got -1'
  ],
  [
    'an account lockout that never locks',
    { access: { auth: { realm: 'r', credentials: () => undefined, accountLockout: { failures: 0 } } } },
    RangeError,
    'access.auth.accountLockout.failures must be a whole number of at least 1, got 0'
  ],
  [
    'an account lockout given as true',
    { access: { auth: { realm: 'r', credentials: () => undefined, accountLockout: true } } },
    TypeError,
    'access.auth.accountLockout must be { failures?, windowSeconds?, lockSeconds? } or false, got true'
  ],
  [
    'an auth lockout given as true',
    { access: { auth: { realm: 'r', credentials: () => undefined, lockout: true } } },
    TypeError,
    'access.auth.lockout must be { failures?, windowSeconds?, lockSeconds? } or false, got true'
  ],
  [
    'registrations given as one object',
    { registrations: { registrar: 'sip:r', aor: 'sip:a@r' } },
    TypeError,
    'registrations must be an array'
  ],
  [
    'a nested options object that is not an object',
    { sip: 'udp' },
    TypeError,
    "sip must be an object, got 'udp'"
  ],
  [
    'access.sip.allowed',
    { access: { sip: { allowed: ['10.0.0.1'] } } },
    InvalidArgumentError,
    'unknown option access.sip.allowed (did you mean allow?)'
  ],
  [
    'access.sip.denied',
    { access: { sip: { denied: ['10.0.0.1'] } } },
    InvalidArgumentError,
    'unknown option access.sip.denied (did you mean deny?)'
  ],
  [
    'access.rtp.alow',
    { access: { rtp: { alow: ['10.0.0.1'] } } },
    InvalidArgumentError,
    'unknown option access.rtp.alow (did you mean allow?)'
  ],
  [
    'access.auth.relm',
    { access: { auth: { relm: 'x', credentials: () => undefined } } },
    InvalidArgumentError,
    'unknown option access.auth.relm (did you mean realm?)'
  ],
  [
    'access.auth.lockout.lockMinutes',
    { access: { auth: { realm: 'x', credentials: () => undefined, lockout: { lockMinutes: 5 } } } },
    InvalidArgumentError,
    'unknown option access.auth.lockout.lockMinutes (known: failures, windowSeconds, lockSeconds)'
  ],
  [
    'stopByeWaitMS',
    { stopByeWaitMS: 5 },
    InvalidArgumentError,
    'unknown option stopByeWaitMS (did you mean stopByeWaitMs?)'
  ],
  [
    'sip.hots',
    { sip: { hots: '127.0.0.1' } },
    InvalidArgumentError,
    'unknown option sip.hots (did you mean host?)'
  ],
  [
    'callLimits.maxCall',
    { callLimits: { maxCall: 5 } },
    InvalidArgumentError,
    'unknown option callLimits.maxCall (did you mean maxCalls?)'
  ],
  [
    'sip.limits.maxMessageByte',
    { sip: { limits: { maxMessageByte: 5 } } },
    InvalidArgumentError,
    'unknown option sip.limits.maxMessageByte (did you mean maxMessageBytes?)'
  ],
  ['sip.timers.T1', { sip: { timers: { T1: 100 } } }, InvalidArgumentError, 'unknown option sip.timers.T1'],
  [
    'sip.tls.passphrase',
    { sip: { tls: { cert: 'c', key: 'k', passphrase: 'p' } } },
    InvalidArgumentError,
    'unknown option sip.tls.passphrase'
  ],
  [
    'sip.sessionTimer.expires',
    { sip: { sessionTimer: { expires: 600 } } },
    InvalidArgumentError,
    'unknown option sip.sessionTimer.expires (did you mean expiresSeconds?)'
  ],
  [
    'rtp.jiter',
    { rtp: { jiter: {} } },
    InvalidArgumentError,
    'unknown option rtp.jiter (did you mean jitter?)'
  ],
  [
    'rtp.jitter.maxDelay',
    { rtp: { jitter: { maxDelay: 100 } } },
    InvalidArgumentError,
    'unknown option rtp.jitter.maxDelay (did you mean maxDelayMs?)'
  ],
  [
    'overloadGuard.sampleMS',
    { overloadGuard: { sampleMS: 100 } },
    InvalidArgumentError,
    'unknown option overloadGuard.sampleMS (did you mean sampleMs?)'
  ],
  [
    'webSocket.allowedOrigin',
    { webSocket: { allowedOrigin: [] } },
    InvalidArgumentError,
    'unknown option webSocket.allowedOrigin (did you mean allowedOrigins?)'
  ],
  [
    'webrtc.iceServers[0].url',
    { webrtc: { iceServers: [{ url: 'stun:x' }] } },
    InvalidArgumentError,
    'unknown option webrtc.iceServers[0].url (did you mean urls?)'
  ],
  [
    'files.playFolder',
    { files: { playFolder: ['/tmp'] } },
    InvalidArgumentError,
    'unknown option files.playFolder (did you mean playFolders?)'
  ],
  [
    'tts.worker',
    { tts: { worker: 2 } },
    InvalidArgumentError,
    'unknown option tts.worker (did you mean workers?)'
  ],
  [
    'cluster.nodeID',
    { cluster: { redis: 'redis://x', nodeId: 'a', nodeID: 'a' } },
    InvalidArgumentError,
    'unknown option cluster.nodeID (did you mean nodeId?)'
  ],
  [
    'dtmfRateLimit.burst',
    { dtmfRateLimit: { burst: 3 } },
    InvalidArgumentError,
    'unknown option dtmfRateLimit.burst (did you mean burstDigits?)'
  ],
  [
    'registrations[1].registar',
    {
      registrations: [
        { registrar: 'sip:r', aor: 'sip:a@r' },
        { registar: 'sip:r', aor: 'sip:a@r' }
      ]
    },
    InvalidArgumentError,
    'unknown option registrations[1].registar (did you mean registrar?)'
  ],
  [
    'dspSlots.maxParty',
    { dspSlots: { maxParty: 4 } },
    InvalidArgumentError,
    'unknown option dspSlots.maxParty (did you mean maxParties?)'
  ],
  [
    'callLimits.callsPerSecond.rate',
    { callLimits: { callsPerSecond: { rate: 5 } } },
    InvalidArgumentError,
    'unknown option callLimits.callsPerSecond.rate (did you mean ratePerSecond?)'
  ],
  [
    'a key with nothing near it',
    { colour: 'red' },
    InvalidArgumentError,
    'unknown option colour (known: sip, webSocket'
  ],
  [
    "codecs: ['pcmu']",
    { codecs: ['pcmu'] },
    RangeError,
    "EngineOptions.codecs[0] must be one of 'PCMU', 'PCMA', 'G722', 'L16', got 'pcmu' (did you mean 'PCMU'?)"
  ],
  ['codecs: []', { codecs: [] }, RangeError, 'EngineOptions.codecs must name at least one codec'],
  [
    'dspSlots.maxParties above the core',
    { dspSlots: { maxParties: 5000 } },
    RangeError,
    'EngineOptions.dspSlots.maxParties must be a whole number from 1 to 4096, got 5000'
  ],
  [
    'dspSlots.maxRooms: 0',
    { dspSlots: { maxRooms: 0 } },
    RangeError,
    'EngineOptions.dspSlots.maxRooms must be a whole number from 1 to 2048, got 0'
  ],
  [
    "rtp.srtp: 'require'",
    { rtp: { srtp: 'require' } },
    RangeError,
    "EngineOptions.rtp.srtp must be one of 'off', 'offered', 'required', got 'require'"
  ],
  [
    "rtp.latching: 'any'",
    { rtp: { latching: 'any' } },
    RangeError,
    "EngineOptions.rtp.latching must be one of 'strict', 'first-packet', got 'any'"
  ],
  [
    'rtp.inactivityTimeoutSeconds: 0',
    { rtp: { inactivityTimeoutSeconds: 0 } },
    InvalidArgumentError,
    'rtp.inactivityTimeoutSeconds must be a positive number or null'
  ],
  [
    "inviteFilter: 'x'",
    { inviteFilter: 'x' },
    TypeError,
    "EngineOptions.inviteFilter must be a function, got 'x'"
  ],
  [
    'stopByeWaitMs: -5',
    { stopByeWaitMs: -5 },
    RangeError,
    'EngineOptions.stopByeWaitMs must be a number of ms from 0 to 2147483647, got -5'
  ],
  [
    "stopByeWaitMs: '2000'",
    { stopByeWaitMs: '2000' },
    RangeError,
    "EngineOptions.stopByeWaitMs must be a number of ms from 0 to 2147483647, got '2000'"
  ],
  [
    'incomingCallTimeoutSeconds: -1',
    { incomingCallTimeoutSeconds: -1 },
    RangeError,
    'EngineOptions.incomingCallTimeoutSeconds must be a positive number of seconds or null, got -1'
  ],
  [
    'sip.sessionTimer: true',
    { sip: { sessionTimer: true } },
    TypeError,
    'EngineOptions.sip.sessionTimer must be { expiresSeconds?, minSeSeconds? } or false, got true'
  ],
  [
    'sip.natKeepaliveSeconds: 0',
    { sip: { natKeepaliveSeconds: 0 } },
    RangeError,
    'EngineOptions.sip.natKeepaliveSeconds must be a positive number of seconds or false, got 0'
  ],
  [
    'sip.sessionTimer.expiresSeconds: 10',
    { sip: { sessionTimer: { expiresSeconds: 10 } } },
    RangeError,
    'EngineOptions.sip.sessionTimer.expiresSeconds 10 is below minSeSeconds 90'
  ],
  [
    'sip.sessionTimer.minSeSeconds: 0',
    { sip: { sessionTimer: { minSeSeconds: 0 } } },
    RangeError,
    'EngineOptions.sip.sessionTimer.minSeSeconds must be a positive integer'
  ],
  [
    "webSocket.path: 'sip'",
    { webSocket: { path: 'sip' } },
    RangeError,
    "EngineOptions.webSocket.path must start with '/' ('/sip'), got 'sip'"
  ],
  [
    "overloadGuard: 'on'",
    { overloadGuard: 'on' },
    TypeError,
    "EngineOptions.overloadGuard must be true, false or thresholds, got 'on'"
  ],
  [
    'sip.timers.t1Ms: -1',
    { sip: { timers: { t1Ms: -1 } } },
    RangeError,
    'EngineOptions.sip.timers.t1Ms must be a number of ms from 1 to 2147483647, got -1'
  ],
  [
    'sip.timers.t1Ms: 0',
    { sip: { timers: { t1Ms: 0 } } },
    RangeError,
    'EngineOptions.sip.timers.t1Ms must be a number of ms'
  ],
  [
    "sip.transports: ['udp', 'tls']",
    { sip: { transports: ['udp', 'tls'] } },
    RangeError,
    "EngineOptions.sip.transports[1] must be one of 'udp', 'tcp', got 'tls'"
  ],
  [
    'sip.tls without a key',
    { sip: { tls: { cert: 'c' } } },
    TypeError,
    'EngineOptions.sip.tls needs cert and key'
  ],
  [
    'sip.tls that is not PEM',
    { sip: { tls: { cert: 'c', key: 'k' } } },
    TypeError,
    'EngineOptions.sip.tls needs a PEM certificate and its own private key'
  ],
  [
    'webSocket.tls that is not PEM',
    { webSocket: { port: 0, tls: { cert: 'c', key: 'k' } } },
    TypeError,
    'EngineOptions.webSocket.tls needs a PEM certificate and its own private key'
  ],
  [
    'sip.port: 70000',
    { sip: { port: 70000 } },
    RangeError,
    'EngineOptions.sip.port must be a port number from 0 to 65535, got 70000'
  ],
  [
    "metricsPort: '9090'",
    { metricsPort: '9090' },
    RangeError,
    "EngineOptions.metricsPort must be a port number from 0 to 65535, got '9090'"
  ],
  [
    'metricsHost: a host name',
    { metricsHost: 'metrics.example.com' },
    TypeError,
    "EngineOptions.metricsHost must be an IP address, got 'metrics.example.com'"
  ],
  [
    'sip.userAgentName with CR LF (a header of its own in every message)',
    { sip: { userAgentName: 'pbx\r\nX-Injected: 1' } },
    TypeError,
    'EngineOptions.sip.userAgentName must be 1-256 characters without control characters'
  ],
  [
    'logger: not a logger (it failed at the first warning)',
    { logger: { info: () => undefined } },
    TypeError,
    'EngineOptions.logger must be a pino-style logger (child, debug, info, warn, error), got an object without child, debug, warn, error'
  ],
  // Options a lower layer owns, checked at construction too (they failed only at start()).
  [
    'tts.cacheBytes: Infinity',
    { tts: { cacheBytes: Infinity } },
    RangeError,
    'EngineOptions.tts.cacheBytes must be a non-negative number, got Infinity'
  ],
  [
    'an RTP port range upside down',
    { rtp: { minPort: 5000, maxPort: 4000 } },
    RangeError,
    'RTP port range 5000-4000 must hold at least one even/odd pair'
  ],
  [
    'an RTP port range past 65535',
    { rtp: { minPort: 70000, maxPort: 80000 } },
    RangeError,
    'RTP port range 70000-80000 must hold'
  ],
  [
    'sip.timers.t2Ms below t1Ms',
    { sip: { timers: { t1Ms: 500, t2Ms: 100 } } },
    RangeError,
    'EngineOptions.sip.timers.t2Ms (100) must not be below t1Ms (500)'
  ],
  [
    'sip.dnsServers naming a host',
    { sip: { dnsServers: ['ns1.example.net'] } },
    TypeError,
    'EngineOptions.sip.dnsServers must list IP addresses'
  ],
  [
    'access.trustedProxies with a bad block',
    { access: { trustedProxies: ['10.0.0.0/33'] } },
    RangeError,
    "trustedProxies list entry '10.0.0.0/33' has prefix length '33'"
  ],
  [
    "tts.engine: 'Flite'",
    { tts: { engine: 'Flite' } },
    RangeError,
    "EngineOptions.tts.engine must be one of 'flite', 'espeak', got 'Flite' (did you mean 'flite'?)"
  ],
  [
    'tts.workers: 0',
    { tts: { workers: 0 } },
    RangeError,
    'EngineOptions.tts.workers must be a whole number from 1 to 16'
  ],
  [
    'tts.synthesisTimeoutMs: -1',
    { tts: { synthesisTimeoutMs: -1 } },
    RangeError,
    'EngineOptions.tts.synthesisTimeoutMs must be a number of ms'
  ],
  [
    'cluster.redis: 6379',
    { cluster: { redis: 6379, nodeId: 'a' } },
    TypeError,
    'cluster.redis must be a unix socket path, a redis:// URL or connection options'
  ],
  [
    'cluster.nodeId with a space',
    { cluster: { redis: '/tmp/r.sock', nodeId: 'node 1' } },
    InvalidArgumentError,
    "cluster nodeId 'node 1' must be 1-64 of [A-Za-z0-9._-]"
  ],
  [
    'a registrar that is not a SIP URI',
    { registrations: [{ registrar: 'provider.example', aor: 'sip:me@provider.example' }] },
    TypeError,
    "EngineOptions.registrations[0].registrar 'provider.example' must be a sip: or sips: URI"
  ],
  [
    'a registration with a username and no password',
    {
      registrations: [{ registrar: 'sip:provider.example', aor: 'sip:me@provider.example', username: 'me' }]
    },
    TypeError,
    'EngineOptions.registrations[0].username and password go together'
  ],
  // An empty host (`process.env.SIP_HOST ?? '127.0.0.1'` with SIP_HOST set empty) bound every
  // interface and answered every call 503 (its SDP named no address); a number failed at start().
  [
    'an empty sip.host',
    { sip: { host: '' } },
    TypeError,
    "EngineOptions.sip.host must be an address or host name to bind (0.0.0.0 or :: for every interface), got ''"
  ],
  [
    'sip.host given as a number',
    { sip: { host: 127 } },
    TypeError,
    'EngineOptions.sip.host must be an address'
  ],
  [
    'rtp.minPort given as a string',
    { rtp: { minPort: '51000', maxPort: 51010 } },
    TypeError,
    "EngineOptions.rtp.minPort must be a port number, got '51000'"
  ],
  [
    'an empty rtp.host',
    { rtp: { host: '' } },
    TypeError,
    'EngineOptions.rtp.host must be an address or host name to bind'
  ],
  [
    'an rtp.host with a space',
    { rtp: { host: '127.0.0.1 ' } },
    TypeError,
    'EngineOptions.rtp.host must be an address'
  ],
  // The level was pino's to refuse: a number threw "chosen.trim is not a function", and a wrong
  // name was "option level 'loud' is not a log level", neither naming the option.
  [
    'a log level given as a number',
    { logLevel: 42 },
    TypeError,
    'EngineOptions.logLevel must be one of fatal, error, warn, info, debug, trace, silent, got 42'
  ],
  [
    'a log level that is no level',
    { logLevel: 'loud' },
    RangeError,
    "EngineOptions.logLevel 'loud' is not a log level; expected one of fatal, error, warn, info, debug, trace, silent"
  ]
];

describe('new Engine(options) refuses wrong options at construction', () => {
  it.each(wrongOptions)('%s', (_, options, errorClass, message) => {
    const make = (): Engine => new Engine(options as ConstructorParameters<typeof Engine>[0]);
    expect(make).toThrow(errorClass);
    expect(make).toThrow(message);
  });

  it('names the full path of an unknown key in the error', () => {
    const error = (() => {
      try {
        new Engine({ access: { sip: { allowed: ['10.0.0.1'] } } } as never);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT', argument: 'access.sip.allowed' });
  });

  it.runIf(hasPeer('openssl'))(
    'refuses a key that is not its certificate’s, and takes the pair that belongs together',
    () => {
      const [one, other] = [makeTestCertificate(), makeTestCertificate()];
      try {
        const make = (key: Buffer) => () => new Engine({ sip: { tls: { cert: one.cert, key } } });
        expect(make(other.key)).toThrow(TypeError);
        expect(make(other.key)).toThrow(
          'EngineOptions.sip.tls needs a PEM certificate and its own private key'
        );
        expect(make(one.key)).not.toThrow();
      } finally {
        one.remove();
        other.remove();
      }
    }
  );

  it('takes every option spelled right, as npm start and the README give them', () => {
    expect(
      () =>
        new Engine({
          sip: {
            host: '127.0.0.1',
            port: 0,
            transports: ['udp', 'tcp'],
            tls: undefined,
            timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 },
            sessionTimer: { expiresSeconds: 4, minSeSeconds: 2 },
            limits: { maxMessageBytes: 65535 },
            connections: { maxConnections: 10 }
          },
          rtp: {
            minPort: 58000,
            maxPort: 58199,
            srtp: 'offered',
            latching: 'first-packet',
            jitter: { maxDelayMs: 100 }
          },
          codecs: ['PCMA', 'PCMU'],
          files: { playFolders: ['/srv/prompts'], recordFolder: '/srv/recordings' },
          access: {
            sip: { allow: ['127.0.0.1'], deny: [], refuse: 'silent' },
            rtp: { allow: ['127.0.0.0/8'] },
            auth: {
              realm: 'uasmedia',
              credentials: () => 'pw',
              lockout: { failures: 10, windowSeconds: 60, lockSeconds: 300 }
            }
          },
          callLimits: {
            maxCalls: 10,
            callsPerSecond: { ratePerSecond: 5, burst: 2 },
            callsPerSecondPerSource: 1
          },
          overloadGuard: true,
          webSocket: { port: 0, path: '/ws', joinPage: true, allowedOrigins: ['https://a.example'] },
          webrtc: { iceServers: [{ urls: 'stun:stun.example.org' }] },
          registrations: [{ registrar: 'sip:127.0.0.1', aor: 'sip:a@127.0.0.1' }],
          cluster: undefined,
          stopByeWaitMs: 0,
          incomingCallTimeoutSeconds: null,
          inviteFilter: () => undefined,
          tts: { workers: 1 },
          dspSlots: { maxParties: 8 },
          dtmfRateLimit: { burstDigits: 5 }
        })
    ).not.toThrow();
    expect(
      () => new Engine({ sip: { sessionTimer: false }, overloadGuard: { sampleMs: 250 } })
    ).not.toThrow();
  });
});

describe('on() of an event the object does not emit', () => {
  // A JavaScript caller's misspelt event was taken and never fired: engine.on('calls', ...) left
  // every call to be refused with 480, and channel.on('dtfm', ...) heard no digit.
  it('is a TypeError naming the events of the Engine and of a UASCallChannel', async () => {
    const engine = new Engine({
      sip: { host: '127.0.42.7', port: 0, transports: ['udp'] },
      logLevel: 'silent'
    });
    const misspelt = engine as unknown as {
      on(e: string, l: () => void): unknown;
      once(e: string, l: () => void): unknown;
    };
    expect(() => misspelt.on('calls', () => {})).toThrow(
      new TypeError("Engine has no event 'calls'; its events: call, error, registration, listenerError")
    );
    expect(() => misspelt.once('eror', () => {})).toThrow(TypeError);
    expect(() => engine.on('call', () => {})).not.toThrow();
    await engine.start();
    try {
      const channel = engine.createChannel() as unknown as { on(e: string, l: () => void): unknown };
      expect(() => channel.on('dtfm', () => {})).toThrow(
        new TypeError(
          "UASCallChannel has no event 'dtfm'; its events: stateChange, dtmf, talking, stoppedTalking, listenerError"
        )
      );
      expect(() => channel.on('dtmf', () => {})).not.toThrow();
    } finally {
      await engine.stop();
    }
  });
});

describe('UASCallChannel made with new', () => {
  // The class is exported (instanceof, types), and the spec's `other_call` reads like a new
  // channel: `new UASCallChannel()` threw "Cannot read properties of undefined (reading 'logger')".
  it('is a TypeError naming where channels come from', () => {
    const expected =
      "UASCallChannel is not made with new: take one from engine.createChannel() (an outbound leg, a transfer's otherCall) or the engine's 'call' event";
    for (const args of [[], [{}], [null, State.IDLE]] as unknown[][]) {
      const make = (): unknown =>
        new (UASCallChannel as unknown as new (...a: unknown[]) => unknown)(...args);
      expect(make).toThrow(TypeError);
      expect(make).toThrow(expected);
    }
  });
});

describe("the channel's methods refuse unknown option keys at the call", () => {
  let engine: Engine | undefined;
  let phone: TonePhone | undefined;
  let folder: string | undefined;

  afterEach(async () => {
    await phone?.close();
    await engine?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
    phone = engine = folder = undefined;
  });

  async function answered(): Promise<{ e: Engine; channel: UASCallChannel }> {
    folder = await mkdtemp(join(tmpdir(), 'uasmedia-options-'));
    const e = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: 58000, maxPort: 58199 },
      files: { recordFolder: folder },
      kernels: 'js'
    });
    engine = e;
    const channels: UASCallChannel[] = [];
    e.on('call', (channel) => {
      channels.push(channel);
      void channel.answer();
    });
    await e.start();
    phone = await TonePhone.create({ toneHz: null });
    await phone.call(`sip:options@127.0.0.1:${e.sipAddresses()[0].port}`);
    await waitFor(() => channels[0]?.state === State.ANSWERED, 10_000);
    return { e, channel: channels[0] };
  }

  it('playText, playFile, record, getDigits, sendDtmf, call and transferToConferenceRoom name the misspelled key', async () => {
    const { e, channel } = await answered();
    const typo = (promise: Promise<unknown>) => expect(promise).rejects.toBeInstanceOf(InvalidArgumentError);
    await typo(channel.playText('hello', { rate: 200 } as never));
    await expect(channel.playText('hello', { rate: 200 } as never)).rejects.toThrow(
      'playText: unknown option rate (did you mean rateWpm?)'
    );
    await typo(channel.playFile('a.wav', { singal: undefined } as never));
    await expect(channel.record('r.wav', { maxSecond: 1 } as never)).rejects.toThrow(
      'record: unknown option maxSecond (did you mean maxSeconds?)'
    );
    await expect(channel.getDigits({ maxDigits: 4 } as never)).rejects.toThrow(
      'getDigits: unknown option maxDigits'
    );
    await expect(channel.getDigits({ secondsTimout: 1 } as never)).rejects.toThrow(
      'getDigits: unknown option secondsTimout (did you mean secondsTimeout?)'
    );
    await expect(channel.sendDtmf('1', { duration: 100 } as never)).rejects.toThrow(
      'sendDtmf: unknown option duration (did you mean durationMs?)'
    );
    const other = e.createChannel();
    await expect(
      channel.transferToConferenceRoom(other, 'room1', { talkerAndListner: true } as never)
    ).rejects.toThrow(
      'transferToConferenceRoom: unknown option talkerAndListner (did you mean talkerAndListener?)'
    );
    await expect(
      other.call('sip:x@127.0.0.1', { auth: { user: 'a', password: 'b' } } as never)
    ).rejects.toThrow('call: unknown option auth.user (did you mean username?)');
    expect(other.state).toBe(State.IDLE);
    // Spelled right, the same calls go ahead on the live call.
    expect(channel.state).toBe(State.ANSWERED);
    await expect(channel.getDigits({ count: 1, secondsTimeout: 0.2 })).resolves.toBe('');
    await channel.sendDtmf('1', { durationMs: 40, gapMs: 0 });
  }, 30_000);
});
