/**
 * SIP session timers (RFC 4028): the negotiation of Session-Expires / Min-SE / refresher on the
 * initial INVITE and its 2xx, and the running timer of one established session, which asks its
 * session to refresh (when we are the refresher) and to end with BYE when no refresh came.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message/message.js';
import { MAX_TIMER_MS, type Clock, type TimerHandle } from '../transaction/timers.js';
import { refreshRetryDelayMs, type RefreshFailure } from './refresh-retry.js';

export interface SessionTimerConfig {
  /** Interval we ask for, and the most we grant (RFC 4028 §4 recommends 1800 s). */
  expiresSeconds: number;
  /** The smallest interval we accept (§5: at least 90 s on the wire; lower only for tests). */
  minSeSeconds: number;
}

export const DEFAULT_SESSION_TIMER: SessionTimerConfig = { expiresSeconds: 1800, minSeSeconds: 90 };

export type Refresher = 'uac' | 'uas';

/**
 * What a 2xx settled: the interval and who refreshes, as RFC 4028 names it, relative to the
 * transaction (in a re-INVITE, 'uac' is whoever sent that re-INVITE).
 */
export interface SessionInterval {
  seconds: number;
  refresher: Refresher;
}

/** A settled interval as the running timer needs it. */
export interface ArmedInterval {
  seconds: number;
  weRefresh: boolean;
}

/** `Session-Expires: 1800;refresher=uac` (§4; compact form `x` is expanded by the parser). */
export function parseSessionExpires(
  message: SipMessage
): { seconds: number; refresher?: Refresher } | undefined {
  const value = message.get('Session-Expires');
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';');
  const text = delta.trim();
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const seconds = Number(text);
  if (seconds < 1) return undefined;
  let refresher: Refresher | undefined;
  for (const param of params) {
    const [name, v] = param.split('=').map((s) => s.trim().toLowerCase());
    if (name === 'refresher' && (v === 'uac' || v === 'uas')) refresher = v;
  }
  return { seconds, refresher };
}

function minSe(message: SipMessage): number | undefined {
  const text = message.get('Min-SE')?.split(';')[0].trim();
  return text !== undefined && /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

export function supportsTimer(message: SipMessage): boolean {
  return [...message.getList('Supported'), ...message.getList('Require')].some(
    (o) => o.trim().toLowerCase() === 'timer'
  );
}

export function formatSessionExpires(interval: SessionInterval): string {
  return `${interval.seconds};refresher=${interval.refresher}`;
}

/**
 * The UAS side of §9: the interval and refresher for our 2xx, or a 422 with our Min-SE when the
 * INVITE asks for less than we accept. A request without Session-Expires still gets one: a
 * peer that supports timers refreshes; one that does not leaves the refreshing to us, and a
 * failed refresh or none at all ends a call whose peer has gone.
 */
export function negotiateAsUas(
  request: SipRequest,
  config: SessionTimerConfig
): { reject: { minSeSeconds: number } } | { interval: SessionInterval; requireTimer: boolean } {
  const asked = parseSessionExpires(request);
  const peerSupports = supportsTimer(request);
  if (asked && asked.seconds < config.minSeSeconds) return { reject: { minSeSeconds: config.minSeSeconds } };
  // §9: never below the Min-SE the request carries either.
  const floor = Math.max(config.minSeSeconds, minSe(request) ?? 0);
  // At most our own interval (Asterisk's session-expires is a maximum too; §9 lets the UAS lower
  // it): a peer that asked for 10^10 s held its call, ports and DSP slots for good without a word.
  const seconds = Math.max(
    floor,
    asked ? Math.min(asked.seconds, config.expiresSeconds) : config.expiresSeconds
  );
  const refresher: Refresher = !peerSupports ? 'uas' : (asked?.refresher ?? 'uac');
  return { interval: { seconds, refresher }, requireTimer: peerSupports };
}

/** The UAC side of §7.2: what the 2xx settled, or our own interval when the UAS ignored timers. */
export function intervalFromAnswer(
  response: SipResponse,
  requestedSeconds: number,
  minSeSeconds: number
): SessionInterval {
  const granted = parseSessionExpires(response);
  if (!granted) return { seconds: requestedSeconds, refresher: 'uac' };
  // §9: a UAS may not grant less than the Min-SE it was sent. One that did (`Session-Expires: 1`)
  // had us refresh twice a second for the whole call, or end it within a second as expired.
  return { seconds: Math.max(granted.seconds, minSeSeconds), refresher: granted.refresher ?? 'uac' };
}

/** The Min-SE of a 422, to retry with (§7.3), if it is a usable number. */
export function minSeFrom422(response: SipResponse): number | undefined {
  return minSe(response);
}

/** What a refresh came to: the interval the 2xx settled, or why it failed. */
export type RefreshOutcome = { interval: ArmedInterval } | { failure: RefreshFailure };

export interface SessionTimerActions {
  /** Send a refresh (re-INVITE carrying Session-Expires); rejects only if there was nothing to refresh. */
  refresh(): Promise<RefreshOutcome>;
  /** No refresh in time: end the session with BYE (§10). */
  expire(): void;
}

export interface SessionTimerOptions {
  /** We chose the dialog's Call-ID (RFC 3261 §14.1: how long a refresh that met 491 waits). */
  ownsCallId: boolean;
  /** Uniform in [0, 1) for the 491 wait (Math.random unless a test fixes it). */
  random?: () => number;
}

/**
 * The running timer of one session. `start` (after the 2xx, and after every refresh either way)
 * arms the expiry at interval − min(32 s, interval/3) (§10) and, when we refresh, a refresh at
 * half the interval (§10 recommends it). A refresh that fails is sent again before the expiry
 * when the failure allows (refresh-retry.ts).
 */
export class SessionTimer {
  private refreshTimer: TimerHandle | undefined;
  private expiryTimer: TimerHandle | undefined;
  private stopped = false;
  /** Counts start() calls: a refresh that fails after a newer start() has nothing left to retry. */
  private generation = 0;
  private failures = 0;
  interval: ArmedInterval | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly actions: SessionTimerActions,
    private readonly options: SessionTimerOptions
  ) {}

  start(interval: ArmedInterval): void {
    if (this.stopped) return;
    this.clear();
    this.generation++;
    this.failures = 0;
    this.interval = interval;
    const ms = interval.seconds * 1000;
    this.expiryTimer = this.clock.setTimeout(
      () => {
        this.expiryTimer = undefined;
        this.clear();
        if (!this.stopped) this.actions.expire();
      },
      ms - Math.min(32_000, ms / 3)
    );
    // The clock caps a delay at MAX_TIMER_MS, the expiry's included: half of it keeps the
    // refresh first even for an interval of months.
    if (interval.weRefresh) this.scheduleRefresh(Math.min(MAX_TIMER_MS / 2, ms / 2));
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private scheduleRefresh(delayMs: number): void {
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      this.doRefresh();
    }, delayMs);
  }

  private doRefresh(): void {
    const generation = this.generation;
    this.actions.refresh().then(
      (outcome) => {
        if (this.stopped) return;
        if ('interval' in outcome) this.start(outcome.interval);
        else if (generation === this.generation) this.retry(outcome.failure);
      },
      () => {
        // Nothing to refresh (the session is ending): the expiry stays armed.
      }
    );
  }

  /** Another try before the expiry, if the failure allows one; a retry due after it never runs. */
  private retry(failure: RefreshFailure): void {
    if (this.expiryTimer === undefined) return;
    const delayMs = refreshRetryDelayMs(failure, {
      attempt: ++this.failures,
      ownsCallId: this.options.ownsCallId,
      random: this.options.random ?? Math.random
    });
    if (delayMs !== undefined) this.scheduleRefresh(Math.min(MAX_TIMER_MS, delayMs));
  }

  private clear(): void {
    if (this.refreshTimer !== undefined) this.clock.clearTimeout(this.refreshTimer);
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer);
    this.refreshTimer = undefined;
    this.expiryTimer = undefined;
  }
}
