/**
 * `npm run cluster` shares its RTP range out among its engines: each gets its own even/odd pairs,
 * none overlapping, all inside the range, as many as an equal share allows.
 */
import { describe, expect, it } from 'vitest';
import { rtpPortSlices } from '../../engine/cluster/rtp-port-slices.js';
import { InvalidArgumentError } from '../../engine/errors.js';

describe('rtpPortSlices', () => {
  it('cuts the default range into equal slices of whole pairs, one per engine', () => {
    expect(rtpPortSlices({ minPort: 20000, maxPort: 29999 }, 4)).toEqual([
      { minPort: 20000, maxPort: 22499 },
      { minPort: 22500, maxPort: 24999 },
      { minPort: 25000, maxPort: 27499 },
      { minPort: 27500, maxPort: 29999 }
    ]);
  });

  it('starts every slice on an even port inside an odd-bounded range, and never overlaps', () => {
    const slices = rtpPortSlices({ minPort: 10001, maxPort: 10030 }, 3);
    // Pairs 10002/3 .. 10028/9: 14, so 4 each; the last two pairs are left over.
    expect(slices).toEqual([
      { minPort: 10002, maxPort: 10009 },
      { minPort: 10010, maxPort: 10017 },
      { minPort: 10018, maxPort: 10025 }
    ]);
    for (const s of slices) expect(s.minPort % 2).toBe(0);
  });

  it('refuses a range with fewer pairs than engines, and a count that is not a whole number', () => {
    expect(() => rtpPortSlices({ minPort: 20000, maxPort: 20005 }, 4)).toThrow(InvalidArgumentError);
    expect(() => rtpPortSlices({ minPort: 20000, maxPort: 20005 }, 3)).not.toThrow();
    for (const n of [0, 1.5, Number.NaN])
      expect(() => rtpPortSlices({ minPort: 20000, maxPort: 29999 }, n)).toThrow(RangeError);
  });
});
