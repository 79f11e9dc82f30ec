/**
 * Limits on stream connections (TCP, TLS and WebSocket share one guard): how many in total and
 * per source address, how long one may sit idle, how long a message may take to arrive once its
 * first byte has (an accepted connection's first message: once it is accepted), and how many
 * messages a second it may hand to the SIP stack (message-pacer.ts). It knows no sockets: a transport asks `admit()` for each accepted
 * connection, reports progress through the returned `GuardedConnection`, and closes the
 * connection when told to. Each closure is logged once, with the reason. Its counters, per
 * transport, are what the engine's metrics export.
 */
import { sourceKey } from '../admission/source-key.js';
import { KeyedTokenBuckets } from '../admission/token-bucket.js';
import { MessagePacer, type SharedBudget } from './message-pacer.js';
import { SourceBudget } from './source-budget.js';

export interface ConnectionLimits {
  /** Open connections at once, inbound and outbound together. Default 1024. */
  maxConnections: number;
  /** Open inbound connections from one source: an IPv4 address or an IPv6 /64. Default 64. */
  maxConnectionsPerSource: number;
  /**
   * New inbound connections one source may open per second, on average; past that (and
   * `connectionBurst`) they are refused at accept, before any TLS handshake. A full handshake
   * costs the event loop that runs the media about a millisecond: one source making them as
   * fast as it could took 80 % of the core and made 6 % of frame ticks late. Default 20.
   */
  maxConnectionsPerSecondPerSource: number;
  /** New connections a source may open at once above `maxConnectionsPerSecondPerSource` (an office behind one NAT starting up). Default 100. */
  connectionBurst: number;
  /**
   * A connection with no bytes in either direction for this long is closed, once its first
   * message has come (before that `messageDeadlineMs` applies); one a call runs over (its INVITE
   * or its 2xx came on it) is sent an RFC 5626 keep-alive ping instead while the call lasts.
   * Default 120 000 ms.
   */
  idleTimeoutMs: number;
  /**
   * Once the first byte of a message has arrived, the rest (head and body) must follow within
   * this time or the connection is closed: a sender trickling bytes cannot hold it open.
   * An accepted connection's first message (TLS handshake included; on the WebSocket port its
   * HTTP request or upgrade) must be complete this long after the accept: connections that
   * never send cannot fill the budget. Default 10 000 ms.
   */
  messageDeadlineMs: number;
  /**
   * WebSocket only: the server pings (RFC 6455 §5.5.2) every this many ms; a pong is activity,
   * so a browser that answers stays connected however long it is silent. Default 30 000 ms.
   */
  wsPingIntervalMs: number;
  /** WebSocket only: a peer that has not answered a ping within this time is closed. Default 10 000 ms. */
  wsPongTimeoutMs: number;
  /**
   * Bytes we may hold for one connection that its peer has not read yet. A peer that sends
   * requests and never reads the answers is closed once they pass this (Kamailio's
   * `tcp_conn_wq_max`). Default 262 144.
   */
  maxWriteQueueBytes: number;
  /**
   * Messages one connection may hand to the SIP stack per second, on average; past that (and
   * `messageBurst`) the connection is not read until the rate allows again, so TCP slows its
   * sender. Nothing is dropped. Default 500 (a trunk carrying many calls over one connection).
   */
  maxMessagesPerSecond: number;
  /** Messages a connection may send at once above `maxMessagesPerSecond`. Default 500. */
  messageBurst: number;
  /**
   * Messages one source (an IPv4 address or an IPv6 /64) may send per second, on average, over all
   * its connections and UDP together; past that (and `messageBurstPerSource`) its connections are
   * read more slowly and its datagrams are dropped unread (datagram-rate.ts). Default 1000: twice
   * a connection's, as a proxy or trunk in front brings every caller's messages from one address.
   */
  maxMessagesPerSecondPerSource: number;
  /** Messages a source may send at once above `maxMessagesPerSecondPerSource`. Default 2000. */
  messageBurstPerSource: number;
  /**
   * HTTP requests (the join page, not WebSocket upgrades) one source may make per second on the
   * WebSocket port, on average; past that (and `httpRequestBurstPerSource`) it is answered 429
   * and its connection closed. A browser loads the page with two or three. Default 20.
   */
  maxHttpRequestsPerSecondPerSource: number;
  /** HTTP requests a source may make at once above `maxHttpRequestsPerSecondPerSource`. Default 100. */
  httpRequestBurstPerSource: number;
}

export const DEFAULT_CONNECTION_LIMITS: Readonly<ConnectionLimits> = Object.freeze({
  maxConnections: 1024,
  maxConnectionsPerSource: 64,
  maxConnectionsPerSecondPerSource: 20,
  connectionBurst: 100,
  idleTimeoutMs: 120_000,
  messageDeadlineMs: 10_000,
  wsPingIntervalMs: 30_000,
  wsPongTimeoutMs: 10_000,
  maxWriteQueueBytes: 256 * 1024,
  maxMessagesPerSecond: 500,
  messageBurst: 500,
  maxMessagesPerSecondPerSource: 1000,
  messageBurstPerSource: 2000,
  maxHttpRequestsPerSecondPerSource: 20,
  httpRequestBurstPerSource: 100
});

/** The transports that share the guard; its counters are kept per transport. */
export const GUARDED_TRANSPORTS = ['tcp', 'tls', 'ws'] as const;
export type GuardedTransport = (typeof GUARDED_TRANSPORTS)[number];

export type ConnectionCloseReason = 'idle' | 'message-deadline' | 'ping-timeout' | 'write-queue';

/**
 * RFC 5626 §4.4.1 asks for a pong per ping; a peer sending pings faster than this gets one pong
 * per interval and the rest are dropped, so a stream of CRLFs cannot make us write without bound.
 */
export const KEEPALIVE_PONG_INTERVAL_MS = 1000;

export interface ConnectionGuardStats {
  /** Connections refused because of `maxConnections`. */
  refusedTotal: number;
  /** Connections refused because of `maxConnectionsPerSource`. */
  refusedPerSource: number;
  /** Connections refused because of `maxConnectionsPerSecondPerSource`. */
  refusedRate: number;
  closedIdle: number;
  closedDeadline: number;
  /** Connections closed at once because `refusesSource` refused their source (silent refusal). */
  refusedSource: number;
  /** WebSocket connections closed because the peer did not answer a ping in time. */
  closedPingTimeout: number;
  /** Connections closed because their peer left more than `maxWriteQueueBytes` unread. */
  closedWriteQueue: number;
  /** Times a connection went past `maxMessagesPerSecond` and was read more slowly (once per episode). */
  rateLimited: number;
  /** CRLF keep-alive pongs sent (RFC 5626 §4.4.1). */
  keepalivePongs: number;
  /** CRLF keep-alive pings not answered because they came faster than one per second. */
  keepalivePingsDropped: number;
  /** HTTP requests on the WebSocket port answered 429 because of `maxHttpRequestsPerSecondPerSource`. */
  refusedHttpRate: number;
}

function emptyStats(): ConnectionGuardStats {
  return {
    refusedTotal: 0,
    refusedPerSource: 0,
    refusedRate: 0,
    closedIdle: 0,
    closedDeadline: 0,
    refusedSource: 0,
    closedPingTimeout: 0,
    closedWriteQueue: 0,
    rateLimited: 0,
    keepalivePongs: 0,
    keepalivePingsDropped: 0,
    refusedHttpRate: 0
  };
}

export type ConnectionGuardLog = (reason: string, details: object) => void;

export function resolveConnectionLimits(overrides: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits = { ...DEFAULT_CONNECTION_LIMITS };
  for (const key of Object.keys(DEFAULT_CONNECTION_LIMITS) as Array<keyof ConnectionLimits>) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0)
      throw new RangeError(`connections.${key} must be a positive integer, got ${String(value)}`);
    limits[key] = value;
  }
  return limits;
}

/** Each kind of refusal or broken connection is logged at most this often; the count in between is in its next line. */
const THROTTLED_LOG_INTERVAL_MS = 10_000;

export class ConnectionGuard {
  readonly limits: ConnectionLimits;
  /** Every transport together. */
  readonly stats: ConnectionGuardStats = emptyStats();
  readonly statsByTransport: Readonly<Record<GuardedTransport, ConnectionGuardStats>> = {
    tcp: emptyStats(),
    tls: emptyStats(),
    ws: emptyStats()
  };
  private readonly openPerTransport: Record<GuardedTransport, number> = { tcp: 0, tls: 0, ws: 0 };
  /** Sources whose connections are closed unanswered (the user agent's silent source refusal). Not logged: a stranger is not news. */
  refusesSource: ((host: string) => boolean) | undefined;
  private readonly perSource = new Map<string, number>();
  private open = 0;
  /** Per reason: when it was last logged, and how many times it happened since without a line. */
  private readonly throttledLines = new Map<string, { loggedAtMs: number; notLogged: number }>();

  /** New connections per source (`maxConnectionsPerSecondPerSource`). */
  private readonly acceptRate: KeyedTokenBuckets;
  /** Messages per source, over its connections and UDP (`maxMessagesPerSecondPerSource`). */
  readonly sourceMessages: SourceBudget;
  /** HTTP requests per source on the WebSocket port (`maxHttpRequestsPerSecondPerSource`). */
  private readonly httpRequestRate: KeyedTokenBuckets;

  constructor(
    limits: Partial<ConnectionLimits> = {},
    private readonly log: ConnectionGuardLog = () => {}
  ) {
    this.limits = resolveConnectionLimits(limits);
    this.acceptRate = new KeyedTokenBuckets({
      ratePerSecond: this.limits.maxConnectionsPerSecondPerSource,
      burst: this.limits.connectionBurst
    });
    this.sourceMessages = new SourceBudget({
      ratePerSecond: this.limits.maxMessagesPerSecondPerSource,
      burst: this.limits.messageBurstPerSource
    });
    this.httpRequestRate = new KeyedTokenBuckets({
      ratePerSecond: this.limits.maxHttpRequestsPerSecondPerSource,
      burst: this.limits.httpRequestBurstPerSource
    });
  }

  /**
   * Whether `host` may have another HTTP request answered: one source fetching the join page over
   * eight keep-alive connections made 6,500 requests a second, took 40 % of the engine's core, and
   * its frame clock ran late enough for the overload guard to refuse calls for 20 s.
   */
  admitHttpRequest(host: string, remote: string): boolean {
    if (this.httpRequestRate.tryTake(sourceKey(host), performance.now())) return true;
    this.count('ws', 'refusedHttpRate');
    this.logThrottled('http request refused: this source makes requests too fast', {
      remote,
      limit: this.limits.maxHttpRequestsPerSecondPerSource,
      burst: this.limits.httpRequestBurstPerSource
    });
    return false;
  }

  get openConnections(): number {
    return this.open;
  }

  get openByTransport(): Readonly<Record<GuardedTransport, number>> {
    return this.openPerTransport;
  }

  /**
   * An accepted inbound connection from `host`: a handle to report its progress, or undefined
   * when a limit refuses it (the caller closes it at once; the refusal is logged here).
   */
  admit(
    host: string,
    remote: string,
    expire: (reason: ConnectionCloseReason) => void,
    transport: GuardedTransport = 'tcp'
  ): GuardedConnection | undefined {
    if (this.refusesSource?.(host)) {
      this.count(transport, 'refusedSource');
      return undefined;
    }
    if (this.open >= this.limits.maxConnections) {
      this.count(transport, 'refusedTotal');
      this.logThrottled('connection refused: too many connections', {
        transport,
        remote,
        limit: this.limits.maxConnections
      });
      return undefined;
    }
    const source = sourceKey(host);
    const fromSource = this.perSource.get(source) ?? 0;
    if (fromSource >= this.limits.maxConnectionsPerSource) {
      this.count(transport, 'refusedPerSource');
      this.logThrottled('connection refused: too many connections from this source', {
        transport,
        remote,
        limit: this.limits.maxConnectionsPerSource
      });
      return undefined;
    }
    if (!this.acceptRate.tryTake(source, performance.now())) {
      this.count(transport, 'refusedRate');
      this.logThrottled('connection refused: this source opens connections too fast', {
        transport,
        remote,
        limit: this.limits.maxConnectionsPerSecondPerSource,
        burst: this.limits.connectionBurst
      });
      return undefined;
    }
    this.perSource.set(source, fromSource + 1);
    return this.track(source, remote, expire, true, transport);
  }

  /** A connection we opened ourselves: counted and timed, never refused. */
  adoptOutbound(
    host: string,
    remote: string,
    expire: (reason: ConnectionCloseReason) => void,
    transport: GuardedTransport = 'tcp'
  ): GuardedConnection {
    return this.track(host, remote, expire, false, transport);
  }

  private count(transport: GuardedTransport, counter: keyof ConnectionGuardStats, n = 1): void {
    this.stats[counter] += n;
    this.statsByTransport[transport][counter] += n;
  }

  /**
   * A flood of connections must not become a flood of log lines: at most one line per `reason`
   * (a fixed text) per THROTTLED_LOG_INTERVAL_MS, with the count of those left out since.
   */
  logThrottled(reason: string, details: object): void {
    const now = performance.now();
    const last = this.throttledLines.get(reason);
    if (last !== undefined && now - last.loggedAtMs < THROTTLED_LOG_INTERVAL_MS) {
      last.notLogged++;
      return;
    }
    const notLogged = last?.notLogged ?? 0;
    this.log(reason, notLogged > 0 ? { ...details, sinceLastLine: notLogged } : details);
    this.throttledLines.set(reason, { loggedAtMs: now, notLogged: 0 });
  }

  private track(
    source: string,
    remote: string,
    expire: (reason: ConnectionCloseReason) => void,
    inbound: boolean,
    transport: GuardedTransport
  ): GuardedConnection {
    this.open++;
    this.openPerTransport[transport]++;
    return new GuardedConnection(
      this.limits,
      remote,
      {
        sourceBudget: { budget: this.sourceMessages, source: sourceKey(source) },
        expire: (reason, bufferedBytes) => {
          const { counter, message, limit } = CLOSURES[reason];
          this.count(transport, counter);
          this.log(message, { transport, remote, bufferedBytes, ...limit(this.limits) });
          expire(reason);
        },
        release: () => {
          this.open--;
          this.openPerTransport[transport]--;
          if (!inbound) return;
          const left = (this.perSource.get(source) ?? 1) - 1;
          if (left > 0) this.perSource.set(source, left);
          else this.perSource.delete(source);
        },
        count: (counter, n) => this.count(transport, counter, n),
        rateLimited: () => {
          this.count(transport, 'rateLimited');
          this.log('connection read more slowly: more messages per second than allowed', {
            transport,
            remote,
            limitPerSecond: this.limits.maxMessagesPerSecond,
            burst: this.limits.messageBurst
          });
        }
      },
      inbound
    );
  }
}

const CLOSURES: Record<
  ConnectionCloseReason,
  { counter: keyof ConnectionGuardStats; message: string; limit: (limits: ConnectionLimits) => object }
> = {
  idle: {
    counter: 'closedIdle',
    message: 'connection closed: idle',
    limit: (l) => ({ limitMs: l.idleTimeoutMs })
  },
  'message-deadline': {
    counter: 'closedDeadline',
    message: 'connection closed: message not complete in time',
    limit: (l) => ({ limitMs: l.messageDeadlineMs })
  },
  'ping-timeout': {
    counter: 'closedPingTimeout',
    message: 'connection closed: no pong to our ping',
    limit: (l) => ({ limitMs: l.wsPongTimeoutMs })
  },
  'write-queue': {
    counter: 'closedWriteQueue',
    message: 'connection closed: the peer does not read what we send',
    limit: (l) => ({ limitBytes: l.maxWriteQueueBytes })
  }
};

interface GuardedConnectionHooks {
  /** The messages per second of the connection's source, shared with its other connections. */
  readonly sourceBudget: SharedBudget;
  expire(reason: ConnectionCloseReason, bufferedBytes: number): void;
  release(): void;
  count(counter: keyof ConnectionGuardStats, n: number): void;
  rateLimited(): void;
}

/** One connection's timers and message pacing. `release()` when it closes, whatever closed it. */
export class GuardedConnection {
  private idleTimer?: NodeJS.Timeout;
  private deadlineTimer?: NodeJS.Timeout;
  private bufferedBytes = 0;
  private released = false;
  private lastPongMs = -Infinity;
  /** Inbound: no message has been completed yet, and the deadline has run since the accept. */
  private awaitingFirstMessage: boolean;
  /** We stopped reading (messages wait in the pacer): the deadline is not the peer's to meet. */
  private readingHeld = false;
  private pacer?: MessagePacer<never>;
  /** Calls that run over this connection: while there are any, it is never idle (`hold`). */
  private holds = 0;
  /** Writes an RFC 5626 keep-alive ping (CRLFCRLF) on the connection; set by its transport. */
  sendKeepAlive?: () => void;

  constructor(
    private readonly limits: ConnectionLimits,
    readonly remote: string,
    private readonly hooks: GuardedConnectionHooks,
    inbound = false
  ) {
    this.idleTimer = setTimeout(() => this.idle(), limits.idleTimeoutMs);
    this.idleTimer.unref();
    this.awaitingFirstMessage = inbound;
    if (inbound) this.startDeadline();
  }

  /**
   * The pacer between this connection's framed messages and `deliver` (the SIP stack): it calls
   * `pause` and `resume` to stop and restart reading the connection. Stopped on release.
   */
  pace<T>(deliver: (message: T) => void, pause: () => void, resume: () => void): MessagePacer<T> {
    const pacer = new MessagePacer<T>(
      { perSecond: this.limits.maxMessagesPerSecond, burst: this.limits.messageBurst },
      {
        deliver,
        pause: () => {
          this.holdReading(true);
          pause();
        },
        resume: () => {
          this.holdReading(false);
          resume();
        },
        rateLimited: () => {
          if (!this.released) this.hooks.rateLimited();
        }
      },
      undefined,
      this.hooks.sourceBudget
    );
    this.pacer?.stop();
    this.pacer = pacer as MessagePacer<never>;
    if (this.released) pacer.stop();
    return pacer;
  }

  private holdReading(held: boolean): void {
    this.readingHeld = held;
    if (this.released) return;
    if (held) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    } else if (this.bufferedBytes > 0) {
      this.startDeadline();
    }
  }

  private startDeadline(): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.fire('message-deadline'), this.limits.messageDeadlineMs);
    this.deadlineTimer.unref();
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
    if (this.awaitingFirstMessage) {
      // The deadline from the accept runs on until a message is whole: bytes alone (a TLS
      // handshake, CRLF pings, a trickle) do not stop it.
      if (messagesCompleted === 0) return;
      this.awaitingFirstMessage = false;
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
    if (this.readingHeld) return;
    if (bufferedBytes === 0) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    } else if (this.deadlineTimer === undefined) {
      this.startDeadline();
    } else if (messagesCompleted > 0) {
      this.deadlineTimer.refresh();
    }
  }

  /**
   * A call runs over this connection until the returned function is called. Meanwhile an idle
   * spell sends a keep-alive ping rather than closing it: a phone in an hour-long conference
   * sends nothing between its INVITE and its BYE, and closing its connection would leave our
   * BYE nowhere to go (its Contact may be behind NAT). The ping also keeps a NAT's mapping.
   */
  hold(): () => void {
    this.holds++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holds--;
    };
  }

  private idle(): void {
    if (this.holds > 0 && this.sendKeepAlive && !this.released) {
      this.sendKeepAlive();
      this.idleTimer?.refresh();
      return;
    }
    this.fire('idle');
  }

  /**
   * `pings` CRLF keep-alive pings arrived (RFC 5626 §4.4.1): whether to answer with one pong
   * now. At most one pong per `KEEPALIVE_PONG_INTERVAL_MS`; the other pings are dropped.
   */
  keepAlivePings(pings: number): boolean {
    if (this.released || pings <= 0) return false;
    const now = performance.now();
    const answer = now - this.lastPongMs >= KEEPALIVE_PONG_INTERVAL_MS;
    if (answer) {
      this.lastPongMs = now;
      this.hooks.count('keepalivePongs', 1);
    }
    if (pings > (answer ? 1 : 0)) this.hooks.count('keepalivePingsDropped', pings - (answer ? 1 : 0));
    return answer;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadlineTimer);
    this.pacer?.stop();
    this.hooks.release();
  }

  /**
   * Before writing: whether `queuedBytes` (what the connection holds unread by its peer) is over
   * the limit. If so the connection is closed as 'write-queue' and nothing should be written.
   */
  writeQueueFull(queuedBytes: number): boolean {
    if (this.released || queuedBytes <= this.limits.maxWriteQueueBytes) return false;
    this.fire('write-queue');
    return true;
  }

  /** Closes the connection for `reason` now (a deadline kept outside, such as the WebSocket pong's). */
  fire(reason: ConnectionCloseReason): void {
    if (this.released) return;
    const buffered = this.bufferedBytes;
    this.release();
    this.hooks.expire(reason, buffered);
  }
}
