/**
 * Call-progress tones generated once per sample rate and looped by the players: ringback while
 * a transfer leg rings, the entry beep of a conference, and the tones a party hears when its own
 * keypad mutes or unmutes it.
 */

function sineMix(sampleRateHz: number, seconds: number, freqsHz: number[], amplitude: number): Int16Array {
  const n = Math.round(sampleRateHz * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const f of freqsHz) s += Math.sin((2 * Math.PI * f * i) / sampleRateHz);
    out[i] = Math.round((amplitude * s) / freqsHz.length);
  }
  return out;
}

const cache = new Map<string, Int16Array>();

/**
 * Ringback cadences by name (`ConferencePartyMediaSettings.ringbackTone`), as Asterisk's
 * indications.conf gives them: each step is the frequencies sounding (none: silence) and its
 * length. 'us' (ITU-T E.180, the North American 440 + 480 Hz, 2 s on, 4 s off) is the default.
 */
const RINGBACK_CADENCES = {
  us: [
    { hz: [440, 480], ms: 2000 },
    { hz: [], ms: 4000 }
  ],
  uk: [
    { hz: [400, 450], ms: 400 },
    { hz: [], ms: 200 },
    { hz: [400, 450], ms: 400 },
    { hz: [], ms: 2000 }
  ],
  /** CEPT, most of Europe (ETSI TR 101 041): 425 Hz, 1 s on, 4 s off. */
  eu: [
    { hz: [425], ms: 1000 },
    { hz: [], ms: 4000 }
  ],
  fr: [
    { hz: [440], ms: 1500 },
    { hz: [], ms: 3500 }
  ]
} as const satisfies Record<string, ReadonlyArray<{ hz: readonly number[]; ms: number }>>;

export type RingbackToneName = keyof typeof RINGBACK_CADENCES;
export const RINGBACK_TONE_NAMES = Object.keys(RINGBACK_CADENCES) as RingbackToneName[];

/** One cycle of the named ringback cadence at about -16 dBm0 per tone (the US one by default). */
export function ringbackCycle(sampleRateHz: number, name: RingbackToneName = 'us'): Int16Array {
  const key = `ringback:${name}:${sampleRateHz}`;
  let pcm = cache.get(key);
  if (!pcm) {
    const steps = RINGBACK_CADENCES[name];
    pcm = new Int16Array(steps.reduce((n, step) => n + (sampleRateHz * step.ms) / 1000, 0));
    let at = 0;
    for (const step of steps) {
      const n = (sampleRateHz * step.ms) / 1000;
      if (step.hz.length > 0) pcm.set(sineMix(sampleRateHz, step.ms / 1000, [...step.hz], 7000), at);
      at += n;
    }
    cache.set(key, pcm);
  }
  return pcm;
}

/** A tone of `seconds` at `hz` with 10 ms ramps at both ends, so it starts and stops without a click. */
function rampedTone(sampleRateHz: number, seconds: number, hz: number, amplitude: number): Int16Array {
  const pcm = sineMix(sampleRateHz, seconds, [hz], amplitude);
  const ramp = Math.round(sampleRateHz * 0.01);
  for (let i = 0; i < ramp; i++) {
    const g = i / ramp;
    pcm[i] = Math.round(pcm[i] * g);
    pcm[pcm.length - 1 - i] = Math.round(pcm[pcm.length - 1 - i] * g);
  }
  return pcm;
}

/** A short 200 ms beep at 800 Hz, played to a room when a party enters. */
export function entryBeep(sampleRateHz: number): Int16Array {
  const key = `beep:${sampleRateHz}`;
  let pcm = cache.get(key);
  if (!pcm) {
    pcm = rampedTone(sampleRateHz, 0.2, 800, 8000);
    cache.set(key, pcm);
  }
  return pcm;
}

/** The two notes of the mute tones, 100 ms each with 50 ms between: away from DTMF's frequencies. */
export const MUTE_TONE_HZ = { high: 880, low: 587 } as const;

/**
 * What a party hears when its own keypad mutes it (a falling pair of notes) or unmutes it (a
 * rising pair), as a FreeSWITCH or Asterisk conference plays its muted and unmuted sounds.
 */
export function muteTone(sampleRateHz: number, muted: boolean): Int16Array {
  const key = `mute:${muted}:${sampleRateHz}`;
  let pcm = cache.get(key);
  if (!pcm) {
    const [first, second] = muted
      ? [MUTE_TONE_HZ.high, MUTE_TONE_HZ.low]
      : [MUTE_TONE_HZ.low, MUTE_TONE_HZ.high];
    const note = Math.round(sampleRateHz * 0.1);
    const gap = Math.round(sampleRateHz * 0.05);
    pcm = new Int16Array(2 * note + gap);
    pcm.set(rampedTone(sampleRateHz, 0.1, first, 6000), 0);
    pcm.set(rampedTone(sampleRateHz, 0.1, second, 6000), note + gap);
    cache.set(key, pcm);
  }
  return pcm;
}
