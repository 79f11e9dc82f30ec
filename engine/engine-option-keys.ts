/**
 * Every key `EngineOptions` has, at every depth, for `checkOptionKeys`. Each table `satisfies`
 * the keys of its type, so adding an option to a type without adding it here (or the reverse)
 * fails the type-check.
 */
import type { AuthLockoutOptions, CallLimitOptions, RateOptions, RegistrationOptions } from '../sip/index.js';
import type { AccessOptions } from './admission/door.js';
import type { OverloadGuardOptions } from './admission/overload-guard.js';
import type { ClusterOptions } from './cluster/cluster-member.js';
import type { KernelCapacity } from './dsp/kernels.js';
import type { DigitRateLimitOptions } from './dtmf/digit-rate-limit.js';
import type { EngineOptions } from './engine.js';
import type { JitterDelays } from './rtp/jitter-buffer.js';
import { ANY, ListOf, ObjectOrOther, type OptionKeys } from './util/option-keys.js';
import type { WebRtcOptions } from './webrtc/webrtc-options.js';
import type { WebSocketOptions } from './webrtc/websocket-options.js';

type SipOptions = NonNullable<EngineOptions['sip']>;
type RtpOptions = NonNullable<EngineOptions['rtp']>;
type Auth = NonNullable<AccessOptions['auth']>;
type IceServer = NonNullable<WebRtcOptions['iceServers']>[number];

const SOURCE_LIST = { allow: new ListOf(ANY), deny: new ListOf(ANY) } as const;

const SIP = {
  host: ANY,
  advertisedHost: ANY,
  port: ANY,
  transports: new ListOf(ANY),
  tls: { port: ANY, cert: ANY, key: ANY, ca: ANY, verifyPeer: ANY } satisfies OptionKeys<SipOptions['tls']>,
  userAgentName: ANY,
  natKeepaliveSeconds: ANY,
  dnsServers: new ListOf(ANY),
  timers: { t1Ms: ANY, t2Ms: ANY, t4Ms: ANY } satisfies OptionKeys<SipOptions['timers']>,
  sessionTimer: new ObjectOrOther({ expiresSeconds: ANY, minSeSeconds: ANY } satisfies OptionKeys<
    SipOptions['sessionTimer']
  >),
  limits: {
    maxMessageBytes: ANY,
    maxHeaderBytes: ANY,
    maxLineBytes: ANY,
    maxHeaderCount: ANY,
    maxBodyBytes: ANY
  } satisfies OptionKeys<SipOptions['limits']>,
  connections: {
    maxConnections: ANY,
    maxConnectionsPerSource: ANY,
    maxConnectionsPerSecondPerSource: ANY,
    connectionBurst: ANY,
    idleTimeoutMs: ANY,
    messageDeadlineMs: ANY,
    wsPingIntervalMs: ANY,
    wsPongTimeoutMs: ANY,
    maxWriteQueueBytes: ANY,
    maxMessagesPerSecond: ANY,
    messageBurst: ANY,
    maxMessagesPerSecondPerSource: ANY,
    messageBurstPerSource: ANY,
    maxHttpRequestsPerSecondPerSource: ANY,
    httpRequestBurstPerSource: ANY
  } satisfies OptionKeys<SipOptions['connections']>
} satisfies OptionKeys<SipOptions>;

const WEB_SOCKET = {
  host: ANY,
  port: ANY,
  path: ANY,
  tls: { cert: ANY, key: ANY } satisfies OptionKeys<WebSocketOptions['tls']>,
  maxMessageBytes: ANY,
  joinPage: ANY,
  allowedOrigins: new ListOf(ANY),
  allowedHosts: new ListOf(ANY)
} satisfies OptionKeys<WebSocketOptions>;

const WEBRTC = {
  iceServers: new ListOf({ urls: ANY, username: ANY, credential: ANY } satisfies OptionKeys<IceServer>),
  portRange: { min: ANY, max: ANY } satisfies OptionKeys<WebRtcOptions['portRange']>,
  iceGatheringTimeoutMs: ANY,
  transports: ANY,
  advertisedAddress: ANY,
  maxPeerConnections: ANY,
  maxPeerConnectionsPerSource: ANY
} satisfies OptionKeys<WebRtcOptions>;

const RTP = {
  host: ANY,
  advertisedAddress: ANY,
  minPort: ANY,
  maxPort: ANY,
  jitter: { minDelayMs: ANY, maxDelayMs: ANY, startDelayMs: ANY } satisfies OptionKeys<JitterDelays>,
  inactivityTimeoutSeconds: ANY,
  srtp: ANY,
  latching: ANY
} satisfies OptionKeys<RtpOptions>;

const LOCKOUT = new ObjectOrOther({
  failures: ANY,
  windowSeconds: ANY,
  lockSeconds: ANY
} satisfies OptionKeys<AuthLockoutOptions>);

const ACCESS = {
  sip: { ...SOURCE_LIST, refuse: ANY } satisfies OptionKeys<AccessOptions['sip']>,
  rtp: SOURCE_LIST satisfies OptionKeys<AccessOptions['rtp']>,
  auth: {
    realm: ANY,
    credentials: ANY,
    requiredFor: ANY,
    algorithms: new ListOf(ANY),
    nonceLifetimeSeconds: ANY,
    lockout: LOCKOUT,
    accountLockout: LOCKOUT
  } satisfies OptionKeys<Auth>,
  trustedProxies: new ListOf(ANY)
} satisfies OptionKeys<AccessOptions>;

const RATE = new ObjectOrOther({ ratePerSecond: ANY, burst: ANY } satisfies OptionKeys<RateOptions>);

const CALL_LIMITS = {
  maxCalls: ANY,
  maxCallsPerSource: ANY,
  callsPerSecond: RATE,
  callsPerSecondPerSource: RATE,
  retryAfterSeconds: ANY
} satisfies OptionKeys<CallLimitOptions>;

const OVERLOAD_GUARD = {
  enterFrameLatenessMs: ANY,
  exitFrameLatenessMs: ANY,
  enterEventLoopDelayMs: ANY,
  exitEventLoopDelayMs: ANY,
  sampleMs: ANY,
  recoverSamples: ANY,
  retryAfterSeconds: ANY
} satisfies OptionKeys<OverloadGuardOptions>;

const REGISTRATION = {
  registrar: ANY,
  aor: ANY,
  username: ANY,
  password: ANY,
  realm: ANY,
  expiresSeconds: ANY,
  contactUser: ANY,
  retrySeconds: ANY,
  maxRetrySeconds: ANY
} satisfies OptionKeys<RegistrationOptions>;

export const ENGINE_OPTION_KEYS = {
  sip: SIP,
  webSocket: WEB_SOCKET,
  webrtc: WEBRTC,
  rtp: RTP,
  roomSampleRateHz: ANY,
  codecs: new ListOf(ANY),
  kernels: ANY,
  dspSlots: { maxParties: ANY, maxRooms: ANY } satisfies OptionKeys<KernelCapacity>,
  promptFolder: ANY,
  files: { playFolders: new ListOf(ANY), recordFolder: ANY } satisfies OptionKeys<EngineOptions['files']>,
  tts: {
    engine: ANY,
    cacheBytes: ANY,
    workers: ANY,
    synthesisTimeoutMs: ANY
  } satisfies OptionKeys<EngineOptions['tts']>,
  logLevel: ANY,
  logger: ANY,
  incomingCallTimeoutSeconds: ANY,
  stopByeWaitMs: ANY,
  metricsPort: ANY,
  metricsHost: ANY,
  metricsAllow: ANY,
  inviteFilter: ANY,
  // `redis` may be ioredis's own options, which are ioredis's to check.
  cluster: {
    redis: ANY,
    nodeId: ANY,
    trunkAddress: ANY,
    leaseMs: ANY,
    keyPrefix: ANY,
    trunkSecret: ANY
  } satisfies OptionKeys<ClusterOptions>,
  access: ACCESS,
  callLimits: CALL_LIMITS,
  overloadGuard: new ObjectOrOther(OVERLOAD_GUARD),
  registrations: new ListOf(REGISTRATION),
  inbandDtmf: ANY,
  dtmfRateLimit: { digitsPerSecond: ANY, burstDigits: ANY } satisfies OptionKeys<DigitRateLimitOptions>
} satisfies OptionKeys<EngineOptions>;
