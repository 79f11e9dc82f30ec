/**
 * What a DTMF digit pressed by a conference party means, from its media settings: the
 * exit digit makes it leave; the mute digit mutes (or toggles, when no unmute digit is
 * set); the unmute digit unmutes. Every other digit means nothing to the room.
 */
import type { ConferencePartyMediaSettings } from '../settings/conference-party-media-settings.js';

export type DigitAction = 'exit' | 'mute' | 'unmute' | 'none';

/** The action of `digit` for a party with `media` settings that is currently `muted`. */
export function digitAction(media: ConferencePartyMediaSettings, digit: string, muted: boolean): DigitAction {
  if (media.exitOnDtmfDigit !== undefined && digit === media.exitOnDtmfDigit) return 'exit';
  const { mute, unmute, toggles } = media.muteOnDtmfDigits;
  if (mute !== undefined && digit === mute) return toggles && muted ? 'unmute' : 'mute';
  if (unmute !== undefined && digit === unmute) return 'unmute';
  return 'none';
}
