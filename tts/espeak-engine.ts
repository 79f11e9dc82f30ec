/**
 * eSpeak NG as a `TtsEngine`, from its Emscripten build (npm `espeak-ng`, GPL-3.0-or-later).
 *
 * The Emscripten loader is an ES module factory that runs the `espeak-ng` command line once per
 * call. Its `instantiateWasm` hook lets every run reuse one compiled `WasmModule` (compiled
 * once per thread), so only the instantiation (copying the embedded voice data into a fresh
 * memory) is paid per synthesis. Audio goes to a WAV file in the instance's in-memory file system.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { TtsError } from './errors.js';
import { wasm, type WasmImports, type WasmInstance, type WasmModule } from './wasm-api.js';
import type { SynthesisRequest, SynthesizedAudio, TtsEngine } from './voice.js';
import { decodeWav } from './wav-decoder.js';
import { floatToInt16 } from './resampler.js';

interface EmscriptenInstance {
  FS: { readFile(path: string): Uint8Array };
}
interface EmscriptenOptions {
  arguments: string[];
  thisProgram: string;
  print(line: string): void;
  printErr(line: string): void;
  instantiateWasm(imports: WasmImports, done: (instance: WasmInstance, module: WasmModule) => void): object;
}
type EmscriptenFactory = (options: EmscriptenOptions) => Promise<EmscriptenInstance>;

/** eSpeak's default rate and the middle of its 0-99 pitch scale. */
const ESPEAK_DEFAULT_PITCH = 50;
/** A voice name or file path as `espeak-ng --voices` lists them; anything else cannot be a voice. */
const VOICE_NAME = /^[A-Za-z0-9][A-Za-z0-9_+\-/]{0,63}$/;

let loaded: Promise<{ factory: EmscriptenFactory; module: WasmModule }> | undefined;

/** The loader and the compiled espeak-ng.wasm, once per thread. */
export function loadEspeak(): Promise<{ factory: EmscriptenFactory; module: WasmModule }> {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const wasmPath = require.resolve('espeak-ng/dist/espeak-ng.wasm');
    loaded = Promise.all([
      import('espeak-ng') as Promise<unknown> as Promise<{ default: EmscriptenFactory }>,
      readFile(wasmPath).then((bytes) => wasm.compile(bytes))
    ]).then(([loader, module]) => ({ factory: loader.default, module }));
    loaded.catch(() => (loaded = undefined));
  }
  return loaded;
}

interface CliRun {
  instance: EmscriptenInstance;
  out: string[];
  errors: string[];
}

/** Runs the espeak-ng command line once in a fresh instance of the cached module. */
async function runCli(args: string[]): Promise<CliRun> {
  const { factory, module } = await loadEspeak();
  const out: string[] = [];
  const errors: string[] = [];
  // The Emscripten runtime records a non-zero exit in process.exitCode; that is not ours to change.
  const exitCodeBefore = process.exitCode;
  const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));
  // `done` runs the command line: the factory resolves before main begins, and a trap in main
  // (eSpeak reading out of its memory) is thrown from `done`. It was an unhandled rejection that
  // ended the worker thread once the request had been answered as spoken, failing the next
  // request in hand, another caller's prompt, with ERR_WORKER_FAILED.
  let ran: Promise<void> = Promise.resolve();
  try {
    const instance = await factory({
      arguments: [...args],
      thisProgram: 'espeak-ng',
      print: (line) => out.push(line),
      printErr: (line) => errors.push(line),
      instantiateWasm(imports, done) {
        ran = wasm.instantiate(module, imports).then((created) => done(created, module));
        ran.catch(() => undefined);
        return {};
      }
    });
    try {
      await ran;
    } catch (error) {
      throw new TtsError('ERR_SYNTHESIS_FAILED', `espeak failed: ${String(error)}`, { cause: error });
    }
    return { instance, out, errors };
  } finally {
    process.exitCode = exitCodeBefore;
    removeWarningGetters(globalsBefore);
  }
}

/**
 * The loader (an assertions build) defines getters on the global object that warn about names
 * it does not provide (`buffer`, `asm`, `writeAsciiToMemory`, ...). Their closures hold the
 * instance that made them, memory and all: one instance of about 36 MB stayed reachable per
 * thread after its last synthesis. They are taken off again; they only warned about misuse.
 */
function removeWarningGetters(before: Set<string>): void {
  for (const name of Object.getOwnPropertyNames(globalThis)) {
    if (before.has(name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    if (descriptor?.configurable && descriptor.get !== undefined && descriptor.set === undefined)
      delete (globalThis as Record<string, unknown>)[name];
  }
}

/**
 * The names `-v` accepts, lower-cased, from `espeak-ng --voices` and `--voices=variant`: language
 * codes, voice names and file names. eSpeak itself falls back to a near match for many unknown
 * names ("no-such-voice" speaks Norwegian), so names are checked against this list first.
 */
async function listVoices(): Promise<{ voices: Set<string>; variants: Set<string> }> {
  const [voiceRun, variantRun] = [await runCli(['--voices']), await runCli(['--voices=variant'])];
  const voices = new Set<string>();
  for (const line of voiceRun.out.slice(1)) {
    const [, language, , name, file, ...others] = line.trim().split(/\s+/);
    if (!language || !name || !file) continue;
    voices.add(language.toLowerCase()).add(name.toLowerCase()).add(file.toLowerCase());
    for (const other of others) {
      const code = other.replace(/^\(/, '');
      if (code && !/^\d+\)$/.test(code)) voices.add(code.toLowerCase());
    }
  }
  const variants = new Set<string>();
  for (const line of variantRun.out.slice(1)) {
    const fields = line.trim().split(/\s+/);
    const name = fields[3];
    const file = fields[4];
    if (name) variants.add(name.toLowerCase());
    if (file?.startsWith('!v/')) variants.add(file.slice(3).toLowerCase());
  }
  return { voices, variants };
}

export class EspeakEngine implements TtsEngine {
  readonly name = 'espeak';
  private voiceList: Promise<{ voices: Set<string>; variants: Set<string> }> | undefined;

  async prepare(): Promise<void> {
    await loadEspeak();
    this.voiceList ??= listVoices();
    await this.voiceList;
  }

  defaultVoice(): string {
    return 'en-us';
  }

  /** Whether `-v voice` names a real voice, optionally with a `+variant`. */
  async hasVoice(voice: string): Promise<boolean> {
    if (!VOICE_NAME.test(voice)) return false;
    this.voiceList ??= listVoices();
    const { voices, variants } = await this.voiceList;
    const [base, variant, extra] = voice.toLowerCase().split('+');
    return extra === undefined && voices.has(base) && (variant === undefined || variants.has(variant));
  }

  async synthesize(request: SynthesisRequest): Promise<SynthesizedAudio> {
    if (!(await this.hasVoice(request.voice))) {
      throw new TtsError(
        'ERR_UNKNOWN_VOICE',
        `espeak has no voice '${request.voice}'; expected a language or voice name from 'espeak-ng --voices', such as en-us or en-gb`
      );
    }
    const pitch = Math.max(
      0,
      Math.min(99, Math.round(ESPEAK_DEFAULT_PITCH + (request.pitchSemitones * 50) / 12))
    );
    const args = ['-v', request.voice, '-p', String(pitch), '-w', '/out.wav'];
    if (request.rateWpm !== undefined) args.push('-s', String(Math.round(request.rateWpm)));
    // "--" ends the options, so a text starting with "-" is spoken, not parsed.
    args.push('--', request.text);
    const { instance, errors } = await runCli(args);
    if (errors.some((line) => /voice does not exist/i.test(line))) {
      throw new TtsError('ERR_UNKNOWN_VOICE', `espeak has no voice '${request.voice}'`);
    }
    let bytes: Uint8Array;
    try {
      bytes = instance.FS.readFile('/out.wav');
    } catch (error) {
      throw new TtsError('ERR_SYNTHESIS_FAILED', `espeak wrote no audio: ${errors.join(' ').slice(0, 200)}`, {
        cause: error
      });
    }
    const decoded = decodeWav(bytes, 'espeak output');
    return { pcm: floatToInt16(decoded.samples), sampleRateHz: decoded.sampleRateHz };
  }

  close(): void {}
}
