/**
 * Tone levels for the cluster tests, robust to a busy host: the level of a tone is its strongest
 * 200 ms stretch in the window. A late frame clock or a jitter buffer re-adapting blanks parts of
 * a window, which lowers a whole-window Goertzel level without saying anything about the path;
 * a path that carries the tone shows it at full level somewhere, and a path that must not carry it
 * shows it nowhere.
 */
import { toneLevelDb } from '../../support/tone-analysis.js';

const WINDOW = 1600;
const HOP = 400;

export function peakToneDb(pcm: Int16Array, freqHz: number): number {
  if (pcm.length <= WINDOW) return toneLevelDb(pcm, freqHz, 8000);
  let best = -200;
  for (let at = 0; at + WINDOW <= pcm.length; at += HOP) best = Math.max(best, toneLevelDb(pcm.subarray(at, at + WINDOW), freqHz, 8000));
  return best;
}

/**
 * The level of a tone over the whole window, for absence: glitches on a busy host (a late tick,
 * a concealed frame) spread a little energy over every frequency in a short stretch, so absence is
 * judged on the whole window, where such clicks average out and a real leak would not.
 */
export function wholeToneDb(pcm: Int16Array, freqHz: number): number {
  return toneLevelDb(pcm, freqHz, 8000);
}
