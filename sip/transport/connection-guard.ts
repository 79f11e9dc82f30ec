/**
 * Limits on stream connections (TCP now; TLS and WebSocket reuse it): how many in total and per
 * source address, how long one may sit idle, and how long a message may take to arrive once its
 * first byte has. It knows no sockets: a transport asks `admit()` for each accepted connection,
 * reports progress through the returned `GuardedConnection`, and closes the connection when
 * told to. Each closure is logged once, with the reason.
 */

export interface ConnectionLimits {
  /** Open connections at once, inbound and outbound together. Default 1024. */
  maxConnections: number;
  /** Open inbound connections from one source IP address. Default 64. */
  maxConnectionsPerSource: number;
  /** A connection with no bytes in either direction for this long is closed. Default 120 000 ms. */
  idleTimeoutMs: number;
  /**
   * Once the first byte of a message has arrived, the rest (head and body) must follow within
   * this time or the connection is closed: a sender trickling bytes cannot hold it open.
   * Default 10 000 ms.
   */
  messageDeadlineMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxConnections: 1024,
  maxConnectionsPerSource: 64,
  idleTimeoutMs: 120_000,
  messageDeadlineMs: 10_000
});

export type ConnectionCloseReason = 'idle' | 'message-deadline';

export interface ConnectionGuardStats {
  /** Connections refused because of `maxConnections`. */
  refusedTotal: number;
  /** Connections refused because of `maxConnectionsPerSource`. */
  refusedPerSource: number;
  closedIdle: number;
  closedDeadline: number;
  /** Connections closed at once because `refusesSource` refused their source (silent refusal). */
  refusedSource: number;
}

export type ConnectionGuardLog = (reason: string, details: object) => void;

export function resolveConnectionLimits(overrides: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits = { ...DEFAULT_CONNECTION_LIMITS };
  for (const key of Object.keys(DEFAULT_CONNECTION_LIMITS) as Array<keyof ConnectionLimits>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`connections.${key} must be a positive integer, got ${String(value)}`);
    limits[key] = value;
  }
  return limits;
}

/** Refusals are logged at most this often; the count in between is in the next line. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class ConnectionGuard {
  readonly limits: ConnectionLimits;
  readonly stats: ConnectionGuardStats = { refusedTotal: 0, refusedPerSource: 0, closedIdle: 0, closedDeadline: 0, refusedSource: 0 };
  /** Sources whose connections are closed unanswered (the user agent's silent source refusal). Not logged: a stranger is not news. */
  refusesSource: ((host: string) => boolean) | undefined;
  private readonly perSource = new Map<string, number>();
  private open = 0;
  private lastRefusalLogMs = -Infinity;
  private refusalsNotLogged = 0;

  constructor(
    limits: Partial<ConnectionLimits> = {},
    private readonly log: ConnectionGuardLog = () => {}
  ) {
    this.limits = resolveConnectionLimits(limits);
  }

  get openConnections(): number {
    return this.open;
  }

  /**
   * An accepted inbound connection from `host`: a handle to report its progress, or undefined
   * when a limit refuses it (the caller closes it at once; the refusal is logged here).
   */
  admit(host: string, remote: string, expire: (reason: ConnectionCloseReason) => void): GuardedConnection | undefined {
    if (this.refusesSource?.(host)) {
      this.stats.refusedSource++;
      return undefined;
    }
    if (this.open >= this.limits.maxConnections) {
      this.stats.refusedTotal++;
      this.logRefusal('connection refused: too many connections', { remote, limit: this.limits.maxConnections });
      return undefined;
    }
    const fromSource = this.perSource.get(host) ?? 0;
    if (fromSource >= this.limits.maxConnectionsPerSource) {
      this.stats.refusedPerSource++;
      this.logRefusal('connection refused: too many connections from this source', { remote, limit: this.limits.maxConnectionsPerSource });
      return undefined;
    }
    this.perSource.set(host, fromSource + 1);
    return this.track(host, remote, expire, true);
  }

  /** A connection we opened ourselves: counted and timed, never refused. */
  adoptOutbound(host: string, remote: string, expire: (reason: ConnectionCloseReason) => void): GuardedConnection {
    return this.track(host, remote, expire, false);
  }

  /** A flood of connections must not become a flood of log lines. */
  private logRefusal(reason: string, details: object): void {
    const now = performance.now();
    if (now - this.lastRefusalLogMs < REFUSAL_LOG_INTERVAL_MS) {
      this.refusalsNotLogged++;
      return;
    }
    this.log(reason, this.refusalsNotLogged > 0 ? { ...details, refusedSinceLastLog: this.refusalsNotLogged } : details);
    this.lastRefusalLogMs = now;
    this.refusalsNotLogged = 0;
  }

  private track(host: string, remote: string, expire: (reason: ConnectionCloseReason) => void, inbound: boolean): GuardedConnection {
    this.open++;
    return new GuardedConnection(this.limits, remote, (reason, bufferedBytes) => {
      if (reason === 'idle') this.stats.closedIdle++;
      else this.stats.closedDeadline++;
      this.log(reason === 'idle' ? 'connection closed: idle' : 'connection closed: message not complete in time', {
        remote,
        bufferedBytes,
        limitMs: reason === 'idle' ? this.limits.idleTimeoutMs : this.limits.messageDeadlineMs
      });
      expire(reason);
    }, () => {
      this.open--;
      if (!inbound) return;
      const left = (this.perSource.get(host) ?? 1) - 1;
      if (left > 0) this.perSource.set(host, left);
      else this.perSource.delete(host);
    });
  }
}

/** One connection's timers. `release()` when it closes, whatever closed it. */
export class GuardedConnection {
  private idleTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private bufferedBytes = 0;
  private released = false;

  constructor(
    private readonly limits: ConnectionLimits,
    readonly remote: string,
    private readonly expire: (reason: ConnectionCloseReason, bufferedBytes: number) => void,
    private readonly onRelease: () => void
  ) {
    this.idleTimer = setTimeout(() => this.fire('idle'), limits.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /**
   * Bytes moved (either direction). `bufferedBytes` is how much of an incomplete message is
   * held after the received bytes were framed, `messagesCompleted` how many whole messages the
   * bytes completed: the deadline runs from the first byte of each message until it is whole.
   */
  activity(bufferedBytes = this.bufferedBytes, messagesCompleted = 0): void {
    if (this.released) return;
    this.idleTimer?.refresh();
    this.bufferedBytes = bufferedBytes;
    if (bufferedBytes === 0) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    } else if (this.deadlineTimer === undefined) {
      this.deadlineTimer = setTimeout(() => this.fire('message-deadline'), this.limits.messageDeadlineMs);
      this.deadlineTimer.unref();
    } else if (messagesCompleted > 0) {
      this.deadlineTimer.refresh();
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadlineTimer);
    this.onRelease();
  }

  private fire(reason: ConnectionCloseReason): void {
    if (this.released) return;
    const buffered = this.bufferedBytes;
    this.release();
    this.expire(reason, buffered);
  }
}
