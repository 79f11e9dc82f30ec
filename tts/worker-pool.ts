/**
 * A small pool of synthesis worker threads. Requests go to the worker with the fewest in hand;
 * replies are matched by id. Workers are referenced (keep the process alive) only while they have
 * work. A worker that dies fails its own requests with `ERR_WORKER_FAILED` and is replaced on the next
 * request; `close()` fails everything pending with `ERR_CLOSED`.
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

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: TtsError): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
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

export class WorkerPool {
  private readonly slots: (Slot | undefined)[];
  private nextId = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly preload: TtsEngineName[]
  ) {
    if (!Number.isInteger(size) || size < 1 || size > 16)
      throw new RangeError(`workers must be an integer from 1 to 16, got ${size}`);
    this.slots = new Array<Slot | undefined>(size).fill(undefined);
    for (let i = 0; i < size; i++) this.slots[i] = this.spawn(i);
  }

  /** Worker threads alive now (spawned and not yet exited). */
  get workerCount(): number {
    let n = 0;
    for (const slot of this.slots) if (slot) n++;
    return n;
  }

  get pendingCount(): number {
    let n = 0;
    for (const slot of this.slots) n += slot?.pending.size ?? 0;
    return n;
  }

  run(body: RequestBody, transfer: ArrayBuffer[] = []): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new TtsError('ERR_CLOSED', 'the prompt service is closed'));
    const slot = this.leastBusy();
    const id = this.nextId++;
    return new Promise<WorkerResult>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ ...body, id } as WorkerRequest, transfer);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const workers: Worker[] = [];
    for (let i = 0; i < this.slots.length; i++) {
      const slot = this.slots[i];
      if (!slot) continue;
      this.slots[i] = undefined;
      this.failAll(
        slot,
        () => new TtsError('ERR_CLOSED', 'the prompt service was closed before this prompt was ready')
      );
      workers.push(slot.worker);
    }
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private leastBusy(): Slot {
    let best: Slot | undefined;
    for (let i = 0; i < this.slots.length; i++) {
      const slot = (this.slots[i] ??= this.spawn(i));
      if (!best || slot.pending.size < best.pending.size) best = slot;
    }
    return best as Slot;
  }

  private spawn(index: number): Slot {
    const data: WorkerData = { preload: this.preload, niceness: WORKER_NICENESS };
    // The main thread's flags (--input-type, -e, test-runner loaders) are not the worker's business.
    const worker = new Worker(workerEntry(), { workerData: data, execArgv: [] });
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const pending = slot.pending.get(reply.id);
      if (!pending) return;
      slot.pending.delete(reply.id);
      if (slot.pending.size === 0) worker.unref();
      if (reply.ok)
        pending.resolve({
          pcm: reply.pcm,
          sourceSampleRateHz: reply.sourceSampleRateHz,
          synthesisMs: reply.synthesisMs
        });
      else pending.reject(deserializeError(reply.error));
    });
    const onDeath = (reason: string): void => {
      if (this.slots[index] === slot) this.slots[index] = undefined;
      this.failAll(slot, () => new TtsError('ERR_WORKER_FAILED', `a synthesis worker stopped: ${reason}`));
    };
    worker.on('error', (error) => onDeath(error.message));
    worker.on('exit', (code) => onDeath(`exit code ${code}`));
    return slot;
  }

  private failAll(slot: Slot, makeError: () => TtsError): void {
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    slot.worker.unref();
    for (const p of pending) p.reject(makeError());
  }
}
