import { describe, expect, it } from 'vitest';
import { LatchProbation, PROBATION_PACKETS } from '../../engine/rtp/latch-probation.js';

const packet = (sequenceNumber: number, ssrc = 0x9000_0001) => ({ sequenceNumber, ssrc });

/** Feeds packets in order; returns the index of the one that served probation, or -1. */
function firstPass(probation: LatchProbation, packets: [string, number, number, number?][]): number {
  return packets.findIndex(([host, port, seq, ssrc]) => probation.passes(host, port, packet(seq, ssrc)));
}

describe('LatchProbation', () => {
  it(`passes a source on its ${PROBATION_PACKETS}th consecutive packet, across 65535 → 0`, () => {
    const probation = new LatchProbation();
    expect(
      firstPass(
        probation,
        [65533, 65534, 65535, 0, 1].map((seq) => ['10.0.0.1', 5000, seq])
      )
    ).toBe(3);
  });

  it('starts over on a gap, a repeat, a step back or a new SSRC', () => {
    const probation = new LatchProbation();
    const from = (seqs: number[], ssrcs?: number[]) =>
      seqs.map((seq, i): [string, number, number, number?] => ['10.0.0.1', 5000, seq, ssrcs?.[i]]);
    expect(firstPass(probation, from([1, 2, 3, 5, 6, 7]))).toBe(-1);
    expect(firstPass(probation, from([8]))).toBe(0); // 5, 6, 7, 8
    expect(firstPass(probation, from([20, 21, 21, 22, 23, 22, 23, 24]))).toBe(-1);
    expect(firstPass(probation, from([25]))).toBe(0);
    expect(firstPass(probation, from([30, 31, 32, 33], [1, 1, 1, 2]))).toBe(-1);
    expect(firstPass(probation, from([34, 35, 36], [2, 2, 2]))).toBe(2);
  });

  it('tells sources apart by address and port: one in a row each is no run', () => {
    const probation = new LatchProbation();
    const interleaved: [string, number, number][] = [];
    // One stream of consecutive numbers dealt round the four address:port pairs of two hosts.
    for (let seq = 1; seq <= 16; seq++)
      interleaved.push([seq % 4 < 2 ? '10.0.0.1' : '10.0.0.2', 5000 + (seq % 2), seq]);
    expect(firstPass(probation, interleaved)).toBe(-1);
  });

  it('keeps a steady source in probation while a few strangers come and go, and forgets everything on clear', () => {
    const probation = new LatchProbation();
    const packets: [string, number, number][] = [];
    for (let seq = 100; seq < 104; seq++) {
      // Between two of the caller's packets, two new strangers each: the stalest slot is theirs.
      packets.push(['10.0.0.1', 6000 + seq, 7], ['10.0.0.1', 7000 + seq, 7], ['10.0.0.1', 5000, seq]);
    }
    expect(firstPass(probation, packets)).toBe(packets.length - 1);
    probation.passes('10.0.0.1', 5000, packet(200));
    probation.passes('10.0.0.1', 5000, packet(201));
    probation.clear();
    expect(
      firstPass(
        probation,
        [202, 203, 204].map((seq) => ['10.0.0.1', 5000, seq])
      )
    ).toBe(-1);
  });

  it('a flood from more sources than it has slots evicts them and latches none', () => {
    const probation = new LatchProbation();
    const flood: [string, number, number][] = [];
    for (let seq = 0; seq < 40; seq++)
      for (let port = 0; port < 8; port++) flood.push(['10.0.0.9', 9000 + port, seq]);
    expect(firstPass(probation, flood)).toBe(-1);
  });
});
