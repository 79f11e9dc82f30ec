/**
 * Text-to-speech and prompts: for each engine, time to first audio and real-time factor
 * (synthesis time / audio duration) on a cold start (new service: worker start and module
 * compile), on a cache miss with a warm worker, and on a cache hit; plus the per-frame cost of
 * reading an announcement out (`AnnouncementQueue.readFrame`, the only tts code on the frame
 * clock's turn) and of resampling a prompt. `nsPerFrame` of a synthesis row is the synthesis time
 * per 20 ms frame of audio produced.
 */
import Benchmark from 'benchmark';
import type { BenchReport } from '../report.js';
import { PromptService, loadResampler, resamplePcm } from '../../tts/index.js';
import { AnnouncementQueue } from '../../engine/media/announcement-queue.js';
import type { TtsEngineName } from '../../tts/index.js';

const RATE = 8000;
const FRAME_S = 0.02;
const MISSES = 10;

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = process.hrtime.bigint();
  const result = await work();
  return [result, Number(process.hrtime.bigint() - started) / 1e6];
}

async function engineRows(report: BenchReport, engine: TtsEngineName): Promise<void> {
  const service = new PromptService({ defaultEngine: engine });
  try {
    const [first, coldMs] = await timed(() => service.textToPcm('george has joined', RATE));
    const coldAudioS = first.length / RATE;
    report.add({
      suite: 'tts',
      name: `${engine} cold start`,
      nsPerFrame: (coldMs * 1e6) / (coldAudioS / FRAME_S),
      extra: { timeToFirstAudioMs: coldMs, realTimeFactor: coldMs / 1000 / coldAudioS }
    });

    let totalMs = 0;
    let totalAudioS = 0;
    let worstMs = 0;
    for (let i = 0; i < MISSES; i++) {
      const [pcm, ms] = await timed(() =>
        service.textToPcm(`caller ${i + 1} has joined the conference`, RATE)
      );
      totalMs += ms;
      totalAudioS += pcm.length / RATE;
      worstMs = Math.max(worstMs, ms);
    }
    report.add({
      suite: 'tts',
      name: `${engine} cache miss (warm worker)`,
      nsPerFrame: (totalMs * 1e6) / (totalAudioS / FRAME_S),
      extra: { timeToFirstAudioMs: totalMs / MISSES, worstMs, realTimeFactor: totalMs / 1000 / totalAudioS }
    });

    const hits = 200;
    const [, hitMs] = await timed(async () => {
      for (let i = 0; i < hits; i++) await service.textToPcm('george has joined', RATE);
    });
    report.add({
      suite: 'tts',
      name: `${engine} cache hit`,
      nsPerFrame: (hitMs * 1e6) / hits / (coldAudioS / FRAME_S),
      extra: { timeToFirstAudioMs: hitMs / hits, realTimeFactor: hitMs / hits / 1000 / coldAudioS }
    });
  } finally {
    await service.close();
  }
}

function readFrameRow(report: BenchReport): void {
  const queue = new AnnouncementQueue({ sampleRateHz: RATE, trimSilence: false, gapMs: 0, pauseMs: 0 });
  const part = new Int16Array(RATE * 60).fill(1000);
  const memory = new Int16Array(4096);
  const target = memory.subarray(512, 512 + RATE * FRAME_S);
  let copyRef = 0;
  const bench = new Benchmark(
    'readFrame',
    () => {
      if (!queue.readFrame(target)) void queue.enqueue([part]);
    },
    { maxTime: 1 }
  );
  // Plain-JS reference: the same 160-sample copy with TypedArray.set on a fresh subarray.
  const reference = new Benchmark(
    'set',
    () => {
      target.set(part.subarray(copyRef, copyRef + target.length));
      copyRef = (copyRef + target.length) % (part.length - target.length);
    },
    { maxTime: 1 }
  );
  void queue.enqueue([part]);
  bench.run();
  reference.run();
  queue.close();
  report.add({
    suite: 'tts',
    name: 'announcement readFrame (160 samples)',
    nsPerFrame: 1e9 / bench.hz,
    speedupOverJs: reference.hz > 0 ? bench.hz / reference.hz : undefined
  });
}

async function resampleRow(report: BenchReport): Promise<void> {
  await loadResampler();
  const prompt = new Int16Array(22050 * 2);
  for (let i = 0; i < prompt.length; i++)
    prompt[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 22050));
  const bench = new Benchmark('resample', () => resamplePcm(prompt, 22050, RATE), { maxTime: 1 });
  bench.run();
  const frames = 2 / FRAME_S;
  report.add({
    suite: 'tts',
    name: 'resamplePcm 22.05 kHz -> 8 kHz (in worker)',
    nsPerFrame: 1e9 / bench.hz / frames,
    extra: { msPer2sPrompt: 1000 / bench.hz }
  });
}

export async function run(report: BenchReport): Promise<void> {
  for (const engine of ['flite', 'espeak'] as const) await engineRows(report, engine);
  readFrameRow(report);
  await resampleRow(report);
}
