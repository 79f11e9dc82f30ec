/**
 * A small pool of synthesis worker threads. Requests wait in one queue and go one at a time to a
 * free worker; replies are matched by id. A request whose `signal` aborts while it waits leaves
 * the queue (`ERR_ABANDONED`): a caller that hung up before its prompt was made costs no
 * synthesis. At most `MAX_QUEUED` wait; more fail at once (`ERR_QUEUE_FULL`), so a burst of new
 * texts (one per call, say) cannot hold every later prompt up for minutes. Workers are referenced (keep the process alive) only
 * while they have work. A request may run `synthesisTimeoutMs` once its worker has started it
 * (time queued and the worker's start-up do not count): past that it fails with
 * `ERR_SYNTHESIS_TIMEOUT`, and its worker, which cannot be interrupted inside a WebAssembly run,
 * is terminated and replaced at once. A worker that dies fails its request with
 * `ERR_WORKER_FAILED` and is replaced when there is work; `close()` fails everything pending with
 * `ERR_CLOSED` and resolves once every worker has exited.
 *
 * The worker entry is `synthesis-worker.ts` when this file runs from TypeScript sources (vitest,
 * tsx: detected by this module's own extension) and is then loaded through tsx; from compiled
 * JavaScript (dist/) it is the sibling `synthesis-worker.js`.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TtsError, deserializeError } from './errors.js';
import type { TtsEngineName } from './voice.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** Distributes `Omit<WorkerRequest, 'id'>` over a union member by member. */
type RequestBody = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

export interface WorkerResult {
  pcm: Int16Array;
  sourceSampleRateHz: number;
  synthesisMs: number;
}

interface Job {
  request: WorkerRequest;
  transfer: ArrayBuffer[];
  resolve(result: WorkerResult): void;
  reject(error: TtsError): void;
}

interface Slot {
  worker: Worker;
  /** The request in hand, if any. */
  job: Job | undefined;
  /** Runs from the worker's `started` for the request in hand. */
  deadline: NodeJS.Timeout | undefined;
}

/**
 * How to start the worker from wherever this module was loaded. From source, a `data:` URL
 * bootstrap registers tsx's loader inside the new thread and then imports the `.ts` entry
 * (Node 20 does not apply `--import` loader hooks to a worker's own entry module).
 */
export function workerEntry(moduleUrl: string = import.meta.url): URL {
  const fromSource = new URL(moduleUrl).pathname.endsWith('.ts');
  const entry = new URL(fromSource ? './synthesis-worker.ts' : './synthesis-worker.js', moduleUrl).href;
  let bootstrap = '';
  if (fromSource) {
    const tsxApi = pathToFileURL(createRequire(moduleUrl).resolve('tsx/esm/api')).href.replace(
      /\.cjs$/,
      '.mjs'
    );
    bootstrap += `import { register } from ${JSON.stringify(tsxApi)};\nregister();\n`;
  }
  bootstrap += `await import(${JSON.stringify(entry)});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/** Synthesis yields the CPU to the frame clock: prompts are made ahead, a late prompt costs nothing audible. */
const WORKER_NICENESS = 10;
/** Node's longest timer (2^31-1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * What a WAV file's decode is allowed beyond `synthesisTimeoutMs` per second it plays: 6 minutes
 * more for an hour of hold music. Its work is bounded by its length (an hour at most) and grows
 * with nothing else; decoding and resampling an hour took 1.5 to 12 s on a loaded 2-core host, and
 * the worker runs at low priority, so a busy host stretches that several times. A text's deadline
 * stays as it is.
 */
export const FILE_DEADLINE_MS_PER_AUDIO_SECOND = 100;
/** Requests waiting for a worker at most: about 10-40 s of new prompts for one worker. */
export const MAX_QUEUED = 256;

export class WorkerPool {
  private readonly slots: (Slot | undefined)[];
  private readonly queue: Job[] = [];
  /** Exits of workers being terminated (timed out, or closing): `close()` waits for them. */
  private readonly exiting = new Set<Promise<void>>();
  private nextId = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly preload: TtsEngineName[],
    private readonly synthesisTimeoutMs: number
  ) {
    if (!Number.isInteger(size) || size < 1 || size > 16)
      throw new RangeError(`workers must be an integer from 1 to 16, got ${size}`);
    if (typeof synthesisTimeoutMs !== 'number')
      throw new TypeError(`synthesisTimeoutMs must be a number, got ${typeof synthesisTimeoutMs}`);
    if (!(synthesisTimeoutMs >= 1 && synthesisTimeoutMs <= MAX_TIMER_MS))
      throw new RangeError(
        `synthesisTimeoutMs must be from 1 to ${MAX_TIMER_MS} ms, got ${synthesisTimeoutMs}`
      );
    this.slots = new Array<Slot | undefined>(size).fill(undefined);
    for (let i = 0; i < size; i++) this.slots[i] = this.spawn(i);
  }

  /** Worker threads alive now (spawned and not yet exited, a terminated one until it has). */
  get workerCount(): number {
    let n = this.exiting.size;
    for (const slot of this.slots) if (slot) n++;
    return n;
  }

  /** Requests queued or in a worker's hands. */
  get pendingCount(): number {
    let n = this.queue.length;
    for (const slot of this.slots) if (slot?.job) n++;
    return n;
  }

  run(body: RequestBody, transfer: ArrayBuffer[] = [], signal?: AbortSignal): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new TtsError('ERR_CLOSED', 'the prompt service is closed'));
    if (signal?.aborted) return Promise.reject(abandoned());
    if (this.queue.length >= MAX_QUEUED)
      return Promise.reject(
        new TtsError('ERR_QUEUE_FULL', `${MAX_QUEUED} prompts already wait for a worker`)
      );
    const request = { ...body, id: this.nextId++ } as WorkerRequest;
    return new Promise<WorkerResult>((resolve, reject) => {
      const job: Job = { request, transfer, resolve, reject };
      if (signal) {
        const leave = (): void => {
          const at = this.queue.indexOf(job);
          if (at < 0) return; // in a worker's hands already: it finishes
          this.queue.splice(at, 1);
          reject(abandoned());
        };
        signal.addEventListener('abort', leave, { once: true });
        const settle = (): void => signal.removeEventListener('abort', leave);
        job.resolve = (result) => (settle(), resolve(result));
        job.reject = (error) => (settle(), reject(error));
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closedError = (): TtsError =>
      new TtsError('ERR_CLOSED', 'the prompt service was closed before this prompt was ready');
    for (const job of this.queue.splice(0)) job.reject(closedError());
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      if (!slot) continue;
      this.slots[i] = undefined;
      this.release(slot)?.reject(closedError());
      this.stop(slot.worker);
    }
    await Promise.all(this.exiting);
  }

  /** Hands queued requests to free workers, spawning any that is missing. */
  private dispatch(): void {
    for (let i = 0; i < this.slots.length && this.queue.length > 0; i++) {
      const slot = (this.slots[i] ??= this.spawn(i));
      if (slot.job) continue;
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request, job.transfer);
    }
  }

  /** The slot's request is settled: its deadline goes, the worker may let the process exit. */
  private release(slot: Slot): Job | undefined {
    const job = slot.job;
    if (slot.deadline) clearTimeout(slot.deadline);
    slot.deadline = undefined;
    slot.job = undefined;
    slot.worker.unref();
    return job;
  }

  private spawn(index: number): Slot {
    const data: WorkerData = { preload: this.preload, niceness: WORKER_NICENESS };
    // The main thread's flags (--input-type, -e, test-runner loaders) are not the worker's business.
    const worker = new Worker(workerEntry(), { workerData: data, execArgv: [] });
    const slot: Slot = { worker, job: undefined, deadline: undefined };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (slot.job?.request.id !== reply.id) return;
      if (reply.kind === 'started') {
        const deadlineMs = Math.min(
          MAX_TIMER_MS,
          Math.round(this.synthesisTimeoutMs + (reply.audioSeconds ?? 0) * FILE_DEADLINE_MS_PER_AUDIO_SECOND)
        );
        slot.deadline = setTimeout(() => this.expire(index, slot, deadlineMs), deadlineMs);
        return;
      }
      const job = this.release(slot) as Job;
      if (reply.ok)
        job.resolve({
          pcm: reply.pcm,
          sourceSampleRateHz: reply.sourceSampleRateHz,
          synthesisMs: reply.synthesisMs
        });
      else job.reject(deserializeError(reply.error));
      this.dispatch();
    });
    const onDeath = (reason: string): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      this.release(slot)?.reject(new TtsError('ERR_WORKER_FAILED', `a synthesis worker stopped: ${reason}`));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (error) => onDeath(error.message));
    worker.on('exit', (code) => onDeath(`exit code ${code}`));
    return slot;
  }

  /** The request in hand ran past its deadline: fail it, stop its worker, start another. */
  private expire(index: number, slot: Slot, deadlineMs: number): void {
    const job = this.release(slot);
    if (this.slots[index] === slot) this.slots[index] = this.spawn(index);
    this.stop(slot.worker);
    if (job) {
      const { request } = job;
      const what =
        request.kind === 'speak'
          ? `${request.engine} speaking ${request.text.length} characters ran past synthesisTimeoutMs (${deadlineMs} ms)`
          : `decoding ${request.label} ran past its deadline (${deadlineMs} ms: synthesisTimeoutMs and ${FILE_DEADLINE_MS_PER_AUDIO_SECOND} ms per second of audio)`;
      job.reject(new TtsError('ERR_SYNTHESIS_TIMEOUT', `${what}; its worker was stopped and replaced`));
    }
    this.dispatch();
  }

  /** Terminates a worker; `close()` waits for its exit. */
  private stop(worker: Worker): void {
    const exited = worker.terminate().then(
      () => undefined,
      () => undefined
    );
    this.exiting.add(exited);
    void exited.then(() => this.exiting.delete(exited));
  }
}

function abandoned(): TtsError {
  return new TtsError('ERR_ABANDONED', 'every caller stopped waiting before the prompt was made');
}
