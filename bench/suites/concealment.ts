/**
 * What packet-loss concealment costs: rooms of 3 talking parties (PCMU at 8 kHz, L16 at 16 kHz)
 * where every party loses every other frame, so each lost frame starts a concealment (the pitch
 * search of assembly/plc.ts) and each frame after it cross-fades back. Per party-frame, the
 * WebAssembly core against the plain-TypeScript one in the same run, and against the same room
 * with no loss (`overNoLoss`: what the losses add).
 */
import { nsPerCall } from '../support/ns-per-call.js';
import type { BenchReport } from '../report.js';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { JsKernels } from '../../engine/dsp/js-kernels.js';
import { INPUT_LOST, type DspKernels } from '../../engine/dsp/kernels.js';
import { g711EncodeFrame, l16EncodeFrame } from '../../engine/dsp/reference/g711.js';
import { sine } from '../../test/support/dsp-prng.js';

const PARTIES = 3;

/** Two frames of a room of talkers (a voice-like tone), the second lost when `lossy`. */
function setupRoom(k: DspKernels, codec: 'PCMU' | 'L16', lossy: boolean): () => void {
  const rate = codec === 'L16' ? 16000 : 8000;
  const n = rate / 50;
  const room = k.createRoom(rate);
  const parties: number[] = [];
  const payloads: Uint8Array[] = [];
  for (let i = 0; i < PARTIES; i++) {
    const p = k.createParty(codec);
    k.addParty(room, p);
    k.setTalker(p, true);
    const pcm = sine(n, 180 + 40 * i, rate, 6000);
    const payload = new Uint8Array(codec === 'L16' ? 2 * n : n);
    if (codec === 'L16') l16EncodeFrame(pcm, payload, n);
    else g711EncodeFrame('PCMU', pcm, payload, n);
    parties.push(p);
    payloads.push(payload);
  }
  return () => {
    for (let i = 0; i < PARTIES; i++) {
      k.inputPayload(parties[i]).set(payloads[i]);
      k.setInput(parties[i], payloads[i].length);
    }
    k.processRoom(room);
    for (let i = 0; i < PARTIES; i++) k.setInput(parties[i], lossy ? INPUT_LOST : payloads[i].length);
    k.processRoom(room);
  };
}

export async function run(report: BenchReport): Promise<void> {
  for (const codec of ['PCMU', 'L16'] as const) {
    const wasm = new WasmKernels();
    const js = new JsKernels();
    // Each call runs two frames of the room.
    const lossyWasm = nsPerCall(`lossy wasm ${codec}`, setupRoom(wasm, codec, true)) / 2;
    const cleanWasm = nsPerCall(`clean wasm ${codec}`, setupRoom(wasm, codec, false)) / 2;
    const lossyJs = nsPerCall(`lossy js ${codec}`, setupRoom(js, codec, true)) / 2;
    const label = `rooms of 3, ${codec} at ${codec === 'L16' ? 16 : 8} kHz, every other frame lost`;
    report.add({
      suite: 'concealment',
      name: `${label}, wasm`,
      nsPerFrame: lossyWasm,
      nsPerPartyFrame: lossyWasm / PARTIES,
      speedupOverJs: lossyJs / lossyWasm,
      extra: { overNoLoss: Number((lossyWasm / cleanWasm).toFixed(2)) }
    });
    report.add({
      suite: 'concealment',
      name: `${label}, js`,
      nsPerFrame: lossyJs,
      nsPerPartyFrame: lossyJs / PARTIES
    });
    wasm.close();
    js.close();
  }
}
