/**
 * Merges the three ways a DTMF key press reaches a channel into one digit stream:
 * in-band tones found by the WASM Goertzel detector (ITU-T Q.24), RFC 4733 telephone-events
 * and SIP INFO (application/dtmf-relay). Peers often send a press two ways at once (RFC
 * 4733 plus the tone left in the audio, or INFO plus RFC 4733), and some switch from
 * in-band to RFC 4733 mid-call; the merger reports every press exactly once.
 *
 * Each source pushes one observation per key press, with its start and duration on the
 * merger's clock (`now`). The RTP layer folds an RFC 4733 event's updates and its three
 * end packets (RFC 4733 §2.5.1.4) into one press itself; INFO, which carries no
 * timestamp, may omit `startMs` and is stamped with its arrival time.
 *
 * The rule: an observation is the same press as an already reported one when the digit is
 * the same, its source has not yet contributed to that press, and their time spans come
 * within a window of each other: `mediaWindowMs` (default 60 ms) between in-band and RFC
 * 4733, which ride the same RTP stream and clock, so only detector latency separates them;
 * `windowMs` (default 200 ms) when SIP INFO is involved, which travels another path and may
 * be sent at the start or the end of the press. An INFO after a press seen only in the media
 * may come later still, `infoLateWindowMs` (default 1600 ms) past its end: over UDP an INFO whose
 * first copy was lost is sent again 500 ms later, then 1.5 s (RFC 3261 §17.1.2.2, T1 = 500 ms).
 * A source never duplicates itself, so two
 * genuine presses of the same digit from one source are always both reported; and a press
 * seen by a second source absorbs only one observation of that source, so "55" sent both
 * ways gives two digits. The only presses that can merge wrongly are two of the same digit
 * closer than the window, each seen by a different single source: a peer switching from
 * in-band to RFC 4733 between two presses of one digit less than 60 ms apart (below the
 * 40 ms tone + 40 ms pause minimum of ITU-T Q.24, so a human cannot). A digit is reported on
 * its first observation, for the lowest latency; the report names the source that saw it.
 *
 * New presses beyond the rate limit (digit-rate-limit.ts) are remembered, so their copies from
 * other sources still merge into them, but not reported.
 */
import { SafeEmitter } from '../../sip/index.js';
import { normaliseDtmfDigit, type DtmfDigit } from './dtmf-digit.js';
import { DigitRateLimit, type DigitRateLimitOptions } from './digit-rate-limit.js';

export type DtmfSource = 'inband' | 'rfc4733' | 'info';

export interface DtmfObservation {
  source: DtmfSource;
  digit: string;
  /** Start of the tone on the merger's clock; defaults to `now()` (INFO arrival). */
  startMs?: number;
  /** Tone length as far as known; 0 when not known yet. */
  durationMs?: number;
}

export interface MergedDigit {
  digit: DtmfDigit;
  /** The source that reported it first. */
  source: DtmfSource;
  startMs: number;
  durationMs: number;
}

/**
 * 'accepted': a new press, reported; 'limited': a new press over the rate limit, not reported;
 * 'duplicate': a press already seen; 'rejected': malformed; 'closed'.
 */
export type PushResult = 'accepted' | 'limited' | 'duplicate' | 'rejected' | 'closed';

export interface DigitMergerOptions {
  /** How far apart the spans of a SIP INFO observation and another may be and still be one press. Default 200 ms. */
  windowMs?: number;
  /** How long after the end of a press seen only in the media its SIP INFO may come (a resent one). Default 1600 ms. */
  infoLateWindowMs?: number;
  /** The same between in-band and RFC 4733 observations (one RTP stream). Default 60 ms. */
  mediaWindowMs?: number;
  /** How long a reported press is remembered after its end. Default 2000 ms. */
  historyMs?: number;
  /** Clock in ms, the one sources use for `startMs`. Default `performance.now`. */
  now?: () => number;
  /** How many new presses may be reported, per second and at once (digit-rate-limit.ts). */
  rateLimit?: DigitRateLimitOptions;
}

export interface DigitMergerStats {
  accepted: number;
  /** New presses not reported: over the rate limit. */
  limited: number;
  duplicates: number;
  rejected: number;
}

const SOURCES: ReadonlySet<string> = new Set<DtmfSource>(['inband', 'rfc4733', 'info']);

interface Press {
  digit: DtmfDigit;
  startMs: number;
  endMs: number;
  sources: Set<DtmfSource>;
}

/**
 * Presses remembered at most: a person keys at most about 12 a second (Q.24's 40 ms tone and
 * pause), 25 in the 2 s history. A peer that sends an RFC 4733 event with a new timestamp in
 * every packet made each one a press, and every push scanned them all: quadratic, most of a
 * core at 5,000 packets a second from one call.
 */
const MAX_PRESSES = 32;

export class DigitMerger extends SafeEmitter<{ digit: [MergedDigit] }> {
  readonly windowMs: number;
  readonly mediaWindowMs: number;
  readonly infoLateWindowMs: number;
  readonly historyMs: number;
  readonly #now: () => number;
  readonly #limit: DigitRateLimit;
  #presses: Press[] = [];
  #latestMs = -Infinity;
  #closed = false;
  readonly #stats: DigitMergerStats = { accepted: 0, limited: 0, duplicates: 0, rejected: 0 };

  constructor(options: DigitMergerOptions = {}) {
    super();
    const {
      windowMs = 200,
      mediaWindowMs = Math.min(60, windowMs),
      infoLateWindowMs = Math.max(1600, windowMs),
      historyMs = Math.max(2000, infoLateWindowMs),
      now = () => performance.now()
    } = options;
    if (!Number.isFinite(windowMs) || windowMs < 0)
      throw new RangeError(`windowMs must be a non-negative number, got ${windowMs}`);
    if (!Number.isFinite(mediaWindowMs) || mediaWindowMs < 0) {
      throw new RangeError(`mediaWindowMs must be a non-negative number, got ${mediaWindowMs}`);
    }
    if (!Number.isFinite(infoLateWindowMs) || infoLateWindowMs < windowMs) {
      throw new RangeError(
        `infoLateWindowMs must be a number at least windowMs (${windowMs}), got ${infoLateWindowMs}`
      );
    }
    this.infoLateWindowMs = infoLateWindowMs;
    const widest = Math.max(infoLateWindowMs, mediaWindowMs);
    if (!Number.isFinite(historyMs) || historyMs < widest) {
      throw new RangeError(
        `historyMs must be a number at least the widest window (${widest}), got ${historyMs}`
      );
    }
    this.mediaWindowMs = mediaWindowMs;
    if (typeof now !== 'function') throw new TypeError('now must be a function');
    this.windowMs = windowMs;
    this.historyMs = historyMs;
    this.#now = now;
    this.#limit = new DigitRateLimit(options.rateLimit);
  }

  get stats(): Readonly<DigitMergerStats> {
    return { ...this.#stats };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** New presses dropped over the rate limit since the sender was last quiet: 1 on the first of a burst. */
  get limitedInBurst(): number {
    return this.#limit.droppedSinceFull;
  }

  /** Presses remembered for merging (at most MAX_PRESSES). */
  get remembered(): number {
    return this.#presses.length;
  }

  /** Feeds one observation; malformed ones (from the network) are counted, never thrown. */
  push(observation: DtmfObservation): PushResult {
    if (this.#closed) return 'closed';
    const parsed = this.#parse(observation);
    if (parsed === undefined) {
      this.#stats.rejected++;
      return 'rejected';
    }
    const { source, digit, startMs, durationMs } = parsed;
    // Seen at least until now: after an event-loop stall, the end packets of a press whose start
    // came before it, and a SIP INFO sent during it, are all taken in only when it ends.
    const endMs = Math.max(startMs + durationMs, this.#now());
    this.#forget(startMs);
    const press = this.#match(digit, source, startMs, endMs);
    if (press !== undefined) {
      press.sources.add(source);
      press.startMs = Math.min(press.startMs, startMs);
      press.endMs = Math.max(press.endMs, endMs);
      this.#stats.duplicates++;
      return 'duplicate';
    }
    this.#presses.push({ digit, startMs, endMs, sources: new Set([source]) });
    if (this.#presses.length > MAX_PRESSES) this.#presses.shift();
    if (!this.#limit.take(this.#now())) {
      this.#stats.limited++;
      return 'limited';
    }
    this.#stats.accepted++;
    this.safeEmit('digit', { digit, source, startMs, durationMs });
    return 'accepted';
  }

  /** Forgets remembered presses; further pushes return 'closed'. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#presses = [];
    this.removeAllListeners();
  }

  #parse(
    observation: DtmfObservation
  ): { source: DtmfSource; digit: DtmfDigit; startMs: number; durationMs: number } | undefined {
    if (observation === null || typeof observation !== 'object') return undefined;
    const { source, startMs = this.#now(), durationMs = 0 } = observation;
    const digit = normaliseDtmfDigit(observation.digit);
    if (digit === undefined || !SOURCES.has(source)) return undefined;
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) return undefined;
    if (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs < 0) return undefined;
    return { source, digit, startMs, durationMs };
  }

  /** The nearest remembered press this observation belongs to, if any. */
  #match(digit: DtmfDigit, source: DtmfSource, startMs: number, endMs: number): Press | undefined {
    let best: Press | undefined;
    let bestDistance = Infinity;
    for (const press of this.#presses) {
      if (press.digit !== digit || press.sources.has(source)) continue;
      const window = source === 'info' || press.sources.has('info') ? this.windowMs : this.mediaWindowMs;
      // An INFO (stamped on arrival) may be a resent copy: late, never early.
      const lateWindow = source === 'info' ? this.infoLateWindowMs : window;
      if (startMs > press.endMs + lateWindow || endMs < press.startMs - window) continue;
      const distance = Math.abs(press.startMs - startMs);
      if (distance < bestDistance) {
        best = press;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** Drops presses that ended more than `historyMs` before the latest observation. */
  #forget(startMs: number): void {
    if (startMs > this.#latestMs) this.#latestMs = startMs;
    const horizon = this.#latestMs - this.historyMs;
    if (this.#presses.length > 0 && this.#presses[0].endMs < horizon) {
      this.#presses = this.#presses.filter((press) => press.endMs >= horizon);
    }
  }
}
