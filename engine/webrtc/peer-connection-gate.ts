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
 */
import { readFileSync } from 'node:fs';
import { EngineError } from '../errors.js';

/** Answers whose peer connections are made and gather at the same time (see above). */
export const ANSWERS_AT_ONCE = 1;
/** Answers waiting for their turn; more are refused. */
export const MAX_WAITING = 64;
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

/** Turns of `ANSWERS_AT_ONCE` answers, in the order they asked. */
export class PeerConnectionGate {
  #running = 0;
  readonly #waiting: Array<{ go: () => void }> = [];

  constructor(
    readonly atOnce = ANSWERS_AT_ONCE,
    readonly maxWaiting = MAX_WAITING
  ) {}

  /** Answers running or waiting (for leak checks). */
  get pending(): number {
    return this.#running + this.#waiting.length;
  }

  /**
   * Waits for a turn and resolves with its release (call it once, when the answer is done or
   * failed). Refused at once when `maxWaiting` already wait; rejects with `abandoned()` if `signal`
   * aborts while waiting.
   */
  turn(signal: AbortSignal | undefined, abandoned: () => Error): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abandoned());
    if (this.#running < this.atOnce) return Promise.resolve(this.#take());
    if (this.#waiting.length >= this.maxWaiting) {
      return Promise.reject(
        new WebRtcBusyError(`${this.maxWaiting} browser calls already wait for their WebRTC answer`)
      );
    }
    return new Promise((resolve, reject) => {
      const entry = {
        go: (): void => {
          signal?.removeEventListener('abort', abort);
          resolve(this.#take());
        }
      };
      const abort = (): void => {
        this.#waiting.splice(this.#waiting.indexOf(entry), 1);
        reject(abandoned());
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.#waiting.push(entry);
    });
  }

  #take(): () => void {
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#waiting.shift()?.go();
    };
  }
}
