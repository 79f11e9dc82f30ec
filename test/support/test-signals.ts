/** Signals at 8 kHz that jitter and splice tests send, sample by sample. */

/** Sample i of a signal at 8 kHz. */
export type Signal = (i: number) => number;

/** A 437 Hz tone at 8000 peak (it repeats every 50 frames). */
export const tone437: Signal = (i) => Math.round(8000 * Math.sin((2 * Math.PI * 437 * i) / 8000));

/** A steady vowel-like sound: 143 Hz and its next four harmonics, falling 6 dB/octave. */
export const voiced: Signal = (i) => {
  let x = 0;
  for (let h = 1; h <= 5; h++) x += (5000 / h) * Math.sin((2 * Math.PI * 143 * h * i) / 8000 + h);
  return Math.round(x);
};
