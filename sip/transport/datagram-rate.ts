/**
 * The per-source message rate (ConnectionLimits.maxMessagesPerSecondPerSource) for SIP over UDP,
 * as Kamailio's pike module keeps: past the rate after its burst, a source's datagrams are
 * dropped before they are parsed. The buckets are the ones its stream connections draw on too.
 * A stream connection is slowed instead (message-pacer.ts); a datagram cannot be, and every one
 * read costs the parse and an answer on the thread that also runs the media frame clock: one
 * source flooding OPTIONS used to hold a core with about 11,000 of them a second.
 * A source is an IPv4 address or an IPv6 /64 (source-key.ts). Each episode (a source going past
 * the rate, until its bucket has refilled) is reported once, not per datagram.
 */
import { performance } from 'node:perf_hooks';
import { sourceKey } from '../admission/source-key.js';
import type { KeyedTokenBuckets } from '../admission/token-bucket.js';

export interface DatagramRateStats {
  /** Datagrams dropped unread because their source was past its rate. */
  dropped: number;
  /** Times a source went past its rate (one per episode). */
  episodes: number;
}

/** Sources remembered in an episode: a flood from spoofed addresses costs bounded memory. */
const MAX_SOURCES = 100_000;

export class DatagramRate {
  readonly stats: DatagramRateStats = { dropped: 0, episodes: 0 };
  readonly #buckets: KeyedTokenBuckets;
  /** Source → its last dropped datagram (ms), least recently dropped first. */
  readonly #dropping = new Map<string, number>();
  /** How long a bucket takes to fill from empty: a source dropped nothing for this long starts a new episode. */
  readonly #refillMs: number;

  constructor(
    buckets: KeyedTokenBuckets,
    private readonly onEpisode: (source: string) => void,
    private readonly now: () => number = () => performance.now(),
    private readonly maxSources = MAX_SOURCES
  ) {
    this.#buckets = buckets;
    this.#refillMs = (1000 * buckets.burst) / buckets.ratePerSecond;
  }

  /** Whether a datagram from `host` may be read; counts it against the source's rate if so. */
  admit(host: string): boolean {
    const key = sourceKey(host);
    const nowMs = this.now();
    if (this.#buckets.tryTake(key, nowMs)) return true;
    this.stats.dropped++;
    const last = this.#dropping.get(key);
    if (last !== undefined) this.#dropping.delete(key);
    else if (this.#dropping.size >= this.maxSources)
      this.#dropping.delete(this.#dropping.keys().next().value!);
    this.#dropping.set(key, nowMs);
    if (last === undefined || nowMs - last >= this.#refillMs) {
      this.stats.episodes++;
      this.onEpisode(key);
    }
    return false;
  }
}
