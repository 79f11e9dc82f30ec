/**
 * Entry of a synthesis worker thread: speech synthesis, WAV decoding and resampling all run here,
 * never on the thread that runs the frame clock. Engines are created (and their WebAssembly
 * modules compiled) once per worker, on first use or at start-up when preloaded.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { collectGarbage } from './collect-garbage.js';
import { createEngine } from './engines.js';
import { TtsError, serializeError } from './errors.js';
import { floatToInt16, loadResampler, resampleFloat, resamplePcm } from './resampler.js';
import type { TtsEngine } from './voice.js';
import type { WorkerData, WorkerDone, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { decodeWavLayout, inspectWav } from './wav-decoder.js';

const data = workerData as WorkerData;

/**
 * Lowers this thread's scheduling priority (Linux: setpriority on the thread id, found through
 * /proc/thread-self), so under CPU contention the frame clock's thread wins over synthesis.
 * Best effort: elsewhere, or without permission, the worker runs at normal priority.
 */
function lowerThreadPriority(niceness: number): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, niceness);
  } catch {
    // Not Linux, or not allowed: nothing to do.
  }
}
lowerThreadPriority(data.niceness);

if (!parentPort) throw new TtsError('ERR_WORKER_FAILED', 'synthesis-worker must run in a worker thread');
const port: MessagePort = parentPort;

const engines = new Map<string, TtsEngine>();

function engineFor(name: string): TtsEngine {
  let engine = engines.get(name);
  if (!engine) {
    engine = createEngine(name);
    engines.set(name, engine);
  }
  return engine;
}

/** The request's own work begins: everything it waited for (engine, resampler) is loaded. */
function started(id: number, audioSeconds?: number): void {
  port.postMessage({ id, kind: 'started', audioSeconds } satisfies WorkerReply);
}

async function handle(request: WorkerRequest): Promise<WorkerDone> {
  await loadResampler();
  if (request.kind === 'decodeWav') {
    const begun = performance.now();
    const layout = inspectWav(request.bytes, request.label);
    started(request.id, layout.frames / layout.format.sampleRateHz);
    const decoded = decodeWavLayout(layout);
    const pcm = floatToInt16(resampleFloat(decoded.samples, decoded.sampleRateHz, request.sampleRateHz));
    return {
      id: request.id,
      kind: 'done',
      ok: true,
      pcm,
      sourceSampleRateHz: decoded.sampleRateHz,
      synthesisMs: performance.now() - begun
    };
  }
  const engine = engineFor(request.engine);
  await engine.prepare();
  started(request.id);
  const begun = performance.now();
  const audio = await engine.synthesize({
    text: request.text,
    voice: request.voice ?? engine.defaultVoice(request.sampleRateHz),
    rateWpm: request.rateWpm,
    pitchSemitones: request.pitchSemitones,
    targetSampleRateHz: request.sampleRateHz
  });
  const pcm = resamplePcm(audio.pcm, audio.sampleRateHz, request.sampleRateHz);
  return {
    id: request.id,
    kind: 'done',
    ok: true,
    pcm,
    sourceSampleRateHz: audio.sampleRateHz,
    synthesisMs: performance.now() - begun
  };
}

// One request at a time: a WASI/Emscripten run is synchronous anyway, and strict order keeps
// memory bounded. The pool spreads load over workers.
let chain: Promise<void> = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  chain = chain.then(async () => {
    let reply: WorkerDone;
    try {
      reply = await handle(request);
    } catch (error) {
      reply = { id: request.id, kind: 'done', ok: false, error: serializeError(error) };
    }
    if (reply.ok) port.postMessage(reply, [reply.pcm.buffer as ArrayBuffer]);
    else port.postMessage(reply);
    // After the reply, so it waits for nothing; on the next turn, once the request's frames are
    // gone (collected from inside this callback, each worker kept its last instance alive).
    setImmediate(collectGarbage);
  });
});

// Warm-up only: a failure here surfaces again, typed, on the first real request.
for (const name of data.preload) {
  void Promise.resolve()
    .then(() => engineFor(name).prepare())
    .catch(() => undefined);
}
void loadResampler().catch(() => undefined);
