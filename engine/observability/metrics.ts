/**
 * The engine's Prometheus metrics: calls, rooms, parties, frame-clock lateness and frame
 * processing time, RTP packets in/out/lost/late and jitter, DTMF digits by source (and those
 * dropped over the rate limit), TTS cache hits and misses. Each `EngineMetrics` has its own
 * prom-client `Registry` (never the global default), so two engines in one process never collide.
 *
 * The media path updates cells that never allocate (`metrics.rtp.packetsIn.inc()`,
 * `metrics.frameLatenessMs.observe(ms)`, `metrics.dtmf.inband.inc()`); prom-client reads them
 * when scraped (see metric-cells.ts). Histograms are in milliseconds, as the names say.
 */
import { Gauge, Registry } from 'prom-client';
import type { ResourceCounts } from './resources.js';
import {
  exposeConnectionMetrics,
  exposeDatagramMetrics,
  exposeOverloadMetrics,
  type ConnectionCounters,
  type OverloadCounters
} from './connection-metrics.js';
import { ClosedError } from '../errors.js';
import { REFUSAL_CAUSES, type DatagramRateStats, type RefusalCause } from '../../sip/index.js';
import {
  CounterCell,
  GaugeCell,
  HistogramCell,
  exposeCounter,
  exposeGauge,
  exposeHistogram,
  exposeLabelledCounter,
  exposeScrapedCounter
} from './metric-cells.js';

export { CounterCell, GaugeCell, HistogramCell } from './metric-cells.js';

/** Where a DTMF digit came from: in-band tones, RFC 4733 telephone-events, or SIP INFO. */
export type DtmfSource = 'inband' | 'rfc4733' | 'info';

export interface EngineMetricsOptions {
  /** Prefix of every metric name. Default `uasmedia_`. */
  prefix?: string;
  /** Labels added to every series, e.g. `{ host: 'edge-1' }`. */
  defaultLabels?: Record<string, string>;
}

/** Bucket upper bounds in ms: the 20 ms frame clock is late by well under a frame, or it is in trouble. */
export const FRAME_LATENESS_BUCKETS_MS = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 40];
/** Bucket upper bounds in ms for the work of one frame tick (the budget is 20 ms). */
export const FRAME_PROCESSING_BUCKETS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20];
/** Bucket upper bounds in ms for RFC 3550 interarrival jitter. */
export const JITTER_BUCKETS_MS = [1, 2, 5, 10, 20, 30, 50, 100, 200];

/** The cell of a known source only: `source` may come from the network. */
function sourceCell(
  cells: Readonly<Record<DtmfSource, CounterCell>>,
  source: DtmfSource
): CounterCell | undefined {
  switch (source) {
    case 'inband':
      return cells.inband;
    case 'rfc4733':
      return cells.rfc4733;
    case 'info':
      return cells.info;
    default:
      return undefined;
  }
}

export class EngineMetrics {
  readonly registry: Registry;
  readonly activeCalls = new GaugeCell();
  readonly rooms = new GaugeCell();
  readonly parties = new GaugeCell();
  /** How late each frame-clock tick ran, in ms. */
  readonly frameLatenessMs = new HistogramCell(FRAME_LATENESS_BUCKETS_MS);
  /** Time spent processing one frame tick, in ms. */
  readonly frameProcessingMs = new HistogramCell(FRAME_PROCESSING_BUCKETS_MS);
  /** Interarrival jitter estimates (RFC 3550 section 6.4.1), in ms. */
  readonly jitterMs = new HistogramCell(JITTER_BUCKETS_MS);
  readonly rtp = {
    packetsIn: new CounterCell(),
    packetsOut: new CounterCell(),
    /** Packets never received (sequence gaps that were not filled). */
    lost: new CounterCell(),
    /** Packets that arrived after their playout time and were dropped. */
    late: new CounterCell(),
    /** RTP/RTCP packets from a source that is not the call's peer, dropped unread. */
    strangers: new CounterCell()
  } as const;
  readonly dtmf: Readonly<Record<DtmfSource, CounterCell>> = {
    inband: new CounterCell(),
    rfc4733: new CounterCell(),
    info: new CounterCell()
  };
  /** DTMF digits dropped because a call sent them faster than `dtmfRateLimit` lets through. */
  readonly dtmfDropped: Readonly<Record<DtmfSource, CounterCell>> = {
    inband: new CounterCell(),
    rfc4733: new CounterCell(),
    info: new CounterCell()
  };
  readonly tts = { cacheHits: new CounterCell(), cacheMisses: new CounterCell() } as const;
  /**
   * Called as a scrape reads the `tts` counters, to bring them up to date first: the prompt
   * cache counts on its own, and nothing else copies its counts (the frame clock sleeps when idle).
   */
  beforeTtsScrape: (() => void) | undefined;
  private readonly prefix: string;
  /** SIP requests refused at the door (source lists, limits, overload, authentication), by cause. */
  readonly sipRefusals = Object.fromEntries(
    REFUSAL_CAUSES.map((cause) => [cause, new CounterCell()])
  ) as Readonly<Record<RefusalCause, CounterCell>>;
  /** RTP and RTCP packets dropped because their source is not allowed to send media. */
  readonly rtpRefusedSource = new CounterCell();
  /** Sources locked out for too many wrong digest answers (each lock once; its refusals are `auth_locked`). */
  readonly sipAuthLockouts = new CounterCell();
  /** Accounts locked against unknown sources for too many wrong digest answers (each lock once). */
  readonly sipAuthAccountLockouts = new CounterCell();
  /** Answered calls whose ACK never came, ended early to make room for a new call while full. */
  readonly sipUnacknowledgedDropped = new CounterCell();
  /** Answered calls whose ACK never came in 64*T1, ended with BYE (RFC 3261 §13.3.1.4). */
  readonly sipAckTimeouts = new CounterCell();
  /** New INVITEs refused for an offer the engine cannot answer (488, 415, 400). */
  readonly sipOffersRefused = new CounterCell();
  private closed = false;

  constructor(options: EngineMetricsOptions = {}) {
    const p = (this.prefix = options.prefix ?? 'uasmedia_');
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(`${p}x`)) {
      throw new RangeError(`metrics prefix '${p}' must match [a-zA-Z_:][a-zA-Z0-9_:]*`);
    }
    const r = (this.registry = new Registry());
    if (options.defaultLabels) r.setDefaultLabels(options.defaultLabels);
    exposeGauge(
      r,
      `${p}active_calls`,
      'Calls in progress: SIP dialogs (a caller in a conference counts once).',
      this.activeCalls
    );
    exposeGauge(r, `${p}rooms`, 'Conference rooms that exist.', this.rooms);
    exposeGauge(r, `${p}parties`, 'Parties in conference rooms.', this.parties);
    exposeHistogram(
      r,
      `${p}frame_lateness_ms`,
      'How late each 20 ms frame-clock tick ran, in ms.',
      this.frameLatenessMs
    );
    exposeHistogram(
      r,
      `${p}frame_processing_ms`,
      'Time spent processing one frame tick, in ms.',
      this.frameProcessingMs
    );
    exposeHistogram(
      r,
      `${p}rtp_jitter_ms`,
      'RTP interarrival jitter estimates (RFC 3550), in ms.',
      this.jitterMs
    );
    exposeCounter(r, `${p}rtp_packets_in_total`, 'RTP packets received.', this.rtp.packetsIn);
    exposeCounter(r, `${p}rtp_packets_out_total`, 'RTP packets sent.', this.rtp.packetsOut);
    exposeCounter(r, `${p}rtp_packets_lost_total`, 'RTP packets lost (never received).', this.rtp.lost);
    exposeCounter(
      r,
      `${p}rtp_packets_late_total`,
      'RTP packets that arrived too late to play.',
      this.rtp.late
    );
    exposeCounter(
      r,
      `${p}rtp_packets_from_strangers_total`,
      "RTP/RTCP packets dropped because they came from a source that is not the call's peer.",
      this.rtp.strangers
    );
    exposeLabelledCounter(
      r,
      `${p}dtmf_digits_total`,
      'DTMF digits received, by source.',
      'source',
      this.dtmf
    );
    exposeLabelledCounter(
      r,
      `${p}dtmf_digits_dropped_total`,
      'DTMF digits dropped because a call sent them faster than the rate limit, by source.',
      'source',
      this.dtmfDropped
    );
    exposeLabelledCounter(
      r,
      `${p}sip_refusals_total`,
      'SIP requests refused at the door, by reason.',
      'reason',
      this.sipRefusals
    );
    exposeCounter(
      r,
      `${p}sip_auth_lockouts_total`,
      'Sources locked out for too many wrong digest answers.',
      this.sipAuthLockouts
    );
    exposeCounter(
      r,
      `${p}sip_auth_account_lockouts_total`,
      'Accounts locked against sources they do not know for too many wrong digest answers.',
      this.sipAuthAccountLockouts
    );
    exposeCounter(
      r,
      `${p}sip_unacknowledged_calls_dropped_total`,
      'Answered calls whose ACK had not come after 2*T1, ended to make room for a new call while full.',
      this.sipUnacknowledgedDropped
    );
    exposeCounter(
      r,
      `${p}sip_ack_timeouts_total`,
      'Answered calls whose ACK never came in 64*T1, ended with BYE (RFC 3261 §13.3.1.4).',
      this.sipAckTimeouts
    );
    exposeCounter(
      r,
      `${p}sip_offers_refused_total`,
      'New INVITEs refused for an offer the engine cannot answer (488, 415, 400).',
      this.sipOffersRefused
    );
    exposeCounter(
      r,
      `${p}rtp_packets_refused_source_total`,
      'RTP/RTCP packets dropped: source not allowed.',
      this.rtpRefusedSource
    );
    const tts = (cell: CounterCell) => (): number => {
      this.beforeTtsScrape?.();
      return cell.value;
    };
    exposeScrapedCounter(
      r,
      `${p}tts_cache_hits_total`,
      'Text-to-speech prompts served from the cache.',
      tts(this.tts.cacheHits)
    );
    exposeScrapedCounter(
      r,
      `${p}tts_cache_misses_total`,
      'Text-to-speech prompts that had to be synthesized.',
      tts(this.tts.cacheMisses)
    );
  }

  /**
   * Gauges of what the engine holds (`uasmedia_open_fds`, `uasmedia_rtp_port_pairs` ...), read
   * from `read()` once per scrape.
   */
  exposeResources(read: () => ResourceCounts): void {
    const p = this.prefix;
    let snapshot: ResourceCounts | undefined;
    const gauges: Array<[keyof ResourceCounts, string, string]> = [
      ['openDescriptors', 'open_fds', 'Open file descriptors of the process.'],
      ['rtpPortPairs', 'rtp_port_pairs', 'RTP/RTCP port pairs bound for calls.'],
      ['partySlots', 'dsp_party_slots', 'DSP party slots in use.'],
      ['roomSlots', 'dsp_room_slots', 'DSP room slots in use (conferences and calls on their own).'],
      [
        'channels',
        'channels',
        "Channels with a call: a caller in a conference is two (its own and its transfer's leg)."
      ],
      ['timers', 'timers', 'Active referenced timers of the process.'],
      ['workers', 'tts_workers', 'Speech synthesis worker threads.'],
      [
        'speechPending',
        'tts_pending',
        'Speech and prompt-file requests waiting for a worker or in its hands.'
      ]
    ];
    for (const [key, name, help] of gauges) {
      new Gauge({
        name: `${p}${name}`,
        help,
        registers: [this.registry],
        collect() {
          // The first gauge collected takes a fresh snapshot; the others of the same scrape reuse it.
          if (key === 'openDescriptors' || !snapshot) snapshot = read();
          this.set(snapshot[key]);
        }
      });
    }
  }

  /**
   * Counters of the stream connection guard by transport and reason
   * (`uasmedia_connections_refused_total`, `uasmedia_connections_closed_total` ...), read from
   * `read()` once per scrape.
   */
  exposeConnections(read: () => ConnectionCounters | undefined): void {
    exposeConnectionMetrics(this.registry, this.prefix, read);
  }

  /** What the per-source datagram rate dropped over UDP, read from `read()` once per scrape. */
  exposeDatagrams(read: () => DatagramRateStats | undefined): void {
    exposeDatagramMetrics(this.registry, this.prefix, read);
  }

  /** `uasmedia_overloaded` and `uasmedia_overload_engaged_total`, read from `read()` once per scrape. */
  exposeOverload(read: () => OverloadCounters | undefined): void {
    exposeOverloadMetrics(this.registry, this.prefix, read);
  }

  /** Counts one DTMF digit from `source` (same as `dtmf[source].inc()`); an unknown source is ignored. */
  dtmfDigit(source: DtmfSource): void {
    sourceCell(this.dtmf, source)?.inc();
  }

  /** Counts one DTMF digit from `source` dropped over the rate limit; an unknown source is ignored. */
  dtmfDigitDropped(source: DtmfSource): void {
    sourceCell(this.dtmfDropped, source)?.inc();
  }

  /** The Prometheus text exposition of every metric. */
  async metrics(): Promise<string> {
    if (this.closed) throw new ClosedError('EngineMetrics');
    return this.registry.metrics();
  }

  /** Content-Type of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Unregisters every metric. Idempotent; the cells keep working, nothing reads them. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.registry.clear();
  }
}
