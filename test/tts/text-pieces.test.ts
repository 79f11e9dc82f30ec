/** textPieces: long texts cut at sentence, then clause, then word ends; only a run with none is cut inside. */
import { describe, expect, it } from 'vitest';
import { textPieces } from '../../tts/text-pieces.js';

const SENTENCE = 'Please hold while we connect your call.';

describe('textPieces', () => {
  it('leaves a text that fits as one piece', () => {
    expect(textPieces(`  ${SENTENCE}  `, 100)).toEqual([SENTENCE]);
  });

  it('cuts after whole sentences, as many as fit', () => {
    const text = Array.from({ length: 10 }, () => SENTENCE).join(' ');
    const pieces = textPieces(text, 100);
    expect(pieces.length).toBe(5);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(100);
      expect(piece).toBe(`${SENTENCE} ${SENTENCE}`);
    }
  });

  it('cuts a long sentence after a clause, then between words, never inside one', () => {
    const clauses = 'one two three four five six, seven eight nine ten eleven, twelve thirteen fourteen';
    expect(textPieces(clauses, 60)).toEqual([
      'one two three four five six, seven eight nine ten eleven,',
      'twelve thirteen fourteen'
    ]);
    const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima';
    const pieces = textPieces(words, 20);
    expect(pieces.join(' ')).toBe(words);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(20);
      for (const word of piece.split(' ')) expect(words.split(' ')).toContain(word);
    }
  });

  it('cuts a run with no space (a long digit string) at the limit, and keeps every character', () => {
    const digits = '0123456789'.repeat(100);
    const pieces = textPieces(`call ${digits} now.`, 300);
    expect(pieces.every((piece) => piece.length <= 300)).toBe(true);
    expect(pieces.join('').replace(/\s/g, '')).toBe(`call${digits}now.`);
  });

  it('does not cut inside a number with a point, nor at a point without a space', () => {
    const text = 'The price is 3.14 dollars. Visit example.com today for more offers, thank you.';
    const pieces = textPieces(text, 40);
    expect(pieces).toContain('The price is 3.14 dollars.');
    expect(pieces.join(' ')).toBe(text);
  });
});
