/**
 * A full garbage collection of this thread's heap, once a synthesis worker has finished a request.
 *
 * Every synthesis instantiates its WebAssembly module afresh (a WASI command runs once; Flite's
 * instance holds 16.5 MB of memory). V8 frees a dead instance's memory only when a full collection
 * finds it, and a worker's small heap rarely gives it a reason to run one: 32 prompts spoken by two
 * workers left up to 328 MB of dead instances resident before V8 collected them. So the worker
 * asks, after each request (6–30 ms on its own thread, median 12, measured here).
 *
 * `gc` is V8's, exposed to one new context by turning `--expose-gc` on for the moment it is
 * created (flags are process-wide; the flag is turned off again unless the process was started
 * with it). Where V8 refuses, this does nothing and memory is freed when V8 decides.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = () => void;

let collect: Collect | null = null;
/** Two workers asking at once can turn the flag off under each other: the loser asks again later. */
let attemptsLeft = 5;

export function collectGarbage(): void {
  if (collect === null && attemptsLeft > 0) {
    attemptsLeft--;
    collect = obtainCollector();
  }
  collect?.();
}

function obtainCollector(): Collect | null {
  const exposed: unknown = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
