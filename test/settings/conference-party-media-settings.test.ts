import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../engine/errors.js';
import { ConferencePartyMediaSettings } from '../../engine/settings/conference-party-media-settings.js';

describe('ConferencePartyMediaSettings', () => {
  it('has the documented defaults', () => {
    const settings = new ConferencePartyMediaSettings();
    expect({
      exitOnDtmfDigit: settings.exitOnDtmfDigit,
      ringbackTone: settings.ringbackTone,
      onConferenceStoppedFile: settings.onConferenceStoppedFile,
      beepOnEntry: settings.beepOnEntry,
      twoPartyOptimisation: settings.twoPartyOptimisation,
      startMuted: settings.startMuted,
      mute: settings.muteOnDtmfDigits.mute,
      prefix: settings.prefixMedia.item
    }).toEqual({
      exitOnDtmfDigit: undefined,
      ringbackTone: undefined,
      onConferenceStoppedFile: undefined,
      beepOnEntry: true,
      twoPartyOptimisation: false,
      startMuted: false,
      mute: undefined,
      prefix: undefined
    });
  });

  it('keeps the given options', () => {
    const settings = new ConferencePartyMediaSettings({
      exitOnDtmfDigit: '#',
      ringbackTone: 'uk',
      onConferenceStoppedFile: '/prompts/hold.wav',
      beepOnEntry: false,
      twoPartyOptimisation: true,
      startMuted: true
    });
    expect([settings.exitOnDtmfDigit, settings.ringbackTone, settings.onConferenceStoppedFile]).toEqual([
      '#',
      'uk',
      '/prompts/hold.wav'
    ]);
    expect([settings.beepOnEntry, settings.twoPartyOptimisation, settings.startMuted]).toEqual([
      false,
      true,
      true
    ]);
  });

  it.each(['0', '9', 'A', 'D', '#', '*'])('accepts the exit digit %s', (digit) => {
    expect(new ConferencePartyMediaSettings({ exitOnDtmfDigit: digit }).exitOnDtmfDigit).toBe(digit);
  });

  it.each(['E', 'a', '##', '', ' ', '+'])('rejects the exit digit %j with InvalidArgumentError', (digit) => {
    expect(() => new ConferencePartyMediaSettings({ exitOnDtmfDigit: digit })).toThrow(InvalidArgumentError);
  });

  it('rejects option values of the wrong type with TypeError', () => {
    expect(() => new ConferencePartyMediaSettings({ exitOnDtmfDigit: 5 as unknown as string })).toThrow(
      TypeError
    );
    expect(() => new ConferencePartyMediaSettings({ beepOnEntry: 'no' as unknown as boolean })).toThrow(
      TypeError
    );
    expect(() => new ConferencePartyMediaSettings({ startMuted: 1 as unknown as boolean })).toThrow(
      TypeError
    );
    expect(() => new ConferencePartyMediaSettings(null as unknown as object)).toThrow(TypeError);
  });

  it('rejects an unknown option name, naming it', () => {
    const misspelt = { exitOnDTMFDigit: '#' } as unknown as ConstructorParameters<
      typeof ConferencePartyMediaSettings
    >[0];
    expect(() => new ConferencePartyMediaSettings(misspelt)).toThrow(
      "unknown ConferencePartyMediaSettings option 'exitOnDTMFDigit'"
    );
  });

  it('rejects an empty ringback tone name and an empty stopped file', () => {
    expect(() => new ConferencePartyMediaSettings({ ringbackTone: '' })).toThrow(InvalidArgumentError);
    expect(() => new ConferencePartyMediaSettings({ ringbackTone: 'nonsense' })).toThrow(
      /known: us, uk, eu, fr/
    );
    expect(() => new ConferencePartyMediaSettings({ onConferenceStoppedFile: '' })).toThrow(
      InvalidArgumentError
    );
  });
});

describe('muteOnDtmfDigits.setDigits', () => {
  it('sets separate mute and unmute digits', () => {
    const digits = new ConferencePartyMediaSettings().muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
    expect([digits.mute, digits.unmute, digits.toggles]).toEqual(['0', '1', false]);
  });

  it('makes a lone mute digit toggle, also with unmute null', () => {
    const settings = new ConferencePartyMediaSettings();
    expect(settings.muteOnDtmfDigits.setDigits({ mute: '*' }).toggles).toBe(true);
    expect(settings.muteOnDtmfDigits.setDigits({ mute: '*', unmute: null }).toggles).toBe(true);
  });

  it('rejects a mute or unmute digit equal to the exit digit', () => {
    const settings = new ConferencePartyMediaSettings({ exitOnDtmfDigit: '#' });
    expect(() => settings.muteOnDtmfDigits.setDigits({ mute: '#' })).toThrow(
      "mute digit '#' is already the exit digit"
    );
    expect(() => settings.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '#' })).toThrow(
      InvalidArgumentError
    );
  });

  it('rejects the same digit for mute and unmute', () => {
    expect(() =>
      new ConferencePartyMediaSettings().muteOnDtmfDigits.setDigits({ mute: '5', unmute: '5' })
    ).toThrow(InvalidArgumentError);
  });

  it('leaves the previous digits in place when rejecting', () => {
    const settings = new ConferencePartyMediaSettings();
    settings.muteOnDtmfDigits.setDigits({ mute: '0', unmute: '1' });
    expect(() => settings.muteOnDtmfDigits.setDigits({ mute: 'X' })).toThrow(InvalidArgumentError);
    expect([settings.muteOnDtmfDigits.mute, settings.muteOnDtmfDigits.unmute]).toEqual(['0', '1']);
  });

  it('clears the digits', () => {
    const digits = new ConferencePartyMediaSettings().muteOnDtmfDigits.setDigits({ mute: '0' }).clear();
    expect([digits.mute, digits.unmute, digits.toggles]).toEqual([undefined, undefined, false]);
  });

  it('rejects a missing argument object with TypeError', () => {
    const digits = new ConferencePartyMediaSettings().muteOnDtmfDigits;
    expect(() => digits.setDigits(undefined as unknown as { mute: string })).toThrow(TypeError);
    expect(() => digits.setDigits({} as { mute: string })).toThrow(TypeError);
  });
});
