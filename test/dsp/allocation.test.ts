import { describe, it, expect } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_LOST } from '../../engine/dsp/kernels.js';
import { mulberry32, randomInt } from '../support/dsp-prng.js';

describe('the WASM boundary allocates nothing per frame', () => {
  it('10,000 frames of a 50-party room: JS heap flat, WASM memory unchanged, views stable', () => {
    const k = new WasmKernels();
    const memoryBytes = k.exports.memory.buffer.byteLength;
    const room = k.createRoom(8000);
    const parties: number[] = [];
    for (let i = 0; i < 50; i++) {
      const p = k.createParty(i % 2 ? 'PCMU' : 'PCMA');
      k.addParty(room, p);
      k.setTalker(p, i % 5 !== 0);
      parties.push(p);
    }
    // Payloads prepared once; the loop only copies into WASM memory and reads back.
    const rand = mulberry32(9);
    const payloads = Array.from({ length: 8 }, () => Uint8Array.from({ length: 160 }, () => randomInt(rand, 0, 255)));
    let checksum = 0;
    const measurement = new Float64Array(4);
    const frame = (f: number) => {
      const ann = k.announcement(room);
      k.setAnnouncementActive(room, (f & 64) !== 0);
      ann[0] = f & 0x7fff;
      for (let i = 0; i < 50; i++) {
        const p = parties[i];
        if ((f + i) % 23 === 0) k.setInput(p, INPUT_LOST);
        else {
          k.inputPayload(p).set(payloads[(f + i) & 7]);
          k.setInput(p, 160);
        }
      }
      k.processRoom(room);
      for (let i = 0; i < 50; i++) {
        const p = parties[i];
        checksum = (checksum + k.outputPacket(p)[12 + (f % 160)] + k.outputBytes(p) + k.decodedInput(p)[3] + k.previousDecodedInput(p)[5]) | 0;
        k.talkerMeasurement(p, measurement);
        checksum = (checksum + measurement[2]) | 0;
        k.takeDigit(p);
      }
    };
    const views = [k.inputPayload(parties[0]), k.outputPayload(parties[0]), k.decodedInput(parties[0]), k.announcement(room)];
    for (let f = 0; f < 2000; f++) frame(f); // warm-up: JIT tiers, lazily created views
    const samples: number[] = [];
    for (let w = 0; w < 8; w++) {
      for (let f = 0; f < 1000; f++) frame(2000 + w * 1000 + f);
      samples.push(process.memoryUsage().heapUsed);
    }
    // Without allocation, heapUsed only moves by GC noise; per-frame garbage of even one small
    // object per party (50 × 8000 frames × ≥16 B = 6.4 MB) would show as a steady climb.
    const growth = Math.max(...samples.slice(4)) - Math.min(...samples.slice(0, 4));
    expect(growth).toBeLessThan(1_000_000);
    expect(k.exports.memory.buffer.byteLength).toBe(memoryBytes);
    expect([k.inputPayload(parties[0]), k.outputPayload(parties[0]), k.decodedInput(parties[0]), k.announcement(room)]).toEqual(views);
    expect(k.inputPayload(parties[0])).toBe(views[0]);
    expect(k.announcement(room)).toBe(views[3]);
    expect(checksum).not.toBe(0);
    k.close();
  });
});
