/**
 * The prompt cache's bound holds for entries of no samples too (text a voice cannot speak), and
 * for entries whose key (the whole text) outweighs their audio; audio too large to cache is still
 * shared with whoever asks for it while someone holds it.
 */
import { describe, expect, it } from 'vitest';
import { PromptCache } from '../../tts/prompt-cache.js';

describe('PromptCache', () => {
  it('bounds entries of 0 samples by a least weight: they used to weigh nothing and pile up', async () => {
    const cache = new PromptCache(64 * 1024);
    for (let i = 0; i < 1000; i++) await cache.get(`名前 ${i}`, () => Promise.resolve(new Int16Array(0)));
    const stats = cache.stats();
    expect(stats.cacheEntries).toBe(64);
    expect(stats.cacheBytes).toBe(64 * 1024);
  });

  it('weighs real audio by its bytes, evicting the least recently used', async () => {
    const cache = new PromptCache(10_000);
    const pcm = (n: number): Promise<Int16Array> => Promise.resolve(new Int16Array(n));
    await cache.get('a', () => pcm(2000)); // 4000 bytes
    await cache.get('b', () => pcm(2000));
    await cache.get('a', () => pcm(2000)); // a used again: b is now the oldest
    await cache.get('c', () => pcm(2000));
    expect(cache.stats()).toMatchObject({ cacheEntries: 2, cacheBytes: 8000, cacheHits: 1, cacheMisses: 3 });
    let produced = false;
    await cache.get('a', () => ((produced = true), pcm(2000)));
    expect(produced).toBe(false);
  });

  it('weighs an entry by its key when that is larger: 4000-character texts of no audio held 46 kB each, counted as 1 kB', async () => {
    const cache = new PromptCache(64 * 1024);
    const text = 'Привет '.repeat(570);
    for (let i = 0; i < 100; i++) await cache.get(`${i} ${text}`, () => Promise.resolve(new Int16Array(0)));
    const stats = cache.stats();
    expect(stats.cacheBytes).toBeLessThanOrEqual(64 * 1024);
    expect(stats.cacheEntries).toBe(Math.floor((64 * 1024) / (2 * `10 ${text}`.length)));
  });

  it('shares audio too large to cache with later requests while it is held, instead of producing it again', async () => {
    const cache = new PromptCache(1000);
    let productions = 0;
    const produce = (): Promise<Int16Array> => (productions++, Promise.resolve(new Int16Array(10_000)));
    const first = await cache.get('hold-music', produce);
    const second = await cache.get('hold-music', produce);
    expect(second).toBe(first);
    expect(productions).toBe(1);
    expect(cache.stats()).toMatchObject({ cacheEntries: 0, cacheBytes: 0, cacheHits: 1, cacheMisses: 1 });
  });
});
