import v8 from 'node:v8';
import { PerformanceObserver, constants as perfConstants, performance } from 'node:perf_hooks';
import { describe, it, expect } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { INPUT_LOST } from '../../engine/dsp/kernels.js';
import { mulberry32, randomInt } from '../support/dsp-prng.js';

describe('the WASM boundary allocates nothing per frame', () => {
  it('10,000 frames of a 50-party room: JS heap flat, WASM memory unchanged, views stable', async () => {
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
    const payloads = Array.from({ length: 8 }, () =>
      Uint8Array.from({ length: 160 }, () => randomInt(rand, 0, 255))
    );
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
          k.setInput(p, 160, (f + i) % 17 === 0);
        }
      }
      k.processRoom(room);
      for (let i = 0; i < 50; i++) {
        const p = parties[i];
        checksum =
          (checksum +
            k.outputPacket(p)[12 + (f % 160)] +
            k.outputBytes(p) +
            k.decodedInput(p)[3] +
            k.previousDecodedInput(p)[5]) |
          0;
        k.talkerMeasurement(p, measurement);
        checksum = (checksum + measurement[2]) | 0;
        k.takeDigit(p);
      }
    };
    const views = [
      k.inputPayload(parties[0]),
      k.outputPayload(parties[0]),
      k.decodedInput(parties[0]),
      k.announcement(room)
    ];
    for (let f = 0; f < 2000; f++) frame(f); // warm-up: JIT tiers, lazily created views
    // What the frames allocate shows in V8's new space, where every short-lived object starts:
    // its use grows by exactly what was allocated until a scavenge empties it. One small object
    // per party-frame is 50 × 1000 × ≥16 B = 800 kB a chunk of 1000 frames; with no allocation
    // a chunk adds only the ~2 kB of the statistics call itself. Not heapUsed: it also counts the
    // optimised code V8's background compiler installs, which on a loaded host lands in the
    // measured window (1 MB once, failing the old heapUsed bound).
    const newSpaceUsed = (): number =>
      v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.space_used_size;
    const scavenges: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (
          (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
          perfConstants.NODE_PERFORMANCE_GC_MINOR
        )
          scavenges.push(entry.startTime);
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    const growths: number[] = [];
    const from = performance.now();
    for (let w = 0; w < 8; w++) {
      const before = newSpaceUsed();
      for (let f = 0; f < 1000; f++) frame(2000 + w * 1000 + f);
      growths.push(newSpaceUsed() - before);
    }
    const to = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries are delivered asynchronously
    observer.disconnect();
    const scavengesDuring = scavenges.filter((t) => t >= from && t <= to).length;
    console.log(
      `new-space growth per 1000 frames: ${growths.join(', ')} B; ${scavengesDuring} scavenges in 8000 frames`
    );
    // Garbage shows either as growth in most chunks (a big young generation) or as scavenges (a
    // small one); a one-off allocation by V8 itself (a chunk with a few hundred kB) as neither.
    const median = [...growths].sort((a, b) => a - b)[4];
    expect(median).toBeLessThan(64 * 1024);
    expect(scavengesDuring).toBeLessThanOrEqual(1);
    expect(k.exports.memory.buffer.byteLength).toBe(memoryBytes);
    expect([
      k.inputPayload(parties[0]),
      k.outputPayload(parties[0]),
      k.decodedInput(parties[0]),
      k.announcement(room)
    ]).toEqual(views);
    expect(k.inputPayload(parties[0])).toBe(views[0]);
    expect(k.announcement(room)).toBe(views[3]);
    expect(checksum).not.toBe(0);
    k.close();
  });
});
