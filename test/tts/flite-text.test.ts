/**
 * Flite reads its text as bytes and read past its own memory on runs of non-ASCII ones, each
 * from a caller's display name: the text it is given is ASCII, Latin letters without accents.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { fliteText } from '../../tts/flite-text.js';
import { PromptService } from '../../tts/index.js';

describe('Flite text', () => {
  const tts = new PromptService();
  afterAll(() => tts.close());

  it('speaks names that made flite read out of bounds', async () => {
    const names = [
      'é'.repeat(32),
      'X\u0301\u0301\u0301\u0301'.repeat(4),
      'Иван'.repeat(8),
      ('a' + '\uFDFA').normalize('NFKC'),
      'ÿ'.repeat(32)
    ];
    for (const name of names) await expect(tts.textToPcm(name, 8000)).resolves.toBeInstanceOf(Int16Array);
    expect((await tts.textToPcm('é'.repeat(32), 8000)).length).toBeGreaterThan(8000);
  });

  it('keeps Latin letters without their accents and turns other scripts into spaces', () => {
    expect(fliteText('Zoë Łukasz')).toBe('Zoe Lukasz');
    expect(fliteText('Ærøskøbing Straße')).toBe('AEroskobing Strasse');
    expect(fliteText('Ivan Иванов').trim()).toBe('Ivan');
    expect(fliteText('plain text, 42.')).toBe('plain text, 42.');
  });
});
