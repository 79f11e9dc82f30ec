/**
 * A room's announcement source: whole announcements ("george" + "has joined") played one after
 * the other, never over each other, read out frame by frame by the engine's frame clock.
 *
 * Each announcement is a list of PCM parts at the room's rate, played as one continuous stream:
 * silence at the parts' outer edges is trimmed (synthesizers pad both ends) and a short, natural
 * gap is put between parts. `readFrame` runs once per tick while the room has something queued
 * (`onQueued` says when) and allocates nothing: it copies from the current part into the
 * caller's buffer (a view of WebAssembly memory).
 *
 * A room shared by several engines (a cluster) has one queue on each; a floor (`useFloor`) makes
 * them take turns: an announcement begins only once this engine holds the room's floor, and gives
 * it up when it ends, so announcements made on two engines at once play one after the other.
 */
import { ClosedError, EngineError } from '../errors.js';

export interface AnnouncementQueueOptions {
  sampleRateHz: number;
  /** Silence between the parts of one announcement (default 150 ms). */
  gapMs?: number;
  /** Silence between two announcements (default 300 ms). */
  pauseMs?: number;
  /** Trim near-silent samples from each part's start and end (default true). */
  trimSilence?: boolean;
  /** Announcements waiting or playing before `enqueue` rejects with `ERR_QUEUE_FULL` (default 32). */
  maxQueued?: number;
  /** Called when an announcement is queued: a frame loop may skip `readFrame` until then. */
  onQueued?: () => void;
}

export interface EnqueueOptions {
  /** Overrides the queue's gap between parts for this announcement. */
  gapMs?: number;
  /** Drops this announcement only, playing or waiting (`ERR_PROMPT_STOPPED`); the others play on. */
  signal?: AbortSignal;
  /** Called once, when the announcement's turn comes (before its first frame is read). */
  onStart?: () => void;
}

/**
 * Who may sound in a room shared with other engines. `take` answers at once whether this engine
 * holds the floor; when it does not, it asks (once) and calls `granted` when it does:
 * `afterOther` when another engine sounded meanwhile, whose last audio is still crossing to
 * this engine's listeners. `release` gives it up, or stops asking.
 */
export interface AnnouncementFloor {
  take(granted: (afterOther: boolean) => void): boolean;
  release(): void;
}

/** |sample| at or below this counts as silence when trimming (about -54 dBFS). */
const SILENCE_THRESHOLD = 64;
/** Kept either side of the first/last loud sample, so onsets and decays are not clipped. */
const TRIM_MARGIN_MS = 15;

interface Announcement {
  parts: Int16Array[];
  gapSamples: number;
  /** Index of the part being played; parts.length once all parts are done. */
  part: number;
  /** Next sample within the current part. */
  offset: number;
  /** Silence still to play before the next part (gap) or the next announcement (pause). */
  silence: number;
  /** Its first frame has been read. */
  started: boolean;
  onStart: (() => void) | undefined;
  resolve(): void;
  reject(error: EngineError): void;
}

/**
 * Each prompt's loud bounds, by its array: prompts are shared and read-only (the prompt cache gives
 * every caller the same one), and a quiet one is scanned whole on the frame clock's thread. Eight
 * calls starting an hour of near silence at once scanned it eight times and held the clock up for
 * 1.36 s; now once.
 */
const boundsOf = new WeakMap<Int16Array, { marginSamples: number; bounds: [number, number] }>();

function loudBounds(pcm: Int16Array, marginSamples: number): [number, number] {
  const known = boundsOf.get(pcm);
  if (known?.marginSamples === marginSamples) return known.bounds;
  const bounds = scanLoudBounds(pcm, marginSamples);
  boundsOf.set(pcm, { marginSamples, bounds });
  return bounds;
}

function scanLoudBounds(pcm: Int16Array, marginSamples: number): [number, number] {
  let start = 0;
  while (start < pcm.length && Math.abs(pcm[start]) <= SILENCE_THRESHOLD) start++;
  if (start === pcm.length) return [0, 0];
  let end = pcm.length;
  while (end > start && Math.abs(pcm[end - 1]) <= SILENCE_THRESHOLD) end--;
  return [Math.max(0, start - marginSamples), Math.min(pcm.length, end + marginSamples)];
}

export function stoppedError(): EngineError {
  return new EngineError('ERR_PROMPT_STOPPED', 'the announcement was stopped before it finished');
}

export class AnnouncementQueue {
  readonly sampleRateHz: number;
  private readonly gapMs: number;
  private readonly pauseSamples: number;
  private readonly trimSilence: boolean;
  private readonly maxQueued: number;
  private readonly onQueued: () => void;
  private readonly queue: Announcement[] = [];
  private closed = false;
  private floor: AnnouncementFloor | undefined;

  constructor(opts: AnnouncementQueueOptions) {
    if (!Number.isInteger(opts.sampleRateHz) || opts.sampleRateHz < 1000) {
      throw new RangeError(`sampleRateHz must be an integer of at least 1000, got ${opts.sampleRateHz}`);
    }
    this.sampleRateHz = opts.sampleRateHz;
    this.gapMs = opts.gapMs ?? 150;
    this.pauseSamples = Math.round(((opts.pauseMs ?? 300) * this.sampleRateHz) / 1000);
    this.trimSilence = opts.trimSilence ?? true;
    this.maxQueued = opts.maxQueued ?? 32;
    this.onQueued = opts.onQueued ?? (() => undefined);
  }

  /** True while an announcement is playing or waiting: `readFrame` will produce audio. */
  get playing(): boolean {
    return this.queue.length > 0;
  }

  /** Announcements playing or waiting. */
  get length(): number {
    return this.queue.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Plays only while holding `floor` from now on (undefined: no longer shared). */
  useFloor(floor: AnnouncementFloor | undefined): void {
    this.floor?.release();
    this.floor = floor;
    if (this.queue.length > 0) this.onQueued();
  }

  /** The floor came after `readFrame` found it taken: play on, after a pause if another engine sounded. */
  private readonly onFloor = (afterOther: boolean): void => {
    const current = this.queue[0];
    if (current === undefined) {
      this.floor?.release();
      return;
    }
    if (afterOther && !current.started) current.silence = Math.max(current.silence, this.pauseSamples);
    this.onQueued();
  };

  /**
   * Queues one announcement made of `parts` (PCM at `sampleRateHz`, not modified, not copied).
   * Resolves when it has been fully read out; rejects with `ERR_PROMPT_STOPPED` or `ERR_CLOSED` if dropped first
   * (an ignored rejection is not reported as unhandled).
   */
  enqueue(parts: Int16Array[], opts: EnqueueOptions = {}): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('the announcement queue'));
    const signal = opts.signal;
    if (signal?.aborted) return Promise.reject(stoppedError());
    if (!Array.isArray(parts) || parts.some((part) => !(part instanceof Int16Array))) {
      return Promise.reject(new TypeError('an announcement is an array of Int16Array parts'));
    }
    const gapMs = opts.gapMs ?? this.gapMs;
    if (!(gapMs >= 0 && gapMs <= 5000))
      return Promise.reject(new RangeError(`gapMs must be from 0 to 5000, got ${gapMs}`));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new EngineError(
          'ERR_QUEUE_FULL',
          `the announcement queue already holds ${this.maxQueued} announcements`
        )
      );
    }
    const margin = Math.round((TRIM_MARGIN_MS * this.sampleRateHz) / 1000);
    const trimmed: Int16Array[] = [];
    for (const part of parts) {
      const [start, end] = this.trimSilence ? loudBounds(part, margin) : [0, part.length];
      if (end > start) trimmed.push(start === 0 && end === part.length ? part : part.subarray(start, end));
    }
    if (trimmed.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => {
      const onAbort = (): void => this.drop(announcement);
      const announcement: Announcement = {
        parts: trimmed,
        gapSamples: Math.round((gapMs * this.sampleRateHz) / 1000),
        part: 0,
        offset: 0,
        // The first announcement starts at once; later ones after a pause.
        silence: this.queue.length === 0 ? 0 : this.pauseSamples,
        started: false,
        onStart: opts.onStart,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        }
      };
      this.queue.push(announcement);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // A caller that does not wait (fire-and-forget on a join) must not crash the process with an
    // unhandled rejection when a hang-up clears the queue; callers that await still see it.
    done.catch(() => undefined);
    this.onQueued();
    return done;
  }

  /**
   * Fills `target` (one frame) with announcement audio and returns true, or returns false and
   * leaves `target` untouched when there is nothing to play. Samples after an announcement's end
   * within the frame are zero. Allocates nothing.
   */
  readFrame(target: Int16Array): boolean {
    const current = this.queue[0];
    if (current === undefined) return false;
    // Its turn waits for the floor (onFloor wakes the frame loop then): no onStart before.
    if (!current.started && this.floor && !this.floor.take(this.onFloor)) return false;
    if (!current.started) {
      current.started = true;
      current.onStart?.();
    }
    let written = 0;
    const length = target.length;
    while (written < length) {
      if (current.silence > 0) {
        const n = Math.min(current.silence, length - written);
        target.fill(0, written, written + n);
        written += n;
        current.silence -= n;
        continue;
      }
      if (current.part === current.parts.length) break;
      const part = current.parts[current.part];
      const n = Math.min(part.length - current.offset, length - written);
      for (let i = 0; i < n; i++) target[written + i] = part[current.offset + i];
      written += n;
      current.offset += n;
      if (current.offset === part.length) {
        current.part++;
        current.offset = 0;
        if (current.part < current.parts.length) current.silence = current.gapSamples;
      }
    }
    if (written < length) target.fill(0, written, length);
    if (current.part === current.parts.length && current.silence === 0) {
      this.queue.shift();
      // Given up between announcements, so another engine waiting for it has its turn.
      this.floor?.release();
      current.resolve();
    }
    return true;
  }

  /** Drops the announcement playing and every waiting one (a hang-up, the room destroyed). */
  clear(): void {
    this.dropAll(stoppedError);
  }

  /** Clears the queue and refuses further announcements. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropAll(() => new ClosedError('the announcement queue'));
  }

  /** Drops one announcement, playing or waiting (its signal aborted); the next one follows on. */
  private drop(announcement: Announcement): void {
    const index = this.queue.indexOf(announcement);
    if (index === -1) return;
    this.queue.splice(index, 1);
    if (index === 0 && this.floor) {
      // It held the floor or waited for it: the next one asks anew (the frame loop may have stopped).
      this.floor.release();
      if (this.queue.length > 0) this.onQueued();
    }
    announcement.reject(stoppedError());
  }

  private dropAll(makeError: () => EngineError): void {
    this.floor?.release();
    const dropped = this.queue.splice(0, this.queue.length);
    for (const announcement of dropped) announcement.reject(makeError());
  }
}
