/**
 * Prometheus series of the stream connection guard (TCP, TLS, WebSocket), of the per-source
 * datagram rate (UDP) and of the overload guard, read from their counters at scrape time:
 * refusals and closures by transport and reason, open connections, CRLF keep-alive pongs,
 * datagrams dropped, and whether the engine is refusing calls because it runs late. The guards
 * keep plain counters; nothing here runs outside a scrape.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  GUARDED_TRANSPORTS,
  type ConnectionGuardStats,
  type DatagramRateStats,
  type GuardedTransport
} from '../../sip/index.js';
import { exposeScrapedCounter } from './metric-cells.js';

/** What the user agent's ConnectionGuard counts; undefined before the engine starts. */
export interface ConnectionCounters {
  readonly statsByTransport: Readonly<Record<GuardedTransport, ConnectionGuardStats>>;
  readonly openByTransport: Readonly<Record<GuardedTransport, number>>;
}

/** The stable `reason` label of each guard counter, in the words of `uasmedia_sip_refusals_total`. */
const REFUSED: Array<[keyof ConnectionGuardStats, string]> = [
  ['refusedTotal', 'connections_total'],
  ['refusedPerSource', 'connections_per_source'],
  ['refusedRate', 'connection_rate_per_source'],
  ['refusedSource', 'source_denied']
];
const CLOSED: Array<[keyof ConnectionGuardStats, string]> = [
  ['closedIdle', 'idle'],
  ['closedDeadline', 'message_deadline'],
  ['closedPingTimeout', 'ping_timeout'],
  ['closedWriteQueue', 'write_queue']
];

function byTransportAndReason(
  registry: Registry,
  name: string,
  help: string,
  read: () => ConnectionCounters | undefined,
  reasons: Array<[keyof ConnectionGuardStats, string]>
): void {
  new Counter({
    name,
    help,
    labelNames: ['transport', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      const counters = read();
      for (const transport of GUARDED_TRANSPORTS)
        for (const [key, reason] of reasons)
          this.inc({ transport, reason }, counters?.statsByTransport[transport][key] ?? 0);
    }
  });
}

function byTransport(
  registry: Registry,
  name: string,
  help: string,
  value: (counters: ConnectionCounters | undefined, transport: GuardedTransport) => number,
  read: () => ConnectionCounters | undefined
): void {
  new Counter({
    name,
    help,
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      this.reset();
      const counters = read();
      for (const transport of GUARDED_TRANSPORTS) this.inc({ transport }, value(counters, transport));
    }
  });
}

export function exposeConnectionMetrics(
  registry: Registry,
  prefix: string,
  read: () => ConnectionCounters | undefined
): void {
  byTransportAndReason(
    registry,
    `${prefix}connections_refused_total`,
    'Stream connections (TCP, TLS, WebSocket) refused at accept, by transport and reason.',
    read,
    REFUSED
  );
  byTransportAndReason(
    registry,
    `${prefix}connections_closed_total`,
    'Stream connections closed by the guard (idle, message not complete in time, no pong), by transport and reason.',
    read,
    CLOSED
  );
  byTransport(
    registry,
    `${prefix}connections_rate_limited_total`,
    'Times a stream connection sent more messages a second than maxMessagesPerSecond and was read more slowly, by transport.',
    (c, t) => c?.statsByTransport[t].rateLimited ?? 0,
    read
  );
  byTransport(
    registry,
    `${prefix}keepalive_pongs_total`,
    'CRLF keep-alive pongs sent (RFC 5626), by transport.',
    (c, t) => c?.statsByTransport[t].keepalivePongs ?? 0,
    read
  );
  byTransport(
    registry,
    `${prefix}keepalive_pings_dropped_total`,
    'CRLF keep-alive pings left unanswered because they came faster than one a second, by transport.',
    (c, t) => c?.statsByTransport[t].keepalivePingsDropped ?? 0,
    read
  );
  new Counter({
    name: `${prefix}http_requests_refused_total`,
    help: 'HTTP requests on the WebSocket port answered 429: their source made more a second than maxHttpRequestsPerSecondPerSource.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read()?.statsByTransport.ws.refusedHttpRate ?? 0);
    }
  });
  new Gauge({
    name: `${prefix}connections_open`,
    help: 'Open stream connections (TCP, TLS, WebSocket and HTTP on its port), by transport.',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      const counters = read();
      for (const transport of GUARDED_TRANSPORTS)
        this.set({ transport }, counters?.openByTransport[transport] ?? 0);
    }
  });
}

/** `uasmedia_sip_datagrams_dropped_total` and `uasmedia_sip_datagram_rate_exceeded_total`, read from `read()` once per scrape. */
export function exposeDatagramMetrics(
  registry: Registry,
  prefix: string,
  read: () => DatagramRateStats | undefined
): void {
  exposeScrapedCounter(
    registry,
    `${prefix}sip_datagrams_dropped_total`,
    'SIP datagrams dropped unread because their source sent more than maxMessagesPerSecondPerSource.',
    () => read()?.dropped ?? 0
  );
  exposeScrapedCounter(
    registry,
    `${prefix}sip_datagram_rate_exceeded_total`,
    'Times a source went past maxMessagesPerSecondPerSource (once per episode).',
    () => read()?.episodes ?? 0
  );
}

/** The overload guard's state; undefined when the engine runs without one. */
export interface OverloadCounters {
  overloaded: boolean;
  /** Times the door closed since start. */
  engaged: number;
}

export function exposeOverloadMetrics(
  registry: Registry,
  prefix: string,
  read: () => OverloadCounters | undefined
): void {
  new Gauge({
    name: `${prefix}overloaded`,
    help: '1 while the overload guard refuses new calls (503) because the engine runs late, else 0.',
    registers: [registry],
    collect() {
      this.set(read()?.overloaded ? 1 : 0);
    }
  });
  exposeScrapedCounter(
    registry,
    `${prefix}overload_engaged_total`,
    'Times the overload guard started refusing new calls.',
    () => read()?.engaged ?? 0
  );
}
