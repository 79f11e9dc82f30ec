/**
 * How many browser peer connections a process sets up at once, and how many it holds.
 *
 * @roamhq/wrtc 0.10 has every peer connection still gathering ICE candidates gather again on
 * the sockets of each one made after it, and keeps them until ICE connects or fails: answered
 * side by side, the k-th of k offers ends up with k sets of sockets. Measured against one engine
 * (2026-12-07): 10 offers at once held 647 descriptors, 60 held 11,321, and one WebSocket
 * sending 34 offers of four audio sections each took 19,984 of its 20,000, after which
 * libwebrtc aborted the process (`Check failed: pipe(fds) == 0`), every call with it. So answers
 * take turns, one peer connection made and gathering at a time: 10 offers of four sections at
 * once then hold 470 descriptors, what 10 answered one after another hold (47 each); two at a
 * time held 1,110. Host candidates gather in tens of milliseconds (10 such offers are answered
 * within about 1.5 s); a STUN server that does not answer holds each turn for the gathering
 * timeout, which is a reason to give STUN servers only where they are needed. The native set-up
 * of a burst no longer runs in one event-loop turn either. A caller waits for its turn while
 * `MAX_WAITING` others do; past that, and past the most peer connections the process takes
 * (`maxPeerConnections`, by default what its open-file limit leaves room for), an answer is
 * refused (`WebRtcBusyError`: the call gets 503 with Retry-After).
 *
 * The waiting line is shared fairly: turns go round the sources that wait (an IPv4 address or
 * IPv6 /64 each), one answer of each in turn, and one source waits with at most
 * `MAX_WAITING_PER_SOURCE`, or `webrtc.maxPeerConnectionsPerSource` when that is given larger (a
 * front that does not name its callers); past it, 486 as for its share of peer connections. In one line, in
 * order, a source that hung up each call as soon as it was answered and called again kept 39
 * answers waiting: a browser from elsewhere waited 4.3 s for its answer, and two such sources
 * kept the line full, so every other browser's call got 503.
 */
import { readFileSync } from 'node:fs';
import { EngineError } from '../errors.js';

/** Answers whose peer connections are made and gather at the same time (see above). */
export const ANSWERS_AT_ONCE = 1;
/** Answers waiting for their turn; more are refused. */
export const MAX_WAITING = 64;
/** Answers of one source waiting for their turn (a browser makes one at a time); more are refused. */
export const MAX_WAITING_PER_SOURCE = 8;
/**
 * Descriptors one peer connection may hold while it gathers (four open audio sections measured
 * 48 when answered one after another; connected, about 20).
 */
const DESCRIPTORS_PER_PEER = 64;

/**
 * No browser peer connection can be taken now. `scope` 'process': the process holds or waits
 * for as many as it takes, and the call gets 503 with Retry-After. 'source': the caller's
 * address holds its share (`webrtc.maxPeerConnectionsPerSource`) and the call gets 486 Busy
 * Here, as over the per-source call ceiling: the engine is fine, and a proxy in front must not
 * mark it down for one source.
 */
export class WebRtcBusyError extends EngineError {
  /** When the caller may try again. */
  readonly retryAfterSeconds = 5;

  constructor(
    message: string,
    readonly scope: 'process' | 'source' = 'process'
  ) {
    super('ERR_WEBRTC_BUSY', message);
  }
}

let limitFromDescriptors: number | undefined;

/**
 * The default `maxPeerConnections`: half the process's open-file limit, at what a gathering
 * peer connection may hold (156 at the usual 20,000, 8 at 1,024).
 */
export function defaultMaxPeerConnections(): number {
  limitFromDescriptors ??= Math.max(1, Math.floor(openFilesLimit() / 2 / DESCRIPTORS_PER_PEER));
  return limitFromDescriptors;
}

function openFilesLimit(): number {
  try {
    // Linux: "Max open files            20000                20000                files".
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return Number(line[1]);
  } catch {
    // Not Linux: the diagnostic report has it (a few ms, once).
  }
  const report = process.report.getReport() as { userLimits?: { open_files?: { soft?: number | string } } };
  const soft = Number(report.userLimits?.open_files?.soft);
  return Number.isFinite(soft) && soft > 0 ? soft : 1024;
}

interface Waiter {
  go: () => void;
}

/** Turns of `ANSWERS_AT_ONCE` answers: round the sources that wait, each source's in the order they asked. */
export class PeerConnectionGate {
  #running = 0;
  /** Each waiting source's line; the Map's order is the round (the next turn is the first's). */
  readonly #waiting = new Map<string, Waiter[]>();
  #waitingCount = 0;

  constructor(
    readonly atOnce = ANSWERS_AT_ONCE,
    readonly maxWaiting = MAX_WAITING,
    readonly maxWaitingPerSource = MAX_WAITING_PER_SOURCE
  ) {}

  /** Answers running or waiting (for leak checks). */
  get pending(): number {
    return this.#running + this.#waitingCount;
  }

  /**
   * Waits for a turn of `source` (a source key: sip/admission/source-key.ts) and resolves with
   * its release (call it once, when the answer is done or failed). Refused at once when
   * `maxWaiting` already wait, or `sourceMaxWaiting` of this source (scope 'source'); rejects
   * with `abandoned()` if `signal` aborts while waiting.
   */
  turn(
    source: string,
    signal: AbortSignal | undefined,
    abandoned: () => Error,
    sourceMaxWaiting = this.maxWaitingPerSource
  ): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abandoned());
    if (this.#running < this.atOnce) return Promise.resolve(this.#take());
    if (this.#waitingCount >= this.maxWaiting) {
      return Promise.reject(
        new WebRtcBusyError(`${this.maxWaiting} browser calls already wait for their WebRTC answer`)
      );
    }
    const line = this.#waiting.get(source) ?? [];
    if (line.length >= sourceMaxWaiting) {
      return Promise.reject(
        new WebRtcBusyError(
          `${line.length} browser calls from ${source} already wait for their WebRTC answer`,
          'source'
        )
      );
    }
    return new Promise((resolve, reject) => {
      const entry: Waiter = {
        go: (): void => {
          signal?.removeEventListener('abort', abort);
          resolve(this.#take());
        }
      };
      const abort = (): void => {
        this.#leave(source, entry);
        reject(abandoned());
      };
      signal?.addEventListener('abort', abort, { once: true });
      line.push(entry);
      this.#waiting.set(source, line);
      this.#waitingCount++;
    });
  }

  #leave(source: string, entry: Waiter): void {
    const line = this.#waiting.get(source);
    const at = line?.indexOf(entry) ?? -1;
    if (!line || at < 0) return;
    line.splice(at, 1);
    this.#waitingCount--;
    if (line.length === 0) this.#waiting.delete(source);
  }

  /** The first waiting source's next answer, that source then going to the end of the round. */
  #next(): Waiter | undefined {
    const first = this.#waiting.entries().next();
    if (first.done) return undefined;
    const [source, line] = first.value;
    const entry = line.shift();
    this.#waitingCount--;
    this.#waiting.delete(source);
    if (line.length > 0) this.#waiting.set(source, line);
    return entry;
  }

  #take(): () => void {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#next()?.go();
    };
  }
}
