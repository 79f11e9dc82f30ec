/**
 * A channel's digit buffer and the spec's `getDigits` / `clearDigits`. Digits from the
 * merged stream (`DigitMerger`) are pushed in; `getDigits` takes them out, waiting as its
 * options say:
 *
 * - `clear` (default false): empty the buffer first, so only digits pressed from now count.
 * - `count`: finish once this many digits are collected.
 * - `end`: one or more digits; finish when one of them is pressed. It is included in the
 *   result, so the caller can tell "ended by #" from "timed out".
 * - `secondsPredigitsTimeout`: time allowed for the first digit (default: no limit).
 * - `secondsInterdigitTimeout` (default 5): time allowed after each digit for the next.
 * - `secondsTimeout`: time allowed for the whole collection (default: no limit).
 * - `signal`: aborting rejects with `signal.reason`; collected digits go back to the buffer.
 *
 * A timeout is not an error: the Promise resolves with the digits collected so far (maybe
 * ''). Digits beyond what a collection takes stay buffered for the next one. One
 * collection at a time; `close()` rejects a pending one with `ClosedError`.
 */
import { ClosedError, InvalidArgumentError, InvalidStateError } from '../errors.js';
import { globalScheduler, type Scheduler, type TimerHandle } from '../util/scheduler.js';
import { describe, normaliseDtmfDigit, parseDtmfDigit, type DtmfDigit } from './dtmf-digit.js';
import { checkSecondsTimeout } from '../util/seconds-timeout.js';

export interface GetDigitsOptions {
  clear?: boolean;
  count?: number;
  secondsPredigitsTimeout?: number | null;
  secondsInterdigitTimeout?: number | null;
  end?: string;
  secondsTimeout?: number | null;
  signal?: AbortSignal;
}

export interface DigitCollectorOptions {
  scheduler?: Scheduler;
  /** Buffered digits kept at most; the oldest are dropped beyond it. Default 128. */
  maxBuffered?: number;
}

interface Collection {
  collected: string;
  count: number | undefined;
  end: ReadonlySet<DtmfDigit>;
  interdigitMs: number | undefined;
  digitTimer: TimerHandle | undefined;
  overallTimer: TimerHandle | undefined;
  finish(): void;
  fail(error: unknown): void;
}

export class DigitCollector {
  readonly #scheduler: Scheduler;
  readonly #maxBuffered: number;
  #buffer = '';
  #dropped = 0;
  #collection: Collection | undefined;
  #closed = false;

  constructor(options: DigitCollectorOptions = {}) {
    const { scheduler = globalScheduler, maxBuffered = 128 } = options;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1)
      throw new RangeError(`maxBuffered must be a positive integer, got ${maxBuffered}`);
    this.#scheduler = scheduler;
    this.#maxBuffered = maxBuffered;
  }

  /** Digits pressed and not yet collected. */
  get buffered(): string {
    return this.#buffer;
  }

  /** Digits dropped because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  get collecting(): boolean {
    return this.#collection !== undefined;
  }

  /** Adds a pressed digit; anything that is not a DTMF digit is ignored (it came from the network). */
  push(digit: string): void {
    if (this.#closed) return;
    const normalised = normaliseDtmfDigit(digit);
    if (normalised === undefined) return;
    const collection = this.#collection;
    if (collection !== undefined) {
      this.#take(collection, normalised);
      return;
    }
    this.#buffer += normalised;
    if (this.#buffer.length > this.#maxBuffered) {
      this.#dropped += this.#buffer.length - this.#maxBuffered;
      this.#buffer = this.#buffer.slice(-this.#maxBuffered);
    }
  }

  /** Empties the buffer. */
  clearDigits(): void {
    this.#buffer = '';
  }

  getDigits(options: GetDigitsOptions = {}): Promise<string> {
    if (this.#closed) return Promise.reject(new ClosedError('digit collector'));
    if (this.#collection !== undefined) {
      return Promise.reject(
        new InvalidStateError('getDigits is already collecting digits on this channel', {
          state: 'collecting',
          expected: ['idle']
        })
      );
    }
    let parsed: ReturnType<typeof parseOptions>;
    try {
      parsed = parseOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (parsed.clear) this.#buffer = '';

    return new Promise<string>((resolve, reject) => {
      const onAbort = (): void => collection.fail(signal?.reason);
      const release = (): void => {
        collection.digitTimer?.cancel();
        collection.overallTimer?.cancel();
        signal?.removeEventListener('abort', onAbort);
        if (this.#collection === collection) this.#collection = undefined;
      };
      const collection: Collection = {
        collected: '',
        count: parsed.count,
        end: parsed.end,
        interdigitMs: parsed.interdigitMs,
        digitTimer: undefined,
        overallTimer: undefined,
        finish: () => {
          release();
          resolve(collection.collected);
        },
        fail: (error) => {
          release();
          this.#buffer = collection.collected + this.#buffer; // nothing pressed is lost, within the bound
          if (this.#buffer.length > this.#maxBuffered) {
            this.#dropped += this.#buffer.length - this.#maxBuffered;
            this.#buffer = this.#buffer.slice(this.#buffer.length - this.#maxBuffered);
          }
          reject(error);
        }
      };
      this.#collection = collection;
      signal?.addEventListener('abort', onAbort, { once: true });
      if (parsed.overallMs !== undefined)
        collection.overallTimer = this.#scheduler.schedule(parsed.overallMs, collection.finish);
      if (parsed.predigitMs !== undefined)
        collection.digitTimer = this.#scheduler.schedule(parsed.predigitMs, collection.finish);
      // Digits pressed before the call count first.
      while (this.#buffer.length > 0 && this.#collection === collection) {
        const digit = this.#buffer[0] as DtmfDigit;
        this.#buffer = this.#buffer.slice(1);
        this.#take(collection, digit);
      }
    });
  }

  /** Rejects a pending collection with `error` (the call ended); the collector stays usable. */
  cancel(error: Error): void {
    this.#collection?.fail(error);
  }

  /** Rejects a pending collection with `ClosedError` and drops the buffer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#collection?.fail(new ClosedError('digit collector'));
    this.#buffer = '';
  }

  #take(collection: Collection, digit: DtmfDigit): void {
    collection.collected += digit;
    if (
      collection.end.has(digit) ||
      (collection.count !== undefined && collection.collected.length >= collection.count) ||
      // No person keys this many: a flood of events ends the collection, not the memory.
      collection.collected.length >= this.#maxBuffered
    ) {
      collection.finish();
      return;
    }
    collection.digitTimer?.cancel();
    collection.digitTimer =
      collection.interdigitMs === undefined
        ? undefined
        : this.#scheduler.schedule(collection.interdigitMs, collection.finish);
  }
}

function parseOptions(options: GetDigitsOptions): {
  clear: boolean;
  count: number | undefined;
  end: ReadonlySet<DtmfDigit>;
  predigitMs: number | undefined;
  interdigitMs: number | undefined;
  overallMs: number | undefined;
} {
  if (options === null || typeof options !== 'object')
    throw new TypeError(`getDigits options must be an object, got ${describe(options)}`);
  const {
    clear = false,
    count,
    end,
    secondsPredigitsTimeout,
    secondsInterdigitTimeout = 5,
    secondsTimeout
  } = options;
  if (typeof clear !== 'boolean') throw new TypeError(`clear must be a boolean, got ${describe(clear)}`);
  if (count !== undefined && typeof count !== 'number')
    throw new TypeError(`count must be a number, got ${describe(count)}`);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
    throw new RangeError(`count must be a positive integer, got ${String(count)}`);
  }
  const endDigits = new Set<DtmfDigit>();
  if (end !== undefined) {
    if (typeof end !== 'string')
      throw new TypeError(`end must be a string of DTMF digits, got ${describe(end)}`);
    if (end.length === 0) throw new InvalidArgumentError('end', 'end must name at least one digit');
    for (const character of end) endDigits.add(parseDtmfDigit('end', character));
  }
  return {
    clear,
    count,
    end: endDigits,
    predigitMs: milliseconds('secondsPredigitsTimeout', secondsPredigitsTimeout),
    interdigitMs: milliseconds('secondsInterdigitTimeout', secondsInterdigitTimeout),
    overallMs: milliseconds('secondsTimeout', secondsTimeout)
  };
}

/** Seconds → ms; undefined/null means no limit. */
function milliseconds(name: string, seconds: number | null | undefined): number | undefined {
  checkSecondsTimeout(name, seconds, true);
  return seconds === undefined || seconds === null ? undefined : seconds * 1000;
}
