/**
 * Cuts a long text into pieces an engine speaks one at a time, each at most `maxChars` long:
 * after the last sentence end (. ! ? then a space) that fits, else the last clause end (, ; :),
 * else the last space, and only a single run longer than `maxChars` without any (a long digit
 * string, say) is cut inside, at `maxChars`. The pieces, spoken in order, say the whole text.
 */

const SENTENCE_END = /[.!?]["')\]]*\s/g;
const CLAUSE_END = /[,;:]["')\]]*\s/g;
const SPACE = /\s/g;

/** The end of the last match of `pattern` in `window`, or 0. */
function lastBreak(window: string, pattern: RegExp): number {
  let end = 0;
  for (const match of window.matchAll(pattern)) end = match.index + match[0].length;
  return end;
}

export function textPieces(text: string, maxChars: number): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > maxChars) {
    // One more character: a break just after the limit still leaves a piece of maxChars.
    const window = rest.slice(0, maxChars + 1);
    const cut =
      lastBreak(window, SENTENCE_END) ||
      lastBreak(window, CLAUSE_END) ||
      lastBreak(window, SPACE) ||
      maxChars;
    const piece = rest.slice(0, cut).trim();
    if (piece) pieces.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest) pieces.push(rest);
  return pieces;
}
