/**
 * G.711 expansion tables for WAV prompt files (WAVE format tags 7 and 6): each of the 256 codes
 * to its 16-bit linear value, built once. The values are those of ITU-T G.711 tables 2 (μ-law)
 * and 1 (A-law), computed as the G.191 STL `ulaw_expand` / `alaw_expand` do; tts/ stands alone,
 * so it keeps its own copy of the engine's reference rather than importing it.
 */

function ulawExpand(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 7;
  const magnitude = (((inverted & 0x0f) << 3) + 0x84) << exponent;
  return inverted & 0x80 ? 0x84 - magnitude : magnitude - 0x84;
}

function alawExpand(code: number): number {
  const toggled = code ^ 0x55;
  const exponent = (toggled >> 4) & 7;
  let magnitude = ((toggled & 0x0f) << 4) + 8;
  if (exponent > 0) magnitude = (magnitude + 0x100) << (exponent - 1);
  return toggled & 0x80 ? magnitude : -magnitude;
}

function table(expand: (code: number) => number): Int16Array {
  const values = new Int16Array(256);
  for (let code = 0; code < 256; code++) values[code] = expand(code);
  return values;
}

/** μ-law code → linear sample (−32124..32124). */
export const MULAW_TO_LINEAR = table(ulawExpand);

/** A-law code (as transmitted, even bits inverted) → linear sample (−32256..32256). */
export const ALAW_TO_LINEAR = table(alawExpand);
