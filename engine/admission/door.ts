/**
 * The engine's door: who may call in and how many. Built from `EngineOptions.access`,
 * `callLimits` and `overloadGuard`, it gives the SIP user agent its source filter and INVITE
 * admission, the RTP port pool its source policy, and counts every refusal by cause in the
 * metrics. Everything it refuses is refused before a channel, a port or any media exists.
 */
import type { Logger } from 'pino';
import {
  InviteAdmission,
  SourceFilter,
  TrustedProxies,
  serviceUnavailable,
  type AuthLockoutOptions,
  type CallLimitOptions,
  type CredentialsLookup,
  type Refusal,
  type SharedFailureCount,
  type SipRequest,
  type SipUserAgent,
  type Unavailable
} from '../../sip/index.js';
import type { FrameClock } from '../clock/frame-clock.js';
import type { EngineMetrics } from '../observability/metrics.js';
import type { RtpSourcePolicy } from '../rtp/port-pool.js';
import { ThrottledWarning } from '../observability/throttled-warning.js';
import { OverloadGuard, type OverloadGuardOptions } from './overload-guard.js';

export interface AccessOptions {
  /** Who may send SIP. A refused source gets 403 Forbidden, or nothing at all with `refuse: 'silent'`. */
  sip?: { allow?: string[]; deny?: string[]; refuse?: 'forbidden' | 'silent' };
  /** Who may send RTP/RTCP to the engine's media ports; other packets are dropped and counted. */
  rtp?: { allow?: string[]; deny?: string[] };
  /** Digest authentication of incoming calls (401 challenge, MD5 and SHA-256, qop=auth). */
  auth?: {
    realm: string;
    /** The password or HA1 of `username`, looked up anywhere; undefined for an unknown user. */
    credentials: CredentialsLookup;
    /** Which INVITEs need it (default: all). */
    requiredFor?: (request: SipRequest) => boolean;
    algorithms?: Array<'SHA-256' | 'MD5'>;
    /** How long a nonce may sign requests (default 60 s). */
    nonceLifetimeSeconds?: number;
    /**
     * Wrong answers from one source address (an IPv6 /64) that lock it out, within a window, and
     * for how long (default 10 in 60 s lock it for 300 s); false: no limit.
     */
    lockout?: AuthLockoutOptions | false;
    /**
     * Wrong answers for one username, from sources that never answered right for it, that lock
     * the account against such sources (default 30 in 300 s lock it for 600 s); false: no limit.
     */
    accountLockout?: AuthLockoutOptions | false;
  };
  /**
   * Proxies in front (addresses or CIDR blocks), such as the Kamailio of `npm run cluster`, that
   * name each caller's address in `X-Uasmedia-Source` on the INVITEs they forward. For those, the
   * door counts and checks the caller, not the proxy: the `sip` lists, the call ceilings and
   * rate per source, and the digest lockouts. From anyone else the header means nothing.
   */
  trustedProxies?: string[];
}

/** What every new call gets while the engine is not running (starting or stopping). */
const NOT_RUNNING: Unavailable = { status: 503, reason: 'Service Unavailable' };

/** What a new call gets while it could not have media: every RTP port pair, or DSP slot, taken. */
const MEDIA_FULL: Record<MediaShortage, Refusal> = {
  rtp_ports: serviceUnavailable('rtp_ports', 5),
  dsp_slots: serviceUnavailable('dsp_slots', 5)
};

/** What a new call's media would lack now. */
export type MediaShortage = 'rtp_ports' | 'dsp_slots';

export class Door {
  readonly sipSources: SourceFilter | undefined;
  readonly rtpSources: RtpSourcePolicy | undefined;
  readonly guard: OverloadGuard | undefined;
  readonly admission: InviteAdmission;
  readonly #silent: boolean;
  #mediaShortage: () => MediaShortage | undefined = () => undefined;
  readonly #droppedWarning: ThrottledWarning;
  readonly #ackTimeoutWarning: ThrottledWarning;
  /**
   * Whether a request is a cluster member's signed trunk leg (set when the engine joins a
   * cluster): digest authentication does not apply to it, since members hold no credentials.
   */
  signedTrunk: ((request: SipRequest) => boolean) | undefined;
  /** Wrong digest answers counted with the other engines of a cluster (set when the engine joins one). */
  sharedAuthFailures: SharedFailureCount | undefined;

  constructor(
    access: AccessOptions | undefined,
    limits: CallLimitOptions | undefined,
    overload: OverloadGuardOptions | boolean | undefined,
    clock: FrameClock,
    private readonly metrics: EngineMetrics,
    private readonly logger: Logger
  ) {
    this.#droppedWarning = new ThrottledWarning(
      logger,
      'full: answered calls whose ACK never came are ended to make room for new ones (INVITEs from forged addresses?)'
    );
    this.#ackTimeoutWarning = new ThrottledWarning(
      logger,
      'answered calls got no ACK in 64*T1 and were ended with BYE (RFC 3261 §13.3.1.4; INVITEs from forged addresses?)'
    );
    const sip = access?.sip;
    if (sip?.refuse !== undefined && sip.refuse !== 'forbidden' && sip.refuse !== 'silent') {
      throw new RangeError(`access.sip.refuse must be 'forbidden' or 'silent', got '${String(sip.refuse)}'`);
    }
    const sipFilter = sip ? new SourceFilter(sip) : undefined;
    this.sipSources = sipFilter?.restricts ? sipFilter : undefined;
    this.#silent = sip?.refuse === 'silent';
    const rtpFilter = access?.rtp ? new SourceFilter(access.rtp) : undefined;
    if (rtpFilter?.restricts) {
      const refused = metrics.rtpRefusedSource;
      this.rtpSources = { allows: (address) => rtpFilter.allows(address), refused: () => refused.inc() };
    }
    this.guard =
      overload === undefined || overload === false
        ? undefined
        : new OverloadGuard(clock, overload === true ? {} : overload);
    if (this.guard) {
      this.guard.onChange = (overloaded, status) =>
        this.logger.warn(
          status,
          overloaded
            ? 'overloaded: refusing new calls (503) until the frame clock recovers'
            : 'recovered: taking new calls again'
        );
    }
    const auth = access?.auth;
    const proxies =
      access?.trustedProxies === undefined ? undefined : new TrustedProxies(access.trustedProxies);
    this.admission = new InviteAdmission({
      limits,
      forwarded: proxies && { proxies, callers: this.sipSources },
      auth: auth && {
        ...auth,
        requiredFor: (request) =>
          !(this.signedTrunk?.(request) ?? false) && (auth.requiredFor?.(request) ?? true)
      },
      sourceLimited: (request) => !(this.signedTrunk?.(request) ?? false),
      sharedFailures: () => this.sharedAuthFailures,
      guard: () => this.guard?.check() ?? this.#mediaRefusal(),
      onLockout: (source, lockSeconds) => {
        this.metrics.sipAuthLockouts.inc();
        this.logger.warn(
          { source, lockSeconds },
          'too many wrong digest answers from this source: its answers are refused (403) for a while'
        );
      },
      onAccountLockout: (username, lockSeconds) => {
        this.metrics.sipAuthAccountLockouts.inc();
        this.logger.warn(
          { username: username.slice(0, 128), lockSeconds },
          'too many wrong digest answers for this account: answers for it from sources it does not know are refused (403) for a while'
        );
      }
    });
  }

  /** Whether anything restricts who may call (for `npm start`'s warning). */
  get restrictsCallers(): boolean {
    return this.sipSources !== undefined || this.admission?.authenticator !== undefined;
  }

  /**
   * `running`: whether the engine takes calls now (else new INVITEs get 503, and OPTIONS say so).
   * `mediaShortage`: what a new call's media would lack now, if anything (then 503).
   */
  attach(
    userAgent: SipUserAgent,
    running: () => boolean,
    mediaShortage: () => MediaShortage | undefined
  ): void {
    this.#mediaShortage = mediaShortage;
    userAgent.sourceFilter = this.sipSources;
    userAgent.refuseSilently = this.#silent;
    const sources = this.sipSources;
    // Silence over TCP: the connection is closed at accept, before a byte is read.
    if (this.#silent && sources) userAgent.connectionGuard.refusesSource = (host) => !sources.allows(host);
    userAgent.inviteAdmission = this.admission;
    userAgent.availability = () => (running() ? this.admission.availability() : NOT_RUNNING);
    userAgent.on('refused', (cause, source) => {
      this.metrics.sipRefusals[cause].inc();
      this.logger.debug({ cause, source }, 'SIP request refused');
    });
    userAgent.on('unacknowledgedDropped', (session) => {
      this.metrics.sipUnacknowledgedDropped.inc();
      this.#droppedWarning.note({ callId: session.callId });
    });
    userAgent.on('ackTimedOut', (callId) => {
      this.metrics.sipAckTimeouts.inc();
      this.#ackTimeoutWarning.note({ callId });
    });
  }

  #mediaRefusal(): Refusal | undefined {
    const shortage = this.#mediaShortage();
    return shortage && MEDIA_FULL[shortage];
  }

  start(): void {
    this.guard?.start();
  }

  stop(): void {
    this.guard?.stop();
  }
}
