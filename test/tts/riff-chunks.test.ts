/** scanRiff: the bounded walk over a RIFF file's chunks that finds a WAV's `fmt ` and `data`. */
import { describe, expect, it } from 'vitest';
import { RIFF_MAX_CHUNKS, scanRiff } from '../../tts/riff-chunks.js';
import { chunk, riffWave } from '../support/wav-bytes.js';

const WANTED = ['fmt ', 'data'];

describe('scanRiff', () => {
  it('finds the wanted chunks past others, skipping the pad byte after an odd-sized chunk', () => {
    const file = riffWave([
      chunk('LIST', Buffer.from('INFOodd')),
      chunk('fmt ', Buffer.alloc(16, 1)),
      chunk('junk', Buffer.alloc(3)),
      chunk('data', Buffer.alloc(10, 2))
    ]);
    const scan = scanRiff(file, WANTED);
    expect(scan).toMatchObject({ formType: 'WAVE', bigEndian: false });
    expect(scan?.chunks.get('fmt ')).toEqual({ bodyOffset: 12 + 16 + 8, bodyBytes: 16, truncated: false });
    const data = scan?.chunks.get('data');
    expect(data).toMatchObject({ bodyBytes: 10, truncated: false });
    expect(Array.from(file.subarray(data?.bodyOffset, (data?.bodyOffset ?? 0) + 10))).toEqual(
      Array(10).fill(2)
    );
  });

  it('keeps the first chunk of an id', () => {
    const scan = scanRiff(riffWave([chunk('data', Buffer.alloc(2)), chunk('data', Buffer.alloc(4))]), [
      'data'
    ]);
    expect(scan?.chunks.get('data')?.bodyBytes).toBe(2);
  });

  it('reports a chunk that claims more than the file holds as truncated, and stops there', () => {
    const file = riffWave([chunk('fmt ', Buffer.alloc(16)), chunk('data', Buffer.alloc(6), 0xffffffff)]);
    expect(scanRiff(file, WANTED)?.chunks.get('data')).toMatchObject({ bodyBytes: 6, truncated: true });
    const lying = riffWave([chunk('smpl', Buffer.alloc(36), 0xfffffff0), chunk('data', Buffer.alloc(6))]);
    expect(scanRiff(lying, WANTED)?.chunks.has('data')).toBe(false);
  });

  it(`gives up after ${RIFF_MAX_CHUNKS} chunks`, () => {
    const padding = Array.from({ length: RIFF_MAX_CHUNKS }, () => chunk('junk', Buffer.alloc(0)));
    expect(scanRiff(riffWave([...padding, chunk('data', Buffer.alloc(2))]), WANTED)?.chunks.has('data')).toBe(
      false
    );
    expect(
      scanRiff(riffWave([...padding.slice(1), chunk('data', Buffer.alloc(2))]), WANTED)?.chunks.has('data')
    ).toBe(true);
  });

  it('reads RIFX sizes big-endian, and refuses what is not RIFF at all', () => {
    const rifx = Buffer.from(riffWave([chunk('data', Buffer.alloc(4))]));
    rifx.write('RIFX', 0, 'latin1');
    rifx.writeUInt32BE(4, 16);
    expect(scanRiff(rifx, WANTED)).toMatchObject({ bigEndian: true });
    expect(scanRiff(rifx, WANTED)?.chunks.get('data')?.bodyBytes).toBe(4);
    expect(scanRiff(Buffer.from('RIFF'), WANTED)).toBeUndefined();
    expect(scanRiff(Buffer.from('OggS\0\0\0\0WAVEfmt '), WANTED)).toBeUndefined();
  });
});
