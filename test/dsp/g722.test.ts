/**
 * G.722 at 64 kbit/s against an independent implementation: FFmpeg 5.1's g722 encoder and decoder
 * (test/fixtures/g722/README.md says how the fixtures were made). Its input is 0.4 s of a sweep
 * to 7.5 kHz, pink noise, a full-scale square wave and a quiet tone. Both of ours, the TypeScript
 * reference and the WebAssembly core, must give FFmpeg's bytes and samples exactly (G.722's
 * arithmetic is specified to the bit), frame by frame as the engine runs them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { G722_STATE, g722Decode, g722Encode, g722InitState } from '../../engine/dsp/reference/g722.js';
import { createKernels } from '../../engine/dsp/kernels.js';
import type { KernelExports } from '../../bench/support/kernel-exports.js';
import { dtmfTone, toPcm16 } from '../support/dtmf-signals.js';
import { sine } from '../support/dsp-prng.js';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/g722/${name}`, import.meta.url));
}

function samples(raw: Buffer): Int16Array {
  const copy = new Uint8Array(raw);
  return new Int16Array(copy.buffer, 0, copy.length >> 1);
}

const input = samples(fixture('input-16k.raw'));
const encoded = new Uint8Array(fixture('ffmpeg-encoded.g722'));
const decoded = samples(fixture('ffmpeg-decoded-16k.raw'));
/** One 20 ms frame: 320 samples, 160 bytes. */
const FRAME = 320;

describe('G.722 (64 kbit/s) against FFmpeg', () => {
  it('the fixtures are 0.4 s at 16 kHz and its 3,200 bytes', () => {
    expect(input.length).toBe(6400);
    expect(encoded.length).toBe(3200);
    expect(decoded.length).toBe(6400);
  });

  it('the TypeScript reference encodes to the same bytes and decodes to the same samples, frame by frame', () => {
    const enc = new Int32Array(G722_STATE.words);
    const dec = new Int32Array(G722_STATE.words);
    g722InitState(enc);
    g722InitState(dec);
    const out = new Uint8Array(encoded.length);
    const pcm = new Int16Array(decoded.length);
    for (let at = 0; at < input.length; at += FRAME) {
      g722Encode(enc, input.subarray(at), out.subarray(at / 2), FRAME);
      g722Decode(dec, encoded.subarray(at / 2), pcm.subarray(at), FRAME / 2);
    }
    expect(Buffer.from(out).equals(Buffer.from(encoded))).toBe(true);
    expect(Array.from(pcm)).toEqual(Array.from(decoded));
  });

  it('the WebAssembly core does the same, its state word for word the reference', () => {
    const kernels = new WasmKernels();
    try {
      const e = kernels.exports as unknown as KernelExports;
      const base = e.benchBufferPtr();
      const enc = base;
      const dec = base + 4 * G722_STATE.words;
      const pcmAt = base + 1024;
      const codeAt = base + 1024 + 2 * FRAME;
      e.g722Init(enc);
      e.g722Init(dec);
      const refEnc = new Int32Array(G722_STATE.words);
      const refDec = new Int32Array(G722_STATE.words);
      g722InitState(refEnc);
      g722InitState(refDec);
      const scratch = new Uint8Array(refEnc.length);
      const out = new Uint8Array(encoded.length);
      const pcm = new Int16Array(decoded.length);
      for (let at = 0; at < input.length; at += FRAME) {
        const memory = e.memory.buffer;
        new Int16Array(memory, pcmAt, FRAME).set(input.subarray(at, at + FRAME));
        e.g722EncodeFrame(enc, pcmAt, codeAt, FRAME);
        out.set(new Uint8Array(memory, codeAt, FRAME / 2), at / 2);
        new Uint8Array(memory, codeAt, FRAME / 2).set(encoded.subarray(at / 2, at / 2 + FRAME / 2));
        e.g722DecodeFrame(dec, codeAt, pcmAt, FRAME / 2);
        pcm.set(new Int16Array(memory, pcmAt, FRAME), at);

        g722Encode(refEnc, input.subarray(at), scratch, FRAME);
        g722Decode(refDec, encoded.subarray(at / 2), new Int16Array(FRAME), FRAME / 2);
        expect(Array.from(new Int32Array(memory, enc, G722_STATE.words))).toEqual(Array.from(refEnc));
        expect(Array.from(new Int32Array(memory, dec, G722_STATE.words))).toEqual(Array.from(refDec));
      }
      expect(Buffer.from(out).equals(Buffer.from(encoded))).toBe(true);
      expect(Array.from(pcm)).toEqual(Array.from(decoded));
    } finally {
      kernels.close();
    }
  });

  it('a 1 kHz tone comes back at its level, 22 samples later (the two QMFs)', () => {
    const n = 3200;
    const tone = sine(n, 1000, 16000, 8000);
    const enc = new Int32Array(G722_STATE.words);
    const dec = new Int32Array(G722_STATE.words);
    g722InitState(enc);
    g722InitState(dec);
    const code = new Uint8Array(n / 2);
    const back = new Int16Array(n);
    g722Encode(enc, tone, code, n);
    g722Decode(dec, code, back, n / 2);
    let signal = 0;
    let error = 0;
    for (let i = 800; i < n - 22; i++) {
      signal += tone[i] * tone[i];
      error += (back[i + 22] - tone[i]) ** 2;
    }
    expect(10 * Math.log10(signal / error)).toBeGreaterThan(30);
  });

  it('a phone that sends its digits as tones over G.722 is heard pressing them, by both kernels', async () => {
    // "1", "5", "#": 80 ms tones at −10 dBm0 with 80 ms pauses, encoded as the phone would.
    const tones = new Int16Array(16000);
    for (const [index, digit] of ['1', '5', '#'].entries()) {
      tones.set(toPcm16(dtmfTone(digit, { sampleRateHz: 16000, durationMs: 80 })), 1600 + index * 2560);
    }
    const enc = new Int32Array(G722_STATE.words);
    g722InitState(enc);
    const code = new Uint8Array(tones.length / 2);
    g722Encode(enc, tones, code, tones.length);
    for (const kind of ['wasm', 'js'] as const) {
      const k = await createKernels(kind);
      try {
        const room = k.createRoom(16000);
        const phone = k.createParty('G722');
        k.addParty(room, phone);
        const digits: string[] = [];
        for (let at = 0; at < code.length; at += 160) {
          k.inputPayload(phone).set(code.subarray(at, at + 160));
          k.setInput(phone, 160);
          k.processRoom(room);
          const digit = k.takeDigit(phone);
          if (digit) digits.push(digit.digit);
        }
        expect(digits, kind).toEqual(['1', '5', '#']);
      } finally {
        k.close();
      }
    }
  });
  it('a frame that carries the packets skipped before it decodes as if they had been played, by both kernels; G.711 ignores them', async () => {
    // A tone whose level changes frame by frame, so that the decoder's step sizes move.
    const frames = 12;
    const pcm = new Int16Array(frames * 320);
    for (let i = 0; i < pcm.length; i++) {
      const level = 500 + 2500 * ((Math.floor(i / 320) * 7) % 5);
      pcm[i] = Math.round(level * Math.sin((2 * Math.PI * 700 * i) / 16000));
    }
    const enc = new Int32Array(G722_STATE.words);
    g722InitState(enc);
    const code = new Uint8Array(pcm.length / 2);
    g722Encode(enc, pcm, code, pcm.length);
    const packet = (f: number): Uint8Array => code.subarray(f * 160, f * 160 + 160);
    const SKIPPED = [5, 6, 7];
    for (const kind of ['wasm', 'js'] as const) {
      const k = await createKernels(kind);
      try {
        // `played` hears every packet; the other room misses the frames of 5-7 (a skip takes no frame):
        // `skipping` gets them after packet 8, `ignoring` does not, and neither does PCMU decode them.
        const all = k.createRoom(16000);
        const other = k.createRoom(16000);
        const played = k.createParty('G722');
        const skipping = k.createParty('G722');
        const ignoring = k.createParty('G722');
        const pcmu = k.createParty('PCMU');
        const pcmuPlain = k.createParty('PCMU');
        k.addParty(all, played);
        for (const p of [skipping, ignoring, pcmu, pcmuPlain]) k.addParty(other, p);
        for (let f = 0; f < frames; f++) {
          k.inputPayload(played).set(packet(f));
          k.setInput(played, 160);
          k.processRoom(all);
          if (SKIPPED.includes(f)) continue;
          const carried = f === 8 ? 480 : 0;
          k.inputPayload(skipping).set(packet(f));
          for (const [j, s] of SKIPPED.entries()) k.inputPayload(skipping).set(packet(s), 160 + 160 * j);
          k.setInput(skipping, 160, false, carried);
          k.inputPayload(ignoring).set(packet(f));
          k.setInput(ignoring, 160);
          k.inputPayload(pcmu).fill(0x55, 0, 160).fill(0xd5, 160);
          k.setInput(pcmu, 160, false, carried);
          k.inputPayload(pcmuPlain).fill(0x55, 0, 160);
          k.setInput(pcmuPlain, 160);
          k.processRoom(other);
          const expected = Array.from(k.decodedInput(played));
          expect(Array.from(k.decodedInput(skipping)), `${kind} frame ${f}`).toEqual(expected);
          // Without them the decoder is off the encoder's track.
          if (f >= 8) expect(Array.from(k.decodedInput(ignoring))).not.toEqual(expected);
          expect(Array.from(k.decodedInput(pcmu))).toEqual(Array.from(k.decodedInput(pcmuPlain)));
        }
      } finally {
        k.close();
      }
    }
  });
});
