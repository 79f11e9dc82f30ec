/**
 * The media items of conference settings: what `prefixMedia`, `onEntryMedia` and
 * `onExitMedia` play to the room. A `MediaSlot` holds at most one item, set with
 * `textToSay(text, options?)` (synthesised by the TTS engine ahead of time) or
 * `fileToPlay(path)` (a WAV prompt); setting again replaces it, as in the original API.
 * Items are frozen plain data so they can cross to the TTS worker and be compared.
 */
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../dtmf/dtmf-digit.js';

export interface TextToSayOptions {
  /** TTS voice name; the TTS engine's default when absent. */
  voice?: string;
  /** Speaking rate in words per minute (80..450). */
  rateWpm?: number;
  /** Base pitch, 0..99 (50 is the voice's normal pitch). */
  pitch?: number;
}

export interface TextMedia extends TextToSayOptions {
  readonly kind: 'text';
  readonly text: string;
}

export interface FileMedia {
  readonly kind: 'file';
  readonly path: string;
}

/** A generated tone, e.g. the entry beep; the integrator owns the waveform. */
export interface ToneMedia {
  readonly kind: 'tone';
  readonly tone: 'beep';
}

export type Media = TextMedia | FileMedia | ToneMedia;

/** The entry beep, shared (it is frozen). */
export const BEEP: ToneMedia = Object.freeze({ kind: 'tone', tone: 'beep' });

export const MAX_TEXT_LENGTH = 4096;
export const RATE_WPM_RANGE = { min: 80, max: 450 } as const;
export const PITCH_RANGE = { min: 0, max: 99 } as const;

/** One settable media item (`prefixMedia`, `onEntryMedia`, `onExitMedia`). */
export class MediaSlot {
  readonly #name: string;
  #item: TextMedia | FileMedia | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  /** The item to play, or undefined when none was set. */
  get item(): TextMedia | FileMedia | undefined {
    return this.#item;
  }

  /** Say `text` with the TTS engine. */
  textToSay(text: string, options: TextToSayOptions = {}): this {
    this.#item = textMedia(`${this.#name}.textToSay`, text, options);
    return this;
  }

  /** Play the audio file at `path`. */
  fileToPlay(path: string): this {
    this.#item = fileMedia(`${this.#name}.fileToPlay`, path);
    return this;
  }

  /** Play nothing. */
  clear(): this {
    this.#item = undefined;
    return this;
  }
}

/** A validated, frozen text item. */
export function textMedia(where: string, text: unknown, options: unknown = {}): TextMedia {
  if (typeof text !== 'string') throw new TypeError(`${where}: text must be a string, got ${describe(text)}`);
  if (text.trim().length === 0) throw new InvalidArgumentError('text', `${where}: text must not be empty`);
  if (text.length > MAX_TEXT_LENGTH) {
    throw new InvalidArgumentError('text', `${where}: text is ${text.length} characters, at most ${MAX_TEXT_LENGTH} allowed`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  const { voice, rateWpm, pitch } = options as Record<string, unknown>;
  const item: { kind: 'text'; text: string; voice?: string; rateWpm?: number; pitch?: number } = { kind: 'text', text };
  if (voice !== undefined) {
    if (typeof voice !== 'string') throw new TypeError(`${where}: voice must be a string, got ${describe(voice)}`);
    if (voice.trim().length === 0) throw new InvalidArgumentError('voice', `${where}: voice must not be empty`);
    item.voice = voice;
  }
  if (rateWpm !== undefined) item.rateWpm = numberIn(where, 'rateWpm', rateWpm, RATE_WPM_RANGE);
  if (pitch !== undefined) item.pitch = numberIn(where, 'pitch', pitch, PITCH_RANGE);
  return Object.freeze(item);
}

/** A validated, frozen file item. The file is opened by the prompt loader, not here. */
export function fileMedia(where: string, path: unknown): FileMedia {
  if (typeof path !== 'string') throw new TypeError(`${where}: path must be a string, got ${describe(path)}`);
  if (path.length === 0) throw new InvalidArgumentError('path', `${where}: path must not be empty`);
  if (path.includes('\0')) throw new InvalidArgumentError('path', `${where}: path must not contain a NUL character`);
  return Object.freeze({ kind: 'file', path });
}

function numberIn(where: string, name: string, value: unknown, range: { min: number; max: number }): number {
  if (typeof value !== 'number') throw new TypeError(`${where}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < range.min || value > range.max) {
    throw new RangeError(`${where}: ${name} ${value} must be between ${range.min} and ${range.max}`);
  }
  return value;
}
