/**
 * Mutation operators of the fuzzer, all driven by one seeded PRNG: bit flips, random bytes,
 * truncation, splicing two seeds, deleting a range, duplicated lines, a huge line, a wrong
 * length field, NUL bytes, and long runs of one character (spaces, separators, quotes,
 * brackets). Each takes and returns whole buffers; the caller stacks one to three of them.
 */

export type Random = () => number;

/** Characters whose long runs have made parsers backtrack or loop. */
const RUN_CHARS = ' \t,;:<>"\\%@=/[]\r\n.-0a';

const int = (rand: Random, below: number): number => Math.floor(rand() * below);

/** A run length spread over orders of magnitude: mostly short, sometimes tens of kB. */
function runLength(rand: Random): number {
  return Math.floor(2 ** (rand() * 16));
}

function insert(input: Buffer, at: number, bytes: Buffer): Buffer {
  return Buffer.concat([input.subarray(0, at), bytes, input.subarray(at)]);
}

/** Start offsets of every line (after each LF), the first line included. */
function lineStarts(input: Buffer): number[] {
  const starts = [0];
  for (let i = input.indexOf(0x0a); i >= 0 && i + 1 < input.length; i = input.indexOf(0x0a, i + 1)) starts.push(i + 1);
  return starts;
}

export type Mutation = (input: Buffer, rand: Random, other: Buffer) => Buffer;

export const MUTATIONS: Record<string, Mutation> = {
  bitFlips(input, rand) {
    const out = Buffer.from(input);
    const flips = 1 + int(rand, 8);
    for (let i = 0; i < flips && out.length > 0; i++) out[int(rand, out.length)] ^= 1 << int(rand, 8);
    return out;
  },
  randomBytes(input, rand) {
    const out = Buffer.from(input);
    const n = 1 + int(rand, 4);
    for (let i = 0; i < n && out.length > 0; i++) out[int(rand, out.length)] = int(rand, 256);
    return out;
  },
  truncate(input, rand) {
    return input.subarray(0, int(rand, input.length + 1));
  },
  splice(input, rand, other) {
    return Buffer.concat([input.subarray(0, int(rand, input.length + 1)), other.subarray(int(rand, other.length + 1))]);
  },
  deleteRange(input, rand) {
    const from = int(rand, input.length + 1);
    return Buffer.concat([input.subarray(0, from), input.subarray(from + 1 + int(rand, 64))]);
  },
  duplicateLine(input, rand) {
    const starts = lineStarts(input);
    const which = int(rand, starts.length);
    const end = which + 1 < starts.length ? starts[which + 1] : input.length;
    const line = input.subarray(starts[which], end);
    const copies = rand() < 0.8 ? 1 + int(rand, 4) : runLength(rand);
    return insert(input, end, Buffer.concat(Array.from({ length: Math.min(copies, 2000) }, () => line)));
  },
  hugeHeader(input, rand) {
    const starts = lineStarts(input);
    const at = starts[Math.min(starts.length - 1, 1 + int(rand, starts.length))];
    const ch = RUN_CHARS[int(rand, RUN_CHARS.length)];
    const header = rand() < 0.5 ? `X-Huge: ${ch.repeat(1000 + int(rand, 70_000))}\r\n` : `X${ch.repeat(1000 + int(rand, 70_000))}: 1\r\n`;
    return insert(input, at, Buffer.from(header, 'latin1'));
  },
  wrongLength(input, rand) {
    const text = input.toString('latin1');
    const m = /(Content-Length|\nl)[ \t]*:[ \t]*\d*/i.exec(text);
    if (m) {
      const values = ['0', '-1', '4294967296', '99999999999', String(int(rand, 70_000)), String(input.length), '1e3', ''];
      const number = values[int(rand, values.length)];
      return Buffer.from(text.slice(0, m.index) + m[0].replace(/\d*$/, number) + text.slice(m.index + m[0].length), 'latin1');
    }
    // Binary: RTP/RTCP length and count fields live in the first bytes.
    const out = Buffer.from(input);
    if (out.length > 3) {
      out[int(rand, 4)] = int(rand, 256);
      out[2 + int(rand, 2)] = int(rand, 256);
    }
    return out;
  },
  nulBytes(input, rand) {
    const n = rand() < 0.8 ? 1 + int(rand, 3) : runLength(rand);
    return insert(input, int(rand, input.length + 1), Buffer.alloc(n, 0));
  },
  runOfOneChar(input, rand) {
    const ch = RUN_CHARS[int(rand, RUN_CHARS.length)];
    return insert(input, int(rand, input.length + 1), Buffer.from(ch.repeat(runLength(rand)), 'latin1'));
  }
};

const NAMES = Object.keys(MUTATIONS);

/** Inputs are cut here: twice the largest SIP message and any UDP datagram. */
export const MAX_INPUT_BYTES = 128 * 1024;

/** One to three stacked mutations of `seed`; `other` is a second seed for splicing. */
export function mutate(seed: Buffer, other: Buffer, rand: Random): { input: Buffer; applied: string[] } {
  let input = seed;
  const applied: string[] = [];
  const count = 1 + int(rand, 3);
  for (let i = 0; i < count; i++) {
    const name = NAMES[int(rand, NAMES.length)];
    input = MUTATIONS[name](input, rand, other);
    if (input.length > MAX_INPUT_BYTES) input = input.subarray(0, MAX_INPUT_BYTES);
    applied.push(name);
  }
  return { input, applied };
}
