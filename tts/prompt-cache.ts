/**
 * The prompt cache: finished PCM keyed by everything that shaped it (text, engine, voice, rate,
 * pitch, sample rate; or a file's real path, size and modification time), bounded in bytes with
 * least-recently-used eviction. Concurrent requests for the same key share one production.
 * Cached arrays are shared by every caller: treat them as read-only.
 */

export interface PromptCacheStats {
  cacheHits: number;
  cacheMisses: number;
  /** What the entries weigh: their audio, and at least MIN_ENTRY_BYTES each. */
  cacheBytes: number;
  cacheEntries: number;
}

/**
 * The least an entry weighs: text a voice cannot speak (a name in another script) synthesises to
 * no samples, and entries of 0 bytes never made the cache evict, one more per distinct text.
 */
const MIN_ENTRY_BYTES = 1024;

function weight(pcm: Int16Array): number {
  return Math.max(pcm.byteLength, MIN_ENTRY_BYTES);
}

export class PromptCache {
  /** A Map iterates in insertion order: re-inserting on use keeps the least recently used first. */
  private readonly entries = new Map<string, Int16Array>();
  private readonly inFlight = new Map<string, Promise<Int16Array>>();
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(private readonly maxBytes: number) {
    if (!Number.isFinite(maxBytes) || maxBytes < 0)
      throw new RangeError(`cacheBytes must be a non-negative number, got ${maxBytes}`);
  }

  /**
   * The cached audio for `key`, or the result of `produce()` (stored if it fits). A request that
   * joins a production already under way counts as a hit: it costs no synthesis.
   */
  get(key: string, produce: () => Promise<Int16Array>): Promise<Int16Array> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, cached);
      return Promise.resolve(cached);
    }
    const running = this.inFlight.get(key);
    if (running) {
      this.hits++;
      return running;
    }
    this.misses++;
    const production = produce().then(
      (pcm) => {
        this.inFlight.delete(key);
        this.store(key, pcm);
        return pcm;
      },
      (error: unknown) => {
        this.inFlight.delete(key);
        throw error;
      }
    );
    this.inFlight.set(key, production);
    return production;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  stats(): PromptCacheStats {
    return {
      cacheHits: this.hits,
      cacheMisses: this.misses,
      cacheBytes: this.bytes,
      cacheEntries: this.entries.size
    };
  }

  private store(key: string, pcm: Int16Array): void {
    if (weight(pcm) > this.maxBytes) return;
    this.entries.set(key, pcm);
    this.bytes += weight(pcm);
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= weight(old);
    }
  }
}
