/**
 * The prompt cache: finished PCM keyed by everything that shaped it (text, engine, voice, rate,
 * pitch, sample rate; or a file's real path, size and modification time), bounded in bytes with
 * least-recently-used eviction. Concurrent requests for the same key share one production; audio
 * too large to cache (a long file) is shared with later requests for as long as anyone holds it.
 * Cached arrays are shared by every caller: treat them as read-only.
 */
import { TtsError } from './errors.js';

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

/**
 * What an entry weighs: its audio, or its key if that is larger (UTF-16, 2 bytes a character).
 * A key holds the whole text: 4000 characters a voice says nothing for (Cyrillic to Flite, lone
 * surrogates, JSON-escaped to 6 characters each) weighed 1024 bytes and held 8 to 46 kB each.
 */
function weight(key: string, pcm: Int16Array): number {
  return Math.max(pcm.byteLength, MIN_ENTRY_BYTES, 2 * key.length);
}

/** One production under way, shared by every request for its key. */
interface Production {
  promise: Promise<Int16Array>;
  /** Requests waiting for it; when the last with a signal gives up and none is left, it is abandoned. */
  waiters: number;
  abandon: AbortController;
  /** Takes it out of the in-flight table: a request that comes after its abandonment starts afresh. */
  forget(): void;
}

export class PromptCache {
  /** A Map iterates in insertion order: re-inserting on use keeps the least recently used first. */
  private readonly entries = new Map<string, Int16Array>();
  private readonly inFlight = new Map<string, Production>();
  /**
   * Audio too large for the cache, while anyone holds it. An hour of hold music (57.6 MB at
   * 8 kHz) is: each caller put on hold a moment after the last decoded the file again and held
   * a copy of its own, six callers 420 MB more.
   */
  private readonly live = new Map<string, WeakRef<Int16Array>>();
  private readonly collected = new FinalizationRegistry<string>((key) => {
    if (this.live.get(key)?.deref() === undefined) this.live.delete(key);
  });
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(private readonly maxBytes: number) {
    if (!Number.isFinite(maxBytes) || maxBytes < 0)
      throw new RangeError(`cacheBytes must be a non-negative number, got ${maxBytes}`);
  }

  /**
   * The cached audio for `key`, or the result of `produce()` (stored if it fits). A request that
   * joins a production already under way counts as a hit: it costs no synthesis. A request whose
   * `signal` aborts stops waiting (`ERR_ABANDONED`); once every request has, the production's own
   * signal aborts, so a synthesis nobody waits for any more need not run.
   */
  get(
    key: string,
    produce: (signal: AbortSignal) => Promise<Int16Array>,
    signal?: AbortSignal
  ): Promise<Int16Array> {
    const cached = this.entries.get(key);
    if (cached) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, cached);
      return Promise.resolve(cached);
    }
    const held = this.live.get(key)?.deref();
    if (held) {
      this.hits++;
      return Promise.resolve(held);
    }
    let production = this.inFlight.get(key);
    if (production) this.hits++;
    else {
      this.misses++;
      const abandon = new AbortController();
      // Runs once the production settles (or is abandoned): `promise` is its own by then.
      const forget = (): void => {
        if (this.inFlight.get(key)?.promise === promise) this.inFlight.delete(key);
      };
      const promise = produce(abandon.signal).then(
        (pcm) => {
          forget();
          this.store(key, pcm);
          return pcm;
        },
        (error: unknown) => {
          forget();
          throw error;
        }
      );
      // Abandoned by all, its failure is nobody's to handle.
      promise.catch(() => undefined);
      production = { promise, waiters: 0, abandon, forget };
      this.inFlight.set(key, production);
    }
    return waitFor(production, signal);
  }

  clear(): void {
    this.entries.clear();
    this.live.clear();
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
    if (weight(key, pcm) > this.maxBytes) {
      this.live.set(key, new WeakRef(pcm));
      this.collected.register(pcm, key);
      return;
    }
    this.entries.set(key, pcm);
    this.bytes += weight(key, pcm);
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= weight(oldKey, old);
    }
  }
}

/** `production`'s audio, or ERR_ABANDONED as soon as `signal` aborts. */
function waitFor(production: Production, signal: AbortSignal | undefined): Promise<Int16Array> {
  production.waiters++;
  if (!signal) return production.promise;
  return new Promise((resolve, reject) => {
    const leave = (): void => {
      if (--production.waiters === 0) {
        production.forget();
        production.abandon.abort();
      }
      reject(new TtsError('ERR_ABANDONED', 'the prompt was no longer waited for'));
    };
    if (signal.aborted) return leave();
    signal.addEventListener('abort', leave, { once: true });
    production.promise.then(
      (pcm) => {
        signal.removeEventListener('abort', leave);
        resolve(pcm);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', leave);
        reject(error);
      }
    );
  });
}
