/**
 * `Engine`: the one object an application creates. It owns the SIP user agent, the RTP port
 * pool, the DSP core (WebAssembly or the plain-JS reference kernels), the frame clock and the
 * loop that mixes every room on it, the prompt service, the conference directory, logs and
 * metrics. Incoming calls arrive as `'call'` events carrying a `UASCallChannel`;
 * `createChannel()` makes a channel for an outbound leg. `close()` (or its alias `stop()`) ends
 * every call and releases every socket, worker, timer and memory slot.
 */
import type { InbandDtmfMode } from './dtmf/inband-dtmf-mode.js';
import { resolveDigitRateLimit, type DigitRateLimitOptions } from './dtmf/digit-rate-limit.js';
import type { Logger } from 'pino';
import {
  SafeEmitter,
  SipUserAgent,
  type AudioCodec,
  type SrtpPolicy,
  type TransportSpec,
  type IncomingInvite,
  type SipRequest
} from '../sip/index.js';
import type { ConnectionLimits, SipMessageLimits } from '../sip/index.js';
import { PromptService } from '../tts/index.js';
import type { LatchingMode } from './rtp/peer-latch.js';
import { FrameClock, type FrameClockStats } from './clock/frame-clock.js';
import { RoomRegistry } from './conference/room-registry.js';
import type { ConferenceRoom } from './conference/room.js';
import { createKernels, type DspKernels, type KernelCapacity } from './dsp/kernels.js';
import { ClosedError, EngineError, InvalidStateError } from './errors.js';
import { shown } from './util/option-keys.js';
import { State } from './state.js';
import { RtpPortPool } from './rtp/port-pool.js';
import { AdvertisedAddress, isWildcardAddress } from './rtp/advertised-address.js';
import type { JitterDelays } from './rtp/jitter-buffer.js';
import { DEFAULT_RTP_PORTS, checkEngineOptions, inactivityMs } from './engine-options.js';
import { ConferenceMedia } from './media/conference-media.js';
import { MediaResolver } from './media/media-resolver.js';
import { MixLoop } from './media/mix-loop.js';
import { OfferVeto } from './admission/offer-veto.js';
import { RecordFolder } from './media/file-folders.js';
import { createLogger } from './observability/logger.js';
import { EngineMetrics } from './observability/metrics.js';
import { countActiveTimers, countOpenDescriptors, type ResourceCounts } from './observability/resources.js';
import { startMetricsServer } from './observability/metrics-server.js';
import { UASCallChannel } from './channel/uas-call-channel.js';
import { trunkLegContext, type ChannelContext } from './channel/channel-context.js';
import {
  checkWebSocketOptions,
  DEFAULT_SIP_PATH,
  webSocketTransportSpec,
  type WebSocketOptions
} from './webrtc/websocket-options.js';
import { checkWebRtcOptions, type WebRtcOptions } from './webrtc/webrtc-options.js';
import { createJoinPageHandler } from './webrtc/join-page-server.js';
import { RoomRoster } from './webrtc/room-roster.js';
import { Door, type AccessOptions, type MediaShortage } from './admission/door.js';
import type { OverloadGuardOptions } from './admission/overload-guard.js';
import type { CallLimitOptions, RegistrationOptions } from '../sip/index.js';
import {
  UpstreamRegistrations,
  type RegistrationEvent,
  type RegistrationStatus
} from './registration/upstream-registrations.js';
import { ClusterMember, type ClusterOptions } from './cluster/cluster-member.js';

export interface EngineOptions {
  sip?: {
    /**
     * Address to bind and to put in Via/Contact (default 127.0.0.1). For a wildcard (0.0.0.0, ::)
     * Via/Contact name the first non-loopback IPv4 interface (else 127.0.0.1) unless
     * `advertisedHost` is given.
     */
    host?: string;
    /** Host for Via/Contact in place of the bound address: the public address behind NAT (FreeSWITCH's ext-sip-ip). */
    advertisedHost?: string;
    /** Port for UDP and TCP (default 5060; 0 = any free port). */
    port?: number;
    transports?: Array<'udp' | 'tcp'>;
    /**
     * SIP over TLS (TLS 1.2+) on its own port (default 5061; 0 = any free port), presenting this
     * certificate and key (PEM). `ca` is trusted for connections we open; `verifyPeer: false`
     * accepts any certificate from them.
     */
    tls?: {
      port?: number;
      cert: string | Buffer;
      key: string | Buffer;
      ca?: string | Buffer | Array<string | Buffer>;
      verifyPeer?: boolean;
    };
    userAgentName?: string;
    /**
     * DNS servers (`host` or `host:port`) for the host names of call targets and registrars,
     * looked up as RFC 3263 has it (SRV records, then A/AAAA); default: the system's.
     */
    dnsServers?: string[];
    timers?: { t1Ms?: number; t2Ms?: number; t4Ms?: number };
    /**
     * RFC 4028 session timers (default on: 1800 s asked for, Min-SE 90 s): a call nobody refreshes
     * in time ends with a BYE and cause TIMEOUT. false turns them off.
     */
    sessionTimer?: { expiresSeconds?: number; minSeSeconds?: number } | false;
    /**
     * A UDP caller behind NAT (its Via and Contact name a private address) is sent an OPTIONS in
     * its call this often, so its NAT keeps the way open for our BYE (sip/session/nat-keepalive.ts).
     * Default 25; false: none.
     */
    natKeepaliveSeconds?: number | false;
    /** Incoming message size limits; defaults and the answers each earns: sip/message/limits.ts. */
    limits?: Partial<SipMessageLimits>;
    /** TCP, TLS and WebSocket connection limits (count, idle time, message deadline, WebSocket pings): sip/transport/connection-guard.ts. */
    connections?: Partial<ConnectionLimits>;
  };
  /** Browsers: SIP over WebSocket (RFC 7118) and, on the same port, the join page. Off unless given. */
  webSocket?: WebSocketOptions;
  /** Browsers' media legs: ICE servers (none by default: host candidates only), UDP port range. */
  webrtc?: WebRtcOptions;
  rtp?: {
    /**
     * Address RTP sockets bind to (default: the SIP host). A concrete address is also the one the
     * SDP names; for a wildcard (0.0.0.0, ::) the SDP names the local address that routes to the
     * call's SIP peer (engine/rtp/advertised-address.ts), never the wildcard, which means hold.
     */
    host?: string;
    /**
     * The IP address every SDP names for our RTP, whatever RTP binds to: the public address of a
     * host behind NAT (FreeSWITCH's ext-rtp-ip, Asterisk's external_media_address).
     */
    advertisedAddress?: string;
    minPort?: number;
    maxPort?: number;
    jitter?: JitterDelays;
    /**
     * A call whose peer sends no RTP and no RTCP for this long ends with cause TIMEOUT and a BYE
     * (default 30; null = never). Held calls (any direction but sendrecv) are exempt.
     */
    inactivityTimeoutSeconds?: number | null;
    /** SRTP with SDES keys (RFC 4568): 'off' (default), 'offered' (best effort), or 'required' (plain offers get 488). */
    srtp?: SrtpPolicy;
    /**
     * Whose RTP a call takes: 'strict' (default) only from the host its SDP names or its SIP
     * request came from (with SRTP: whoever authenticates first); 'first-packet' the first valid
     * source from anywhere (peers behind a proxy and NAT). Either way a source other than the
     * SDP's port latches only after 4 consecutive packets (rtp/latch-probation.ts). Strangers'
     * packets are dropped and counted (`uasmedia_rtp_packets_from_strangers_total`).
     */
    latching?: LatchingMode;
  };
  /** Sample rate of every room's mix (default 8000). */
  roomSampleRateHz?: 8000 | 16000;
  /**
   * Codecs we accept, most preferred first (default PCMU, PCMA; in 16 kHz rooms L16, G722, PCMU,
   * PCMA: L16 first, as a cluster's engines speak it to each other, then G.722 for wideband phones).
   */
  codecs?: AudioCodec[];
  /** Per-frame kernels: the WebAssembly core (default) or the plain-JS reference. */
  kernels?: 'wasm' | 'js';
  /** Fewer DSP slots than the core's 4096 parties and 2048 rooms (a call on its own takes one of each). */
  dspSlots?: KernelCapacity;
  /** Folder that `fileToPlay` / `playFile` paths are relative to and must stay inside (one of `files.playFolders`). */
  promptFolder?: string;
  /**
   * The only places calls touch the disk: `playFile` / `fileToPlay` read inside `playFolders`,
   * `record` writes inside `recordFolder`. Without them both refuse with FileAccessError.
   */
  files?: { playFolders?: string[]; recordFolder?: string };
  /**
   * Prompt synthesis: the voice engine, cache bound, worker threads, and how long one synthesis
   * may run before it fails with `TtsError('ERR_SYNTHESIS_TIMEOUT')` and its worker is replaced
   * (`synthesisTimeoutMs`, default 10 000).
   */
  tts?: { engine?: 'flite' | 'espeak'; cacheBytes?: number; workers?: number; synthesisTimeoutMs?: number };
  logLevel?: string;
  logger?: Logger;
  /**
   * An incoming call nobody answers is refused (480) after this many seconds, so a lost CANCEL
   * cannot hold its ports forever (default 180, RFC 3261 timer C's spirit; null = never).
   */
  incomingCallTimeoutSeconds?: number | null;
  /**
   * `close()` (`stop()`) sends BYE to every call and waits at most this long for the answers before it
   * closes everything (default 2000 ms): a vanished peer must not hold a shutdown for the 32 s
   * of a BYE's transaction timeout.
   */
  stopByeWaitMs?: number;
  /** Serve Prometheus metrics on this port (never by default). */
  metricsPort?: number;
  /**
   * The IP address the metrics port binds (default 127.0.0.1, this host only): `0.0.0.0` or `::`
   * for a Prometheus server on another host. Requests must still name an IP address or
   * `localhost` in `Host`: a scraper addresses the engine by IP.
   */
  metricsHost?: string;
  /**
   * CIDR blocks or addresses whose connections the metrics port takes (others are closed at
   * accept); default whoever reaches `metricsHost`. A request renders every metric, about 0.4 ms
   * of the engine's thread: a port bound off loopback wants its scrapers listed.
   */
  metricsAllow?: string[];
  /**
   * Decides on an incoming INVITE before a channel exists: return a SIP status to refuse it
   * (e.g. 404 for an unknown room), or undefined to accept it as a 'call'.
   */
  inviteFilter?: (request: SipRequest) => { status: number; reason?: string } | undefined;
  /**
   * Makes this engine a member of a cluster: one room name is one conference across every
   * member, with Redis as the room directory (engine/cluster/). Without it rooms live in memory.
   */
  cluster?: ClusterOptions;
  /** Who may call in: SIP and RTP source lists, digest authentication (engine/admission/door.ts). */
  access?: AccessOptions;
  /** Ceilings on incoming calls and call rates, in total and per source (503 Retry-After / 486). */
  callLimits?: CallLimitOptions;
  /**
   * Refuse new calls (503 Retry-After) while the frame clock or event loop runs late: `true` for
   * the defaults, or thresholds. Off unless asked for (`npm start` turns it on): an embedding
   * application on a shared host decides whether other work's delays should close its door.
   */
  overloadGuard?: OverloadGuardOptions | boolean;
  /** Register to upstream registrars or trunks (digest, refresh, backoff); unregistered on stop. */
  registrations?: RegistrationOptions[];
  /**
   * Listen for DTMF tones in the audio on every call ('always', the default), only on calls that
   * negotiated no RFC 4733 telephone-event ('auto', Asterisk's dtmf_mode=auto: saves the
   * detector's CPU on phones and trunks that send events), or 'never' (inband-dtmf-mode.ts).
   */
  inbandDtmf?: InbandDtmfMode;
  /**
   * At most this many DTMF digits a second per call reach the application ('dtmf' events,
   * getDigits), with a burst of `burstDigits` (default 20 a second, 10 at once: far above any
   * keypad). The excess is dropped and counted (`uasmedia_dtmf_digits_dropped_total`), and logged
   * once per burst (digit-rate-limit.ts).
   */
  dtmfRateLimit?: DigitRateLimitOptions;
}

function sipTransports(sip: EngineOptions['sip'], host: string): TransportSpec[] {
  const specs: TransportSpec[] = (sip?.transports ?? ['udp', 'tcp']).map((protocol) => ({
    protocol,
    host,
    port: sip?.port ?? 5060,
    portOption: 'EngineOptions.sip.port'
  }));
  const tls = sip?.tls;
  if (tls)
    specs.push({
      protocol: 'tls',
      host,
      port: tls.port ?? 5061,
      portOption: 'EngineOptions.sip.tls.port',
      tls: { cert: tls.cert, key: tls.key, ca: tls.ca, verifyPeer: tls.verifyPeer }
    });
  return specs;
}

export type EngineEvents = {
  /** An incoming call, as a CALL_INCOMING channel: ring, answer or hang up. */
  call: [UASCallChannel];
  /** Something went wrong that no caller is waiting for (a failed announcement, a mixing fault). */
  error: [unknown];
  /** An upstream registration succeeded (first time or refresh), failed, or was removed on stop. */
  registration: [RegistrationEvent];
};

/** EngineEvents' names, at run time: `on()` of another is a TypeError. */
const ENGINE_EVENTS = { call: true, error: true, registration: true } satisfies Record<
  keyof EngineEvents,
  true
>;

export class Engine extends SafeEmitter<EngineEvents> {
  readonly clock = new FrameClock({ periodMs: 20 });
  readonly rooms = new RoomRegistry();
  readonly logger: Logger;
  readonly metrics = new EngineMetrics();
  private readonly offerVeto: OfferVeto;
  private readonly options: EngineOptions;
  private readonly channels = new Map<string, UASCallChannel>();
  private readonly conferenceMedias = new Map<ConferenceRoom, ConferenceMedia>();
  private context: ChannelContext | undefined;
  private userAgent: SipUserAgent | undefined;
  private kernels: DspKernels | undefined;
  private ports: RtpPortPool | undefined;
  private prompts: PromptService | undefined;
  private loop: MixLoop | undefined;
  private metricsServer: { port: number; close(): Promise<void> } | undefined;
  /** Who may call in and how many; built here so wrong access options fail at construction. */
  private readonly door: Door;
  private readonly upstream = new UpstreamRegistrations();
  private clusterMember: ClusterMember | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  /** The start() under way, which close() waits for. */
  private starting: Promise<void> | undefined;
  /** Set by a close() while start() runs: start() undoes what it has done at its next step. */
  private stopRequested = false;
  /** The one stop every caller of close() waits for. */
  private stopping: Promise<void> | undefined;

  constructor(options: EngineOptions = {}) {
    super(ENGINE_EVENTS);
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new TypeError(`Engine options must be an object, got ${shown(options)}`);
    checkWebRtcOptions(options.webrtc);
    checkWebSocketOptions(options.webSocket);
    checkEngineOptions(options);
    this.options = options;
    this.logger = options.logger ?? createLogger({ level: options.logLevel });
    this.offerVeto = new OfferVeto(this.logger, this.metrics.sipOffersRefused, () => this.context);
    this.metrics.exposeResources(() => this.resources());
    this.door = new Door(
      options.access,
      options.callLimits,
      options.overloadGuard,
      this.clock,
      this.metrics,
      this.logger
    );
    this.metrics.exposeConnections(() => this.userAgent?.connectionGuard);
    this.metrics.exposeDatagrams(() => this.userAgent?.datagramRate.stats);
    this.metrics.exposeOverload(() => this.door.guard?.status());
    this.metrics.beforeTtsScrape = this.flushTtsCounters;
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /**
   * Where SIP is listening (ports resolved when 0 was asked for): while start() binds, the sockets
   * bound so far; before start() and after close(), none.
   */
  sipAddresses(): Array<{ protocol: 'udp' | 'tcp' | 'tls' | 'ws'; host: string; port: number }> {
    return this.userAgent?.addresses() ?? [];
  }

  /** Frame clock lateness and load. */
  clockStats(): FrameClockStats {
    return this.clock.stats();
  }

  /** The media of a live conference room (its mix and 'talking' events), if it exists. */
  conference(name: string): ConferenceMedia | undefined {
    if (typeof name !== 'string')
      throw new TypeError(`conference: name must be a string, got ${shown(name)}`);
    const room = this.rooms.get(name);
    return room ? this.conferenceMedias.get(room) : undefined;
  }

  /** Whether new calls are being refused because the engine runs late (see `overloadGuard`). */
  get overloaded(): boolean {
    return this.door.guard?.overloaded ?? false;
  }

  /** Whether a source list or authentication restricts who may call in. */
  get restrictsCallers(): boolean {
    return this.door.restrictsCallers;
  }

  /** Each upstream registration's state. */
  registrationStatus(): RegistrationStatus[] {
    return this.upstream.status();
  }

  /** RTP port pairs held by calls right now (0 when no call has media). */
  get rtpPortsInUse(): number {
    return this.ports?.inUse ?? 0;
  }

  /** What the engine holds now; after every call has ended these return to their idle values. */
  resources(): ResourceCounts {
    return {
      openDescriptors: countOpenDescriptors(),
      rtpPortPairs: this.ports?.inUse ?? 0,
      partySlots: this.kernels?.partiesInUse ?? 0,
      roomSlots: this.kernels?.roomsInUse ?? 0,
      channels: this.channels.size,
      rooms: this.rooms.size,
      timers: countActiveTimers(),
      workers: this.prompts?.stats().workers ?? 0,
      speechPending: this.prompts?.pendingCount ?? 0
    };
  }

  /** Live channels (with a call, or created and not yet closed). */
  activeChannels(): UASCallChannel[] {
    return [...this.channels.values()];
  }

  /** Binds, spawns and starts everything; rejects with ClosedError if close() is called meanwhile. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw InvalidStateError.forState('engine', this.state, ['new'], 'start');
    this.state = 'starting';
    this.starting = this.startSteps();
    try {
      await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  private async startSteps(): Promise<void> {
    const o = this.options;
    const sipHost = o.sip?.host ?? '127.0.0.1';
    const sampleRateHz = o.roomSampleRateHz ?? 8000;
    try {
      this.kernels = await createKernels(o.kernels ?? 'wasm', o.dspSlots);
      this.throwIfStopRequested();
      const rtpHost = o.rtp?.host ?? sipHost;
      this.ports = new RtpPortPool({
        host: rtpHost,
        minPort: o.rtp?.minPort ?? DEFAULT_RTP_PORTS.minPort,
        maxPort: o.rtp?.maxPort ?? DEFAULT_RTP_PORTS.maxPort,
        sourcePolicy: this.door.rtpSources
      });
      // Without it the SIP bind checks the host, and an address that cannot be bound would
      // otherwise fail every call's answer, before the application hears of the call.
      if (o.rtp?.host !== undefined)
        await this.ports.checkHost().catch((error: Error) => {
          throw new EngineError(
            'ERR_LISTEN_FAILED',
            `EngineOptions.rtp.host ${rtpHost} cannot be bound for RTP: ${error.message}`,
            { cause: error }
          );
        });
      this.prompts = new PromptService({
        promptFolder: [
          ...(o.promptFolder !== undefined ? [o.promptFolder] : []),
          ...(o.files?.playFolders ?? [])
        ],
        cacheBytes: o.tts?.cacheBytes,
        defaultEngine: o.tts?.engine,
        workers: o.tts?.workers,
        synthesisTimeoutMs: o.tts?.synthesisTimeoutMs
      });
      const resolver = new MediaResolver(this.prompts);
      this.loop = new MixLoop(this.clock, (error) => this.reportError(error, 'mixing a room failed'));
      this.clock.on('listenerError', ({ error }) => this.reportError(error, 'frame clock listener failed'));
      this.clock.on('tick', this.onTick);
      this.userAgent = new SipUserAgent({
        transports: [
          ...sipTransports(o.sip, sipHost),
          ...(o.webSocket ? [webSocketTransportSpec(o.webSocket, sipHost, this.joinPage(o.webSocket))] : [])
        ],
        userAgentName: o.sip?.userAgentName ?? 'uasmedia',
        dnsServers: o.sip?.dnsServers,
        advertisedHost: o.sip?.advertisedHost,
        timers: o.sip?.timers,
        sessionTimer: o.sip?.sessionTimer,
        natKeepaliveSeconds: o.sip?.natKeepaliveSeconds,
        logger: this.logger,
        limits: o.sip?.limits,
        connections: o.sip?.connections,
        afterMessage: () => this.clock.runIfDue()
      });
      const filter = o.inviteFilter;
      this.userAgent.inviteFilter = (request, protocol) =>
        filter?.(request) ?? this.offerVeto.check(request, protocol);
      this.door.attach(
        this.userAgent,
        () => this.state === 'running',
        () => this.mediaShortage()
      );
      // One folder check for every recording, a channel's or a room's.
      const recordFolder = new RecordFolder(o.files?.recordFolder);
      this.rooms.on('roomCreated', ({ room }) =>
        this.createConferenceMedia(room, resolver, sampleRateHz, recordFolder)
      );
      this.context = this.makeContext(
        resolver,
        new AdvertisedAddress(rtpHost, o.rtp?.advertisedAddress),
        sampleRateHz,
        recordFolder
      );
      this.userAgent.on('invite', (invite: IncomingInvite) => void this.onInvite(invite));
      await this.userAgent.start();
      this.throwIfStopRequested();
      this.upstream.start(this.userAgent, o.registrations ?? [], (event) =>
        this.safeEmit('registration', event)
      );
      if (o.metricsPort !== undefined)
        this.metricsServer = await startMetricsServer(this.metrics, {
          port: o.metricsPort,
          ...(o.metricsHost !== undefined && { host: o.metricsHost }),
          ...(o.metricsAllow !== undefined && { allow: o.metricsAllow })
        });
      this.throwIfStopRequested();
      if (o.cluster) {
        const member = await this.joinCluster(o.cluster);
        this.clusterMember = member;
        this.door.signedTrunk = (request) => member.signedTrunk(request);
        this.door.sharedAuthFailures = member.authFailures;
      }
      this.throwIfStopRequested();
      this.clock.start();
      this.door.start();
      this.state = 'running';
      this.logger.info(
        { sip: this.sipAddresses(), kernels: o.kernels ?? 'wasm', sampleRateHz },
        'engine started'
      );
    } catch (error) {
      await this.release();
      this.state = 'stopped';
      throw error;
    }
  }

  /** Between start()'s steps: a close() meanwhile ends the start, whose catch releases what it made. */
  private throwIfStopRequested(): void {
    if (this.stopRequested) throw new ClosedError('the engine being started');
  }

  /** This engine's membership of a cluster (`options.cluster`), if any. */
  get cluster(): ClusterMember | undefined {
    return this.clusterMember;
  }

  /** A new IDLE channel, for an outbound call or as the `otherCall` leg of a transfer. */
  createChannel(): UASCallChannel {
    return this.newChannel((context) => new UASCallChannel(context));
  }

  private newChannel(make: (context: ChannelContext) => UASCallChannel): UASCallChannel {
    if (this.state !== 'running' || !this.context)
      throw InvalidStateError.forState('engine', this.state, ['running'], 'createChannel');
    const channel = make(this.context);
    this.track(channel);
    return channel;
  }

  /**
   * Hangs up every call (BYE, answers awaited up to `stopByeWaitMs`), destroys every room, releases
   * every resource. Idempotent: every call, made at any time, resolves when the engine has
   * stopped. During start(), start() stops at its next step, releases what it made and rejects
   * with ClosedError. An engine once closed never runs again.
   */
  close(): Promise<void> {
    this.stopping ??= this.stopSteps();
    return this.stopping;
  }

  /** `close()` by the name the README's examples have used since the first release. */
  stop(): Promise<void> {
    return this.close();
  }

  /**
   * True from the first `close()` (or `stop()`) on, and after a `start()` that failed: the engine
   * takes no more calls and will never run again.
   */
  get closed(): boolean {
    return this.stopping !== undefined || this.state === 'stopped';
  }

  private async stopSteps(): Promise<void> {
    if (this.state === 'starting') {
      this.stopRequested = true;
      await this.starting?.catch(() => undefined);
    }
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    await this.clusterMember?.handOver();
    let deadline: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      this.closeChannels().then(() => 'answered' as const),
      new Promise<'deadline'>(
        (resolve) => (deadline = setTimeout(() => resolve('deadline'), this.options.stopByeWaitMs ?? 2000))
      )
    ]);
    clearTimeout(deadline);
    if (waited === 'deadline')
      this.logger.warn({ calls: this.channels.size }, 'stopping without every BYE answered');
    this.rooms.close();
    await this.release();
    this.state = 'stopped';
    this.logger.info('engine stopped');
  }

  /**
   * Closes every channel, and then those that came meanwhile (an INVITE whose channel was being
   * set up when the stop began): each hangs up (BYE) or refuses its call.
   */
  private async closeChannels(): Promise<void> {
    const closing = new Set<UASCallChannel>();
    for (;;) {
      const fresh = [...this.channels.values()].filter((channel) => !closing.has(channel));
      if (fresh.length === 0) return;
      for (const channel of fresh) closing.add(channel);
      await Promise.allSettled(fresh.map((channel) => channel.close()));
    }
  }

  private async release(): Promise<void> {
    this.door.stop();
    this.clock.stop();
    this.clock.off('tick', this.onTick);
    this.loop?.close();
    await this.clusterMember?.close();
    this.door.signedTrunk = undefined;
    this.door.sharedAuthFailures = undefined;
    for (const media of this.conferenceMedias.values()) media.close();
    this.conferenceMedias.clear();
    await this.userAgent?.close();
    // Nothing reaches the closed agent any more (connection metrics, sipAddresses()).
    this.userAgent = undefined;
    this.roster?.close();
    await this.metricsServer?.close();
    await this.prompts?.close();
    this.ports?.close();
    this.kernels?.close();
    this.channels.clear();
  }

  private roster: RoomRoster | undefined;

  /** The join page's HTTP handler, when asked for. */
  private joinPage(webSocket: WebSocketOptions): ReturnType<typeof createJoinPageHandler> | undefined {
    if (!webSocket.joinPage) return undefined;
    this.roster = new RoomRoster(this.rooms, (name) => this.conference(name));
    return createJoinPageHandler(
      this.roster,
      {
        allows: (address) => this.door.sipSources?.allows(address) ?? true,
        inRoom: (name, token) => {
          for (const channel of this.channels.values())
            if (channel.conferenceRoomName === name && channel.rosterToken === token) return true;
          return false;
        }
      },
      webSocket.path ?? DEFAULT_SIP_PATH
    );
  }

  private readonly ttsFlushed = { hits: 0, misses: 0 };

  private readonly onTick = (): void => {
    this.metrics.frameLatenessMs.observe(this.clock.lastLatenessMs);
    if (this.loop) this.metrics.frameProcessingMs.observe(this.loop.lastTickMs);
  };

  /** Copies the prompt cache's counts into the metrics, when a scrape reads them. */
  private readonly flushTtsCounters = (): void => {
    if (!this.prompts) return;
    const { cacheHits, cacheMisses } = this.prompts.stats();
    this.metrics.tts.cacheHits.inc(cacheHits - this.ttsFlushed.hits);
    this.metrics.tts.cacheMisses.inc(cacheMisses - this.ttsFlushed.misses);
    this.ttsFlushed.hits = cacheHits;
    this.ttsFlushed.misses = cacheMisses;
  };

  private createConferenceMedia(
    room: ConferenceRoom,
    resolver: MediaResolver,
    sampleRateHz: 8000 | 16000,
    recordFolder: RecordFolder
  ): void {
    let media: ConferenceMedia;
    try {
      media = new ConferenceMedia(room, {
        kernels: this.kernels as DspKernels,
        loop: this.loop as MixLoop,
        resolver,
        onError: (error) => this.reportError(error, `announcement in room '${room.name}' failed`),
        sampleRateHz,
        recordFolder,
        logger: this.logger
      });
    } catch (error) {
      // No DSP room slot: the room goes at once, so its name is free for a later try, and the
      // join that created it fails (room-registry.ts).
      this.reportError(error, `room '${room.name}' could not be set up`);
      room.close();
      return;
    }
    this.conferenceMedias.set(room, media);
    this.metrics.rooms.inc();
    room.on('partyJoined', () => this.metrics.parties.inc());
    room.on('partyLeft', () => this.metrics.parties.dec());
    room.on('destroyed', () => {
      this.conferenceMedias.delete(room);
      this.metrics.rooms.dec();
    });
  }

  private makeContext(
    resolver: MediaResolver,
    rtpAddress: AdvertisedAddress,
    roomSampleRateHz: 8000 | 16000,
    recordFolder: RecordFolder
  ): ChannelContext {
    return {
      kernels: this.kernels as DspKernels,
      loop: this.loop as MixLoop,
      ports: this.ports as RtpPortPool,
      rtpAddress,
      roomSampleRateHz,
      codecs:
        this.options.codecs ??
        (roomSampleRateHz === 16000 ? ['L16', 'G722', 'PCMU', 'PCMA'] : ['PCMU', 'PCMA']),
      jitter: this.options.rtp?.jitter,
      srtp: this.options.rtp?.srtp,
      latching: this.options.rtp?.latching,
      inbandDtmf: this.options.inbandDtmf ?? 'always',
      dtmfRateLimit: resolveDigitRateLimit(this.options.dtmfRateLimit),
      userAgent: this.userAgent as SipUserAgent,
      rooms: this.rooms,
      resolver,
      logger: this.logger,
      metrics: this.metrics,
      webrtc: {
        ...this.options.webrtc,
        advertisedAddress: this.options.webrtc?.advertisedAddress ?? this.options.rtp?.advertisedAddress
      },
      rtpInactivityTimeoutMs: inactivityMs(this.options.rtp?.inactivityTimeoutSeconds),
      recordFolder,
      conferenceMedia: (room) => {
        const media = this.conferenceMedias.get(room);
        if (!media)
          throw new InvalidStateError(`room '${room.name}' has no media (destroyed)`, { state: 'destroyed' });
        return media;
      },
      channelClosed: (id) => {
        this.channels.delete(id);
      },
      takesCalls: () => this.state === 'running'
    };
  }

  /** What a new call could not get now: an RTP port pair, or a DSP party and room slot. */
  private mediaShortage(): MediaShortage | undefined {
    const kernels = this.kernels;
    if (!this.ports?.hasFreePair) return 'rtp_ports';
    if (!kernels || kernels.partiesInUse >= kernels.maxParties || kernels.roomsInUse >= kernels.maxRooms)
      return 'dsp_slots';
    return undefined;
  }

  private async onInvite(invite: IncomingInvite): Promise<void> {
    if (this.state !== 'running' || !this.context) {
      invite.reject(503, 'Service Unavailable');
      return;
    }
    const trunk = this.clusterMember?.trunkInvite(invite);
    if (trunk?.refusal) {
      invite.reject(trunk.refusal.status, trunk.refusal.reason);
      return;
    }
    // A node sends its trunk leg's requests from where it sent the INVITE: a BYE from anywhere
    // else (an observer of the leg forging one) would split the room.
    if (trunk) invite.pinToSource();
    let channel: UASCallChannel;
    try {
      channel = await UASCallChannel.fromIncoming(
        trunk ? trunkLegContext(this.context) : this.context,
        invite
      );
    } catch (error) {
      this.reportError(error, 'could not take an incoming call');
      invite.reject(503, 'Service Unavailable');
      return;
    }
    this.track(channel);
    // Cancelled while its media was set up: nothing to ring or to offer the application.
    if (channel.state === State.IDLE) return;
    if (trunk) {
      trunk.admit(channel);
      return;
    }
    this.limitRinging(channel);
    if (this.listenerCount('call') === 0) {
      await channel.hangUp();
      return;
    }
    this.safeEmit('call', channel);
  }

  private joinCluster(options: ClusterOptions): Promise<ClusterMember> {
    return ClusterMember.start(options, {
      rooms: this.rooms,
      logger: this.logger,
      metrics: this.metrics,
      createChannel: () => this.createChannel(),
      createTrunkChannel: () =>
        this.newChannel((context) => UASCallChannel.forTrunkLeg(trunkLegContext(context))),
      conference: (name) => this.conference(name),
      sipAddress: () => {
        const udp = this.sipAddresses().find((a) => a.protocol === 'udp') ?? this.sipAddresses()[0];
        // Other nodes dial it: bound to a wildcard, the host our Contact names.
        const host = isWildcardAddress(udp.host) ? (this.userAgent?.contactHost ?? udp.host) : udp.host;
        return `${host}:${udp.port}`;
      },
      activeCalls: () => this.metrics.activeCalls.value
    });
  }

  private limitRinging(channel: UASCallChannel): void {
    const seconds =
      this.options.incomingCallTimeoutSeconds === undefined ? 180 : this.options.incomingCallTimeoutSeconds;
    if (seconds === null) return;
    const timer = setTimeout(() => {
      this.logger.warn(
        { channelId: channel.id, callId: channel.callId },
        'incoming call not answered in time, refusing it'
      );
      void channel.refuseUnanswered();
    }, seconds * 1000);
    const onState = ({ state }: { state: State }): void => {
      if (state === State.CALL_INCOMING || state === State.RING_INCOMING) return;
      clearTimeout(timer);
      channel.off('stateChange', onState);
    };
    channel.on('stateChange', onState);
  }

  /**
   * Channels with a call are tracked (and hung up by `close()`); an IDLE one holds nothing. A
   * transfer's leg is a channel but no call: `active_calls` (and a cluster node's load) counts SIP
   * dialogs, so a caller in a room counts once, as a plain call does.
   */
  private track(channel: UASCallChannel): void {
    let counted = false;
    const count = (): void => {
      const call = channel.state !== State.IDLE && !channel.isTransferLeg;
      if (call === counted) return;
      counted = call;
      if (call) this.metrics.activeCalls.inc();
      else this.metrics.activeCalls.dec();
    };
    if (channel.state !== State.IDLE) this.channels.set(channel.id, channel);
    count();
    channel.on('stateChange', ({ state, previous }) => {
      if (state === State.IDLE) this.channels.delete(channel.id);
      else if (previous === State.IDLE) this.channels.set(channel.id, channel);
      count();
    });
  }

  private reportError(error: unknown, message: string): void {
    this.logger.error({ err: error }, message);
    if (this.listenerCount('error') > 0) this.safeEmit('error', error);
  }
}
