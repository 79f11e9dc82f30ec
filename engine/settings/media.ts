/**
 * The media items of conference settings: what `prefixMedia`, `onEntryMedia` and
 * `onExitMedia` play to the room. A `MediaSlot` holds at most one item, set with
 * `textToSay(text, options?)` (synthesised by the TTS engine ahead of time) or
 * `fileToPlay(path)` (a WAV prompt); setting again replaces it, as in the original API.
 * Items are frozen plain data so they can cross to the TTS worker and be compared.
 */
import { checkSpeech, type SpeechOptions } from '../../tts/index.js';
import { InvalidArgumentError } from '../errors.js';
import { describe } from '../dtmf/dtmf-digit.js';
import { ANY, checkOptionKeys, type OptionKeys } from '../util/option-keys.js';

/** A prompt's voice, rate and pitch: units and ranges are those of `SpeechOptions` (tts/speech-options.ts). */
export type TextToSayOptions = SpeechOptions;

export const SPEECH_OPTION_KEYS = {
  voice: ANY,
  rateWpm: ANY,
  pitch: ANY
} satisfies OptionKeys<TextToSayOptions>;

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

/** One settable media item (`prefixMedia`, `onEntryMedia`, `onExitMedia`). */
export class MediaSlot {
  readonly #name: string;
  #item: TextMedia | FileMedia | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  /** Takes `other`'s item (validated and frozen already, so shared as it is). */
  copyFrom(other: MediaSlot): void {
    this.#item = other.#item;
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

/** A validated, frozen text item: checked here, when it is set, against the one speech contract. */
export function textMedia(where: string, text: unknown, options: unknown = {}): TextMedia {
  const speech = checkSpeech(where, text, options);
  checkOptionKeys(options, SPEECH_OPTION_KEYS, where);
  return Object.freeze({ kind: 'text', ...speech });
}

/** A validated, frozen file item. The file is opened by the prompt loader, not here. */
export function fileMedia(where: string, path: unknown): FileMedia {
  if (typeof path !== 'string') throw new TypeError(`${where}: path must be a string, got ${describe(path)}`);
  if (path.length === 0) throw new InvalidArgumentError('path', `${where}: path must not be empty`);
  if (path.includes('\0'))
    throw new InvalidArgumentError('path', `${where}: path must not contain a NUL character`);
  return Object.freeze({ kind: 'file', path });
}
