/**
 * What one conference party hears and can do with its keypad, per the spec's
 * `ConferencePartyMediaSettings`: the exit digit, the mute/unmute digits, the media played
 * to the room before (`prefixMedia`) its entry and exit announcements, what it hears while
 * the room has not started (ringback or `onConferenceStoppedFile`), the entry beep,
 * two-party optimisation, whether it starts muted and whether its mute digits answer with a tone.
 *
 *   const media = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
 *   media.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
 *   media.prefixMedia.textToSay('george');
 *   media.onEntryMedia.textToSay('has joined');
 *
 * Every value is validated when set, also at run time for JavaScript callers: valid digits
 * are 0-9, A-D, # and * (ITU-T Q.23), and no digit may have two meanings.
 */
import { InvalidArgumentError } from '../errors.js';
import { describe, parseDtmfDigit, type DtmfDigit } from '../dtmf/dtmf-digit.js';
import { fileMedia, MediaSlot } from './media.js';
import { RINGBACK_TONE_NAMES, type RingbackToneName } from '../media/tones.js';

export interface ConferencePartyMediaSettingsOptions {
  /** The digit that makes this party leave the room (it is retrieved to its channel). */
  exitOnDtmfDigit?: string;
  /**
   * The ringback cadence heard while the room has not started: 'us' (440 + 480 Hz, 2 s on, 4 s
   * off, the default), 'uk', 'eu' (425 Hz, CEPT) or 'fr'.
   */
  ringbackTone?: string;
  /** File played (looped) instead of ringback while the room has not started. */
  onConferenceStoppedFile?: string;
  /** Beep to the room when this party enters. Default true. */
  beepOnEntry?: boolean;
  /** Let a two-party room bypass the mixer. Default false. */
  twoPartyOptimisation?: boolean;
  /** Enter the room muted. Default false. */
  startMuted?: boolean;
  /**
   * When this party's own keypad mutes or unmutes it, play it (and only it) a falling or rising
   * pair of notes. Default true.
   */
  muteTones?: boolean;
}

const OPTION_NAMES: ReadonlySet<string> = new Set([
  'exitOnDtmfDigit',
  'ringbackTone',
  'onConferenceStoppedFile',
  'beepOnEntry',
  'twoPartyOptimisation',
  'startMuted',
  'muteTones'
]);

/** The party's mute digits: one digit toggles; two digits mute and unmute. */
export class MuteOnDtmfDigits {
  readonly #exitDigit: () => DtmfDigit | undefined;
  #mute: DtmfDigit | undefined;
  #unmute: DtmfDigit | undefined;

  /** @internal created by ConferencePartyMediaSettings, which owns the exit digit. */
  constructor(exitDigit: () => DtmfDigit | undefined) {
    this.#exitDigit = exitDigit;
  }

  get mute(): DtmfDigit | undefined {
    return this.#mute;
  }

  get unmute(): DtmfDigit | undefined {
    return this.#unmute;
  }

  /** True when only a mute digit is set, so that digit toggles. */
  get toggles(): boolean {
    return this.#mute !== undefined && this.#unmute === undefined;
  }

  /**
   * Sets the digits. With only `mute`, that digit toggles muting. `unmute` may be omitted
   * or null. Throws (and changes nothing) when a digit is invalid, equals the exit digit,
   * or `mute` equals `unmute`.
   */
  setDigits(digits: { mute: string; unmute?: string | null }): this {
    if (digits === null || typeof digits !== 'object') {
      throw new TypeError(`muteOnDtmfDigits.setDigits expects { mute, unmute? }, got ${describe(digits)}`);
    }
    const mute = parseDtmfDigit('mute', digits.mute);
    const unmute = digits.unmute == null ? undefined : parseDtmfDigit('unmute', digits.unmute);
    const exit = this.#exitDigit();
    if (mute === exit)
      throw new InvalidArgumentError('mute', `mute digit '${mute}' is already the exit digit`);
    if (unmute !== undefined && unmute === exit) {
      throw new InvalidArgumentError('unmute', `unmute digit '${unmute}' is already the exit digit`);
    }
    if (unmute === mute) {
      throw new InvalidArgumentError(
        'unmute',
        `unmute digit '${unmute}' must differ from the mute digit; give only 'mute' for a digit that toggles`
      );
    }
    this.#mute = mute;
    this.#unmute = unmute;
    return this;
  }

  /** No mute digits. */
  clear(): this {
    this.#mute = undefined;
    this.#unmute = undefined;
    return this;
  }
}

export class ConferencePartyMediaSettings {
  readonly exitOnDtmfDigit: DtmfDigit | undefined;
  readonly ringbackTone: RingbackToneName | undefined;
  readonly onConferenceStoppedFile: string | undefined;
  readonly beepOnEntry: boolean;
  readonly twoPartyOptimisation: boolean;
  readonly startMuted: boolean;
  readonly muteTones: boolean;

  readonly muteOnDtmfDigits: MuteOnDtmfDigits;
  /** Played to the room before the entry and the exit media ("george" … "has joined"). */
  readonly prefixMedia = new MediaSlot('prefixMedia');
  readonly onEntryMedia = new MediaSlot('onEntryMedia');
  readonly onExitMedia = new MediaSlot('onExitMedia');

  constructor(options: ConferencePartyMediaSettingsOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`ConferencePartyMediaSettings options must be an object, got ${describe(options)}`);
    }
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.has(key)) {
        throw new InvalidArgumentError(
          key,
          `unknown ConferencePartyMediaSettings option '${key}'; known: ${[...OPTION_NAMES].join(', ')}`
        );
      }
    }
    this.exitOnDtmfDigit =
      options.exitOnDtmfDigit === undefined
        ? undefined
        : parseDtmfDigit('exitOnDtmfDigit', options.exitOnDtmfDigit);
    if (options.ringbackTone !== undefined) {
      if (typeof options.ringbackTone !== 'string') {
        throw new TypeError(`ringbackTone must be a string, got ${describe(options.ringbackTone)}`);
      }
      if (!(RINGBACK_TONE_NAMES as readonly string[]).includes(options.ringbackTone))
        throw new InvalidArgumentError(
          'ringbackTone',
          `unknown ringbackTone '${options.ringbackTone.slice(0, 32)}'; known: ${RINGBACK_TONE_NAMES.join(', ')}`
        );
    }
    this.ringbackTone = options.ringbackTone as RingbackToneName | undefined;
    this.onConferenceStoppedFile =
      options.onConferenceStoppedFile === undefined
        ? undefined
        : fileMedia('onConferenceStoppedFile', options.onConferenceStoppedFile).path;
    this.beepOnEntry = flag('beepOnEntry', options.beepOnEntry, true);
    this.twoPartyOptimisation = flag('twoPartyOptimisation', options.twoPartyOptimisation, false);
    this.startMuted = flag('startMuted', options.startMuted, false);
    this.muteTones = flag('muteTones', options.muteTones, true);
    this.muteOnDtmfDigits = new MuteOnDtmfDigits(() => this.exitOnDtmfDigit);
  }

  /**
   * A copy as these settings stand now: what a party keeps when it joins, since an application
   * may reuse one settings object and change it for the next caller (mute digits, the name
   * announced), which changed the parties already in the room.
   */
  snapshot(): ConferencePartyMediaSettings {
    const copy = new ConferencePartyMediaSettings({
      exitOnDtmfDigit: this.exitOnDtmfDigit,
      ringbackTone: this.ringbackTone,
      onConferenceStoppedFile: this.onConferenceStoppedFile,
      beepOnEntry: this.beepOnEntry,
      twoPartyOptimisation: this.twoPartyOptimisation,
      startMuted: this.startMuted,
      muteTones: this.muteTones
    });
    const { mute, unmute } = this.muteOnDtmfDigits;
    if (mute !== undefined) copy.muteOnDtmfDigits.setDigits({ mute, unmute });
    copy.prefixMedia.copyFrom(this.prefixMedia);
    copy.onEntryMedia.copyFrom(this.onEntryMedia);
    copy.onExitMedia.copyFrom(this.onExitMedia);
    return copy;
  }
}

function flag(name: string, value: unknown, defaultValue: boolean): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(value)}`);
  return value;
}
