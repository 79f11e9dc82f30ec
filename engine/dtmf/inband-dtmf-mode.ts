/**
 * Where the engine listens for DTMF tones in the audio itself (`EngineOptions.inbandDtmf`), next
 * to RFC 4733 events and SIP INFO, which it always takes:
 * - 'always' (the default): on every call; a press a phone sends both in-band and as RFC 4733
 *   counts once (digit-merger.ts);
 * - 'auto': only on calls that negotiated no telephone-event, as Asterisk's `dtmf_mode=auto`
 *   does. A phone or trunk that sends RFC 4733 then costs no detector: a fifth of the engine's
 *   own work per participant-frame (`npm run bench -- media-path`, 0.79 of 'always');
 * - 'never': off.
 * Where detection is off a tone in a party's audio is not kept out of the conference mix either.
 */
export const INBAND_DTMF_MODES = ['always', 'auto', 'never'] as const;

export type InbandDtmfMode = (typeof INBAND_DTMF_MODES)[number];

/** Whether a call listens for in-band tones, given whether it receives RFC 4733 telephone-events. */
export function inbandDtmfOn(mode: InbandDtmfMode, telephoneEventNegotiated: boolean): boolean {
  return mode === 'always' || (mode === 'auto' && !telephoneEventNegotiated);
}
