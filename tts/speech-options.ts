/**
 * The one contract of a spoken prompt: the unit, range and validator of its text and of each
 * option. The engine's settings (`textToSay`, `playText`) check a prompt with `checkSpeech`
 * when it is set; the prompt service applies the same check to requests made to it directly.
 */

/** Longest text one prompt may speak, in UTF-16 code units. */
export const TEXT_CHARS_MAX = 4000;
/** Speaking rate in words per minute; the voice's natural rate when omitted. */
export const RATE_WPM = { min: 80, max: 450 } as const;
/**
 * Pitch shift in semitones from the voice's natural pitch; `normal` (0) is the voice as it is.
 * Exact for Flite (f0_shift); eSpeak NG maps it onto its 0-99 scale, so there it is approximate.
 */
export const PITCH_SEMITONES = { min: -12, normal: 0, max: 12 } as const;

/** The options a caller may choose per prompt. */
export interface SpeechOptions {
  /** Engine-specific voice name (Flite: kal, kal16, awb, rms, slt; eSpeak NG: en-us, en-gb, ...). */
  voice?: string;
  /** Speaking rate in words per minute, `RATE_WPM.min` to `RATE_WPM.max` (80 to 450). */
  rateWpm?: number;
  /** Pitch shift in semitones, `PITCH_SEMITONES.min` to `.max` (-12 to +12); 0 is the voice's own pitch. */
  pitch?: number;
}

/** A checked prompt: the text as given and only the options that were set. */
export interface CheckedSpeech extends SpeechOptions {
  text: string;
}

/**
 * Checks a prompt's text and options: `TypeError` for a value of the wrong type, `RangeError`
 * for one outside its range (blank text, text over `TEXT_CHARS_MAX`). `where` names the call in
 * the message ("onEntryMedia.textToSay: pitch 50 must be between -12 and 12").
 */
export function checkSpeech(where: string, text: unknown, options: unknown = {}): CheckedSpeech {
  if (typeof text !== 'string') throw new TypeError(`${where}: text must be a string, got ${describe(text)}`);
  if (text.trim().length === 0) throw new RangeError(`${where}: text must not be empty`);
  if (text.length > TEXT_CHARS_MAX) {
    throw new RangeError(`${where}: text is ${text.length} characters, at most ${TEXT_CHARS_MAX} allowed`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`);
  }
  const { voice, rateWpm, pitch } = options as Record<string, unknown>;
  const checked: CheckedSpeech = { text };
  if (voice !== undefined) {
    if (typeof voice !== 'string')
      throw new TypeError(`${where}: voice must be a string, got ${describe(voice)}`);
    if (voice.trim().length === 0) throw new RangeError(`${where}: voice must not be empty`);
    checked.voice = voice;
  }
  if (rateWpm !== undefined) checked.rateWpm = numberIn(where, 'rateWpm', rateWpm, RATE_WPM);
  if (pitch !== undefined) checked.pitch = numberIn(where, 'pitch', pitch, PITCH_SEMITONES);
  return checked;
}

function numberIn(where: string, name: string, value: unknown, range: { min: number; max: number }): number {
  if (typeof value !== 'number')
    throw new TypeError(`${where}: ${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < range.min || value > range.max) {
    throw new RangeError(`${where}: ${name} ${value} must be between ${range.min} and ${range.max}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
