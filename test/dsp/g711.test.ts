import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import * as ref from '../../engine/dsp/reference/g711.js';

/** ITU-T G.191 STL tables (decoded value of each code, input range of each code). */
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/g711/g711-g191-tables.json', import.meta.url), 'utf8')
) as {
  ulaw_decode: number[];
  alaw_decode: number[];
  ulaw_encode_input_ranges: Record<string, [number, number]>;
  alaw_encode_input_ranges: Record<string, [number, number]>;
};

// ---- An independent reference, written from G.711 Tables 1a/2a (segment, step, decision
// interval) rather than from the G.191 bit manipulation the implementation follows.

/** μ-law code → linear (16-bit scale): 14-bit value ((2m + 33)·2^e − 33) times 4; sign bit 1 = positive. */
function ulawLevel(code: number): number {
  const inv = ~code & 0xff;
  const e = (inv >> 4) & 7;
  const m = inv & 15;
  const mag = (((2 * m + 33) << e) - 33) * 4;
  return code & 0x80 ? mag : 0 - mag;
}
function ulawStep(code: number): number {
  return 8 << ((~code >> 4) & 7);
}
/** A-law (wire format, even bits inverted): segment 0 is linear with step 16, then step doubles. */
function alawLevel(code: number): number {
  const c = code ^ 0x55;
  const e = (c >> 4) & 7;
  const m = c & 15;
  const mag = e === 0 ? (2 * m + 1) << 3 : (2 * m + 33) << (e + 2);
  return code & 0x80 ? mag : 0 - mag;
}
function alawStep(code: number): number {
  const e = ((code ^ 0x55) >> 4) & 7;
  return e === 0 ? 16 : 8 << e;
}
/**
 * Encoder as a decision-interval search: the positive code whose interval
 * [level − step/2, level + step/2 − 1] holds the magnitude (the top interval is open-ended).
 * Negative inputs use magnitude −x−1 (one's complement, as in G.711's 13/14-bit input).
 */
function buildEncoder(level: (c: number) => number, step: (c: number) => number): (x: number) => number {
  const byMagnitude = new Int16Array(32768).fill(-1);
  let top = 0;
  for (let code = 128; code < 256; code++) {
    const l = level(code);
    const w = step(code);
    for (let m = Math.max(0, l - w / 2); m <= Math.min(32767, l + w / 2 - 1); m++) byMagnitude[m] = code;
    if (l > level(top)) top = code;
  }
  for (let m = 0; m < 32768; m++) if (byMagnitude[m] < 0) byMagnitude[m] = top;
  return (x) => (x >= 0 ? byMagnitude[x] : byMagnitude[-x - 1] & 0x7f);
}
const ulawEncodeIndependent = buildEncoder(ulawLevel, ulawStep);
const alawEncodeIndependent = buildEncoder(alawLevel, alawStep);

function rangesTable(ranges: Record<string, [number, number]>): Int16Array {
  const codeOf = new Int16Array(65536).fill(-1);
  for (const [code, [lo, hi]] of Object.entries(ranges))
    for (let x = lo; x <= hi; x++) codeOf[x + 32768] = Number(code);
  return codeOf;
}

describe('G.711 (ITU-T G.711, G.191 tables)', () => {
  let k: WasmKernels;
  beforeAll(() => {
    k = new WasmKernels();
  });

  it('the fixture covers every int16 input exactly once', () => {
    for (const law of ['ulaw_encode_input_ranges', 'alaw_encode_input_ranges'] as const) {
      const table = rangesTable(fixture[law]);
      expect(table.indexOf(-1)).toBe(-1);
    }
  });

  for (const law of ['PCMU', 'PCMA'] as const) {
    const id = law === 'PCMU' ? 0 : 1;
    const independent = law === 'PCMU' ? ulawEncodeIndependent : alawEncodeIndependent;
    const level = law === 'PCMU' ? ulawLevel : alawLevel;
    const fixtureDecode = law === 'PCMU' ? fixture.ulaw_decode : fixture.alaw_decode;
    const fixtureEncode = rangesTable(
      law === 'PCMU' ? fixture.ulaw_encode_input_ranges : fixture.alaw_encode_input_ranges
    );
    const compress = law === 'PCMU' ? ref.ulawCompress : ref.alawCompress;
    const expand = law === 'PCMU' ? ref.ulawExpand : ref.alawExpand;

    it(`${law}: all 65,536 inputs encode as the independent reference, the G.191 table, the TS reference and the frame encoder`, () => {
      const bench = k.exports as unknown as {
        benchBufferPtr(): number;
        encodeFrame(c: number, s: number, d: number, n: number): void;
        g711Encode(c: number, x: number): number;
      };
      const ptr = bench.benchBufferPtr();
      const mem = () => k.exports.memory.buffer;
      let mismatches = 0;
      for (let base = -32768; base < 32768; base += 1024) {
        const pcm = new Int16Array(mem(), ptr, 1024);
        for (let i = 0; i < 1024; i++) pcm[i] = base + i;
        bench.encodeFrame(id, ptr, ptr + 2048, 1024);
        const codes = new Uint8Array(mem(), ptr + 2048, 1024);
        for (let i = 0; i < 1024; i++) {
          const x = base + i;
          const want = independent(x);
          if (
            codes[i] !== want ||
            fixtureEncode[x + 32768] !== want ||
            compress(x) !== want ||
            bench.g711Encode(id, x) !== want
          )
            mismatches++;
        }
      }
      expect(mismatches).toBe(0);
    });

    it(`${law}: all 256 codes decode as the independent reference and the G.191 table, and round trip`, () => {
      const bench = k.exports as unknown as {
        benchBufferPtr(): number;
        decodeFrame(c: number, s: number, d: number, n: number): void;
      };
      const ptr = bench.benchBufferPtr();
      const codes = new Uint8Array(k.exports.memory.buffer, ptr, 256);
      for (let c = 0; c < 256; c++) codes[c] = c;
      bench.decodeFrame(id, ptr, ptr + 256, 256);
      const pcm = new Int16Array(k.exports.memory.buffer, ptr + 256, 256);
      for (let c = 0; c < 256; c++) {
        expect(pcm[c]).toBe(level(c));
        expect(pcm[c]).toBe(fixtureDecode[c]);
        expect(expand(c)).toBe(fixtureDecode[c]);
        const again = independent(pcm[c]);
        // μ-law has two zeros (0x7f and 0xff); decoding either gives 0, which encodes as 0xff.
        expect(again === c || (law === 'PCMU' && pcm[c] === 0 && again === 0xff)).toBe(true);
        expect(compress(pcm[c])).toBe(again);
      }
    });
  }
});
