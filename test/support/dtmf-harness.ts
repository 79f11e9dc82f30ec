/**
 * Runs the WASM DTMF detector (build/uasmedia.wasm, through its static test state and PCM
 * buffer) and the plain-TypeScript reference over the same PCM in blocks of a chosen size, and
 * collects what each reports: digits with start and duration, and the tone-active flag after
 * every block.
 */
import { instantiateDsp } from '../../engine/dsp/wasm-module.js';
import { DtmfDetectorReference } from '../../engine/dsp/reference/dtmf-detector.js';

export interface DtmfEvent {
  digit: string;
  startSample: number;
  durationSamples: number;
  /** Input samples consumed when it was reported. */
  reportedAt: number;
}

export interface DtmfRun {
  events: DtmfEvent[];
  /** dtmfToneActive after each block. */
  active: boolean[];
}

export interface DtmfExports {
  memory: WebAssembly.Memory;
  DTMF_STATE_BYTES: WebAssembly.Global;
  dtmfInit(state: number, sampleRateHz: number): void;
  dtmfProcess(state: number, pcm: number, nSamples: number, concealed: number): number;
  dtmfResultStartSample(state: number): bigint;
  dtmfResultDurationSamples(state: number): number;
  dtmfToneActive(state: number): number;
  dtmfTestStatePtr(index: number): number;
  dtmfTestPcmPtr(): number;
  dtmfTablePtr(which: number): number;
}

/** Samples the WASM test buffer holds. */
export const WASM_PCM_CAPACITY = 32768;

export class WasmDtmf {
  readonly exports: DtmfExports;

  constructor() {
    this.exports = instantiateDsp().exports as unknown as DtmfExports;
  }

  init(party: number, sampleRateHz: number): number {
    const state = this.exports.dtmfTestStatePtr(party);
    this.exports.dtmfInit(state, sampleRateHz);
    return state;
  }

  /** Feeds one block to `state` (`concealed`: PLC output for missing input); returns the digit reported, if any. */
  feed(state: number, block: Int16Array, consumed: number, concealed = false): DtmfEvent | undefined {
    if (block.length > WASM_PCM_CAPACITY) throw new RangeError('block larger than the WASM test buffer');
    const ptr = this.exports.dtmfTestPcmPtr();
    new Int16Array(this.exports.memory.buffer, ptr, block.length).set(block);
    const code = this.exports.dtmfProcess(state, ptr, block.length, concealed ? 1 : 0);
    if (code === 0) return undefined;
    return {
      digit: String.fromCharCode(code),
      startSample: Number(this.exports.dtmfResultStartSample(state)),
      durationSamples: this.exports.dtmfResultDurationSamples(state),
      reportedAt: consumed
    };
  }

  run(pcm: Int16Array, sampleRateHz = 8000, block = 160, party = 0): DtmfRun {
    const state = this.init(party, sampleRateHz);
    const out: DtmfRun = { events: [], active: [] };
    for (let i = 0; i < pcm.length; i += block) {
      const chunk = pcm.subarray(i, Math.min(pcm.length, i + block));
      const e = this.feed(state, chunk, i + chunk.length);
      if (e) out.events.push(e);
      out.active.push(this.exports.dtmfToneActive(state) !== 0);
    }
    return out;
  }
}

export function runReference(pcm: Int16Array, sampleRateHz = 8000, block = 160): DtmfRun {
  const d = new DtmfDetectorReference(sampleRateHz);
  const out: DtmfRun = { events: [], active: [] };
  for (let i = 0; i < pcm.length; i += block) {
    const chunk = pcm.subarray(i, Math.min(pcm.length, i + block));
    const code = d.process(chunk);
    if (code !== 0) {
      out.events.push({
        digit: String.fromCharCode(code),
        startSample: d.resultStartSample,
        durationSamples: d.resultDurationSamples,
        reportedAt: i + chunk.length
      });
    }
    out.active.push(d.toneActive);
  }
  return out;
}
