import { describe, expect, it } from 'vitest';
import { digitAction } from '../../engine/conference/digit-actions.js';
import { ConferencePartyMediaSettings } from '../../engine/settings/conference-party-media-settings.js';

function settings(
  exit: string | undefined,
  mute?: { mute: string; unmute?: string }
): ConferencePartyMediaSettings {
  const media = new ConferencePartyMediaSettings(exit === undefined ? {} : { exitOnDtmfDigit: exit });
  if (mute !== undefined) media.muteOnDtmfDigits.setDigits(mute);
  return media;
}

describe('digitAction', () => {
  it('maps the exit digit to exit, muted or not', () => {
    const media = settings('#', { mute: '0' });
    expect([digitAction(media, '#', false), digitAction(media, '#', true)]).toEqual(['exit', 'exit']);
  });

  it('maps separate digits to mute and unmute regardless of the current state', () => {
    const media = settings(undefined, { mute: '0', unmute: '1' });
    expect([
      digitAction(media, '0', false),
      digitAction(media, '0', true),
      digitAction(media, '1', true),
      digitAction(media, '1', false)
    ]).toEqual(['mute', 'mute', 'unmute', 'unmute']);
  });

  it('maps a lone mute digit to the opposite of the current state', () => {
    const media = settings(undefined, { mute: '*' });
    expect([digitAction(media, '*', false), digitAction(media, '*', true)]).toEqual(['mute', 'unmute']);
  });

  it('maps every other digit, and every digit without settings, to none', () => {
    expect(digitAction(settings('#', { mute: '0', unmute: '1' }), '5', false)).toBe('none');
    expect(digitAction(settings(undefined), '#', false)).toBe('none');
  });
});
