/**
 * Call-progress tones generated once per sample rate and looped by the players: ringback while
 * a transfer leg rings, and the entry beep of a conference.
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
 * One 6 s ringback cadence: 440 + 480 Hz for 2 s, then 4 s of silence (ITU-T E.180 / the North
 * American cadence), at about -16 dBm0 per tone.
 */
export function ringbackCycle(sampleRateHz: number): Int16Array {
  const key = `ringback:${sampleRateHz}`;
  let pcm = cache.get(key);
  if (!pcm) {
    const on = sineMix(sampleRateHz, 2, [440, 480], 7000);
    pcm = new Int16Array(sampleRateHz * 6);
    pcm.set(on, 0);
    cache.set(key, pcm);
  }
  return pcm;
}

/** A short 200 ms beep at 800 Hz with 10 ms ramps, played to a room when a party enters. */
export function entryBeep(sampleRateHz: number): Int16Array {
  const key = `beep:${sampleRateHz}`;
  let pcm = cache.get(key);
  if (!pcm) {
    pcm = sineMix(sampleRateHz, 0.2, [800], 8000);
    const ramp = Math.round(sampleRateHz * 0.01);
    for (let i = 0; i < ramp; i++) {
      const g = i / ramp;
      pcm[i] = Math.round(pcm[i] * g);
      pcm[pcm.length - 1 - i] = Math.round(pcm[pcm.length - 1 - i] * g);
    }
    cache.set(key, pcm);
  }
  return pcm;
}
