import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../engine/errors.js';
import { ConferencePartyMediaSettings } from '../../engine/settings/conference-party-media-settings.js';
import { MediaSlot } from '../../engine/settings/media.js';
import { PITCH_SEMITONES, TEXT_CHARS_MAX } from '../../tts/index.js';

describe('MediaSlot', () => {
  it('holds a text item with its TTS options', () => {
    const slot = new MediaSlot('prefixMedia').textToSay('george', {
      voice: 'en-gb',
      rateWpm: 160,
      pitch: -3
    });
    expect(slot.item).toEqual({ kind: 'text', text: 'george', voice: 'en-gb', rateWpm: 160, pitch: -3 });
    expect(Object.isFrozen(slot.item)).toBe(true);
  });

  it('holds a file item', () => {
    expect(new MediaSlot('onEntryMedia').fileToPlay('/p/joined.wav').item).toEqual({
      kind: 'file',
      path: '/p/joined.wav'
    });
  });

  it('replaces the item when set again, and clears', () => {
    const slot = new MediaSlot('onExitMedia').textToSay('has left').fileToPlay('/p/left.wav');
    expect(slot.item).toEqual({ kind: 'file', path: '/p/left.wav' });
    expect(slot.clear().item).toBeUndefined();
  });

  it('is reachable from the settings as prefixMedia, onEntryMedia and onExitMedia', () => {
    const settings = new ConferencePartyMediaSettings();
    settings.prefixMedia.textToSay('george');
    settings.onEntryMedia.textToSay('has joined');
    settings.onExitMedia.fileToPlay('/p/left.wav');
    expect([
      settings.prefixMedia.item?.kind,
      settings.onEntryMedia.item?.kind,
      settings.onExitMedia.item?.kind
    ]).toEqual(['text', 'text', 'file']);
  });

  it('rejects empty or blank text and a text that is too long', () => {
    const slot = new MediaSlot('prefixMedia');
    expect(() => slot.textToSay('')).toThrow(RangeError);
    expect(() => slot.textToSay('   ')).toThrow(RangeError);
    expect(() => slot.textToSay('a'.repeat(TEXT_CHARS_MAX))).not.toThrow();
    expect(() => slot.textToSay('a'.repeat(TEXT_CHARS_MAX + 1))).toThrow(`at most ${TEXT_CHARS_MAX} allowed`);
  });

  it('takes pitch in semitones from the minimum through normal to the maximum, when it is set', () => {
    const slot = new MediaSlot('prefixMedia');
    for (const pitch of [PITCH_SEMITONES.min, PITCH_SEMITONES.normal, PITCH_SEMITONES.max]) {
      expect(slot.textToSay('x', { pitch }).item).toMatchObject({ pitch });
    }
    expect(() => slot.textToSay('x', { pitch: PITCH_SEMITONES.max + 1 })).toThrow(
      'pitch 13 must be between -12 and 12'
    );
    expect(() => slot.textToSay('x', { pitch: PITCH_SEMITONES.min - 1 })).toThrow(RangeError);
    expect(() => slot.textToSay('x', { pitch: 50 })).toThrow(RangeError);
  });

  it('rejects TTS options out of range with RangeError and of the wrong type with TypeError', () => {
    const slot = new MediaSlot('prefixMedia');
    expect(() => slot.textToSay('x', { rateWpm: 10 })).toThrow(RangeError);
    expect(() => slot.textToSay('x', { pitch: 100 })).toThrow(RangeError);
    expect(() => slot.textToSay('x', { pitch: Number.NaN })).toThrow(RangeError);
    expect(() => slot.textToSay('x', { voice: 3 as unknown as string })).toThrow(TypeError);
    expect(() => slot.textToSay(7 as unknown as string)).toThrow(TypeError);
  });

  it('rejects an empty path and a path with a NUL character', () => {
    const slot = new MediaSlot('onEntryMedia');
    expect(() => slot.fileToPlay('')).toThrow(InvalidArgumentError);
    expect(() => slot.fileToPlay('/p/a\0b.wav')).toThrow(InvalidArgumentError);
  });

  it('keeps the previous item when a new one is rejected', () => {
    const slot = new MediaSlot('onEntryMedia').textToSay('has joined');
    expect(() => slot.fileToPlay('')).toThrow();
    expect(slot.item).toEqual({ kind: 'text', text: 'has joined' });
  });
});
