/**
 * Tone levels for the cluster tests, robust to a busy host: the level of a tone is its strongest
 * 100 ms stretch in the window. A late frame clock or a jitter buffer re-adapting blanks parts of
 * a window, which lowers a whole-window Goertzel level without saying anything about the path;
 * a path that carries the tone shows it at full level somewhere, and a path that must not carry it
 * shows it nowhere.
 */
import type { TonePhone } from '../../support/tone-phone.js';
import { sleep } from '../../support/wait.js';
import { toneLevelDb } from '../../support/tone-analysis.js';

/**
 * Peak amplitude of the test phones' tones (about -21 dBFS): a room's mix of several of them, and
 * a trunk leg carrying that mix on, stays below the mixer's limiter ceiling, whose gain on
 * louder peaks would make "sum minus own" inexact and leak a trace of a party's own tone back.
 */
export const TONE_AMPLITUDE = 3000;

const WINDOW = 800;
const HOP = 200;

export function peakToneDb(pcm: Int16Array, freqHz: number): number {
  if (pcm.length <= WINDOW) return toneLevelDb(pcm, freqHz, 8000);
  let best = -200;
  for (let at = 0; at + WINDOW <= pcm.length; at += HOP)
    best = Math.max(best, toneLevelDb(pcm.subarray(at, at + WINDOW), freqHz, 8000));
  return best;
}

/**
 * The level of a tone over the whole window, for absence: one coherent Goertzel sum, whose
 * bin is as narrow as the window is long, so G.711's broadband quantisation noise (which fills a
 * 100 ms block's 10 Hz bin to about -50 dB) stays out of it, and so do the clicks of a busy host.
 * A real leak (an echo path carrying the party's own tone) is a steady tone tens of dB louder.
 */
export function wholeToneDb(pcm: Int16Array, freqHz: number): number {
  const n = pcm.length;
  if (n === 0) return -200;
  const k = 2 * Math.cos((2 * Math.PI * freqHz) / 8000);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = pcm[i] / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const amplitude = (2 * Math.sqrt(Math.max(s1 * s1 + s2 * s2 - k * s1 * s2, 0))) / n;
  return 20 * Math.log10(amplitude + 1e-12);
}

/** What `p` hears in a fresh window: a function giving a tone's level (its strongest 100 ms), and `.whole` (over the window, for absence). */
export async function heard(
  p: TonePhone,
  ms = 1200
): Promise<((f: number) => number) & { whole: (f: number) => number }> {
  await sleep(300);
  p.clearReceived();
  await sleep(ms);
  const pcm = p.receivedPcm();
  return Object.assign((f: number) => peakToneDb(pcm, f), { whole: (f: number) => wholeToneDb(pcm, f) });
}
