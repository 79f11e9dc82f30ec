/**
 * Conference room cost per 20 ms frame for rooms of 3, 10, 100 and 1000 PCMU parties at 8 and
 * 16 kHz (G.711 parties in a 16 kHz room are resampled 8k↔16k), WebAssembly against the
 * plain-TypeScript kernels in the same run:
 * - "room": the whole `processRoom` (decode, in-band DTMF, resampling, mix-minus, encode);
 * - "mix": the mix-minus alone (sum of talkers, each party's sum − own, limiter, int16) on
 *   frames already decoded, WASM `mixRoomOnly` against the reference mixer.
 * Every party talks (the worst case), the announcement is on.
 */
import { nsPerCall } from '../support/ns-per-call.js';
import type { BenchReport } from '../report.js';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { JsKernels } from '../../engine/dsp/js-kernels.js';
import type { DspKernels } from '../../engine/dsp/kernels.js';
import { accumulate, partyOutput } from '../../engine/dsp/reference/mixer.js';
import { ulawCompress } from '../../engine/dsp/reference/g711.js';

/** A room of n talking PCMU parties with speech-level noise payloads; returns a frame function. */
function setupRoom(
  k: DspKernels,
  rate: 8000 | 16000,
  n: number
): { frame: () => void; room: number; parties: number[] } {
  const room = k.createRoom(rate);
  const parties: number[] = [];
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    const p = k.createParty('PCMU');
    k.addParty(room, p);
    k.setTalker(p, true);
    const payload = k.inputPayload(p);
    for (let j = 0; j < 160; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      payload[j] = ulawCompress(((seed >>> 16) % 4000) - 2000);
    }
    parties.push(p);
  }
  k.announcement(room).fill(100);
  k.setAnnouncementActive(room, true);
  const frame = () => {
    for (let i = 0; i < parties.length; i++) k.setInput(parties[i], 160);
    k.processRoom(room);
  };
  return { frame, room, parties };
}

export async function run(report: BenchReport): Promise<void> {
  for (const rate of [8000, 16000] as const) {
    for (const n of [3, 10, 100, 1000]) {
      const wasm = new WasmKernels();
      const js = new JsKernels();
      const w = setupRoom(wasm, rate, n);
      const j = setupRoom(js, rate, n);
      for (let f = 0; f < 5; f++) {
        w.frame();
        j.frame();
      }
      const wasmNs = nsPerCall(`room wasm ${n}@${rate}`, w.frame);
      const jsNs = nsPerCall(`room js ${n}@${rate}`, j.frame);
      report.add({
        suite: 'mixer',
        name: `room ${n} parties ${rate / 1000}k wasm`,
        nsPerFrame: wasmNs,
        nsPerPartyFrame: wasmNs / n,
        speedupOverJs: jsNs / wasmNs
      });
      report.add({
        suite: 'mixer',
        name: `room ${n} parties ${rate / 1000}k js`,
        nsPerFrame: jsNs,
        nsPerPartyFrame: jsNs / n
      });

      // Mix-minus alone on the decoded frames left by the runs above.
      const mixOnly = wasm.exports as unknown as { mixRoomOnly(r: number): void };
      const samples = rate / 50;
      const decoded = j.parties.map((p) => js.decodedInput(p));
      const ann = js.announcement(j.room);
      const sum = new Int32Array(samples);
      const out = new Int16Array(samples);
      const attenuation = new Int32Array(decoded.length);
      const jsMix = () => {
        sum.fill(0);
        for (let i = 0; i < decoded.length; i++) accumulate(sum, decoded[i], 16384, samples);
        accumulate(sum, ann, 16384, samples);
        for (let i = 0; i < decoded.length; i++)
          attenuation[i] = partyOutput(
            sum,
            decoded[i],
            16384,
            16384,
            null,
            out,
            samples,
            true,
            attenuation[i]
          );
      };
      const wasmMixNs = nsPerCall(`mix wasm ${n}@${rate}`, () => mixOnly.mixRoomOnly(w.room));
      const jsMixNs = nsPerCall(`mix js ${n}@${rate}`, jsMix);
      report.add({
        suite: 'mixer',
        name: `mix-minus ${n} parties ${rate / 1000}k wasm`,
        nsPerFrame: wasmMixNs,
        nsPerPartyFrame: wasmMixNs / n,
        speedupOverJs: jsMixNs / wasmMixNs
      });
      report.add({
        suite: 'mixer',
        name: `mix-minus ${n} parties ${rate / 1000}k js`,
        nsPerFrame: jsMixNs,
        nsPerPartyFrame: jsMixNs / n
      });
      wasm.close();
      js.close();
    }
  }
}
