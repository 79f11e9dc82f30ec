/**
 * The in-band DTMF detector and concealed input. A frame the jitter buffer conceals (no packet in
 * time: PLC output) is unknown audio: the detector neither ends nor starts a digit on it, so a
 * stream that arrives late or in bursts reports each press once. Real breaks of up to 10 ms in a
 * tone are bridged (ITU-T Q.24). Checked on the WASM detector and its TypeScript reference (which
 * must agree bit for bit), and on the whole per-frame path (G.711 decode, PLC, detection) of both
 * kernel implementations.
 */
import { describe, it, expect } from 'vitest';
import { WasmDtmf, type DtmfEvent } from '../support/dtmf-harness.js';
import { SignalBuilder, toPcm16 } from '../support/dtmf-signals.js';
import { DtmfDetectorReference } from '../../engine/dsp/reference/dtmf-detector.js';
import {
  createKernels,
  INPUT_LOST,
  INPUT_SILENT,
  INPUT_UNHEARD,
  type InbandDigit
} from '../../engine/dsp/kernels.js';
import { ulawCompress } from '../../engine/dsp/reference/g711.js';

const wasm = new WasmDtmf();

interface Run {
  events: DtmfEvent[];
  active: boolean[];
}

/** Feeds `pcm` in frames of `block` samples to both detectors; `concealed(frameIndex)` flags frames. */
function runBoth(
  pcm: Int16Array,
  rate: 8000 | 16000,
  block: number,
  concealed: (frame: number) => boolean
): { wasm: Run; ref: Run } {
  const state = wasm.init(0, rate);
  const ref = new DtmfDetectorReference(rate);
  const a: Run = { events: [], active: [] };
  const b: Run = { events: [], active: [] };
  for (let i = 0, frame = 0; i < pcm.length; i += block, frame++) {
    const chunk = pcm.subarray(i, Math.min(pcm.length, i + block));
    const hidden = concealed(frame);
    const e = wasm.feed(state, chunk, i + chunk.length, hidden);
    if (e) a.events.push(e);
    a.active.push(wasm.exports.dtmfToneActive(state) !== 0);
    const code = ref.process(chunk, hidden);
    if (code !== 0) {
      b.events.push({
        digit: String.fromCharCode(code),
        startSample: ref.resultStartSample,
        durationSamples: ref.resultDurationSamples,
        reportedAt: i + chunk.length
      });
    }
    b.active.push(ref.toneActive);
  }
  return { wasm: a, ref: b };
}

/** 200 ms of '5' between two 100 ms pauses; frames of 20 ms. */
function pressWithPauses(rate: 8000 | 16000): Int16Array {
  return toPcm16(new SignalBuilder(rate).silence(100).digit('5', { durationMs: 200 }).silence(100).build());
}

/** The same press with 60 ms (frames 8-10) zeroed: what a stall leaves when nothing is concealed. */
function pressWithHole(rate: 8000 | 16000): Int16Array {
  const pcm = pressWithPauses(rate);
  const frame = rate / 50;
  pcm.fill(0, 8 * frame, 11 * frame);
  return pcm;
}

describe('in-band DTMF on concealed input', () => {
  for (const rate of [8000, 16000] as const) {
    const frame = rate / 50;

    it(`reports a press once when 60 ms inside it are concealed (${rate} Hz)`, () => {
      const hole = (f: number): boolean => f >= 8 && f <= 10;
      const { wasm: got, ref } = runBoth(pressWithHole(rate), rate, frame, hole);
      expect(got).toEqual(ref);
      expect(got.events.map((e) => e.digit)).toEqual(['5']);
      // Its span is the tone's (the concealed frames neither shorten nor split it): 200 ms ± 10.
      expect(got.events[0].startSample / rate).toBeCloseTo(0.1, 1);
      expect(Math.abs(got.events[0].durationSamples / rate - 0.2)).toBeLessThan(0.011);
    });

    it(`would report it twice if the same 60 ms were taken as silence (${rate} Hz)`, () => {
      const { wasm: got, ref } = runBoth(pressWithHole(rate), rate, frame, () => false);
      expect(got).toEqual(ref);
      expect(got.events.map((e) => e.digit)).toEqual(['5', '5']);
    });

    it(`never starts a digit on concealed frames, even when they hold a perfect tone (${rate} Hz)`, () => {
      // Frames 5-14 (the whole tone) flagged concealed: a PLC copy of a tone is not a key press.
      const { wasm: got, ref } = runBoth(pressWithPauses(rate), rate, frame, (f) => f >= 5 && f <= 14);
      expect(got).toEqual(ref);
      expect(got.events).toEqual([]);
      expect(got.active.every((a) => !a)).toBe(true);
    });

    it(`ends a digit when the stream stops after a concealed stretch (${rate} Hz)`, () => {
      // 100 ms of tone, 60 ms concealed, then silence (the jitter buffer gave up): one digit, of
      // the tone that was heard.
      const pcm = toPcm16(
        new SignalBuilder(rate).silence(100).digit('5', { durationMs: 100 }).silence(300).build()
      );
      const { wasm: got, ref } = runBoth(pcm, rate, frame, (f) => f >= 10 && f <= 12);
      expect(got).toEqual(ref);
      expect(got.events.map((e) => e.digit)).toEqual(['5']);
      expect(Math.abs(got.events[0].durationSamples / rate - 0.1)).toBeLessThan(0.011);
    });
  }

  it('bridges a real 10 ms break inside a tone (ITU-T Q.24): one digit', () => {
    const pcm = toPcm16(
      new SignalBuilder(8000)
        .silence(100)
        .digit('8', { durationMs: 80 })
        .silence(10)
        .digit('8', { durationMs: 80 })
        .silence(100)
        .build()
    );
    const { wasm: got, ref } = runBoth(pcm, 8000, 160, () => false);
    expect(got).toEqual(ref);
    expect(got.events.map((e) => e.digit)).toEqual(['8']);
  });

  it('agrees with the reference bit for bit with concealed blocks of odd sizes', () => {
    const pcm = toPcm16(
      new SignalBuilder(8000)
        .silence(50)
        .digit('1', { durationMs: 120 })
        .silence(60)
        .digit('#', { durationMs: 90 })
        .silence(80)
        .build()
    );
    for (const block of [37, 160, 333]) {
      const { wasm: got, ref } = runBoth(pcm, 8000, block, (f) => f % 5 === 2);
      expect(got).toEqual(ref);
    }
  });
});

/** 300 ms of '5' between 100 ms of silence, then 200 ms more, through one PCMU party's per-frame path. */
async function pressThroughKernels(
  kind: 'wasm' | 'js',
  /** Frame f's input when it brings no packet (INPUT_LOST, ...); undefined for its audio. */
  input: (f: number) => number | undefined
): Promise<{ digits: InbandDigit[]; peaks: number[] }> {
  const k = await createKernels(kind);
  const room = k.createRoom(8000);
  const party = k.createParty('PCMU');
  k.addParty(room, party);
  k.setTalker(party, true);
  const pcm = toPcm16(
    new SignalBuilder(8000).silence(100).digit('5', { durationMs: 300 }).silence(100).build()
  );
  const digits: InbandDigit[] = [];
  const peaks: number[] = [];
  for (let f = 0; f * 160 < pcm.length + 1600; f++) {
    const given = input(f);
    if (given !== undefined) k.setInput(party, given);
    else if (f * 160 >= pcm.length) k.setInput(party, INPUT_SILENT);
    else {
      const payload = k.inputPayload(party);
      for (let j = 0; j < 160; j++) payload[j] = ulawCompress(pcm[f * 160 + j]);
      k.setInput(party, 160);
    }
    k.processRoom(room);
    peaks.push(Math.max(...k.decodedInput(party).map(Math.abs)));
    const d = k.takeDigit(party);
    if (d) digits.push(d);
  }
  k.close();
  return { digits, peaks };
}

describe('the per-frame path with lost packets inside a press', () => {
  for (const kind of ['wasm', 'js'] as const) {
    it(`${kind} kernels: PLC fills a 100 ms loss inside a 300 ms press (silent after 60 ms, G.711 I.2.4), and the press is one digit`, async () => {
      const { digits } = await pressThroughKernels(kind, (f) => (f >= 8 && f <= 12 ? INPUT_LOST : undefined));
      expect(digits.map((d) => d.digit)).toEqual(['5']);
      expect(Math.abs(digits[0].durationSamples / 8000 - 0.3)).toBeLessThan(0.011);
    });
  }
});

describe('the per-frame path when the stream stops inside a press', () => {
  // Frames 8-16 (180 ms) bring no packet: 3 concealed, then 6 of a stream that stopped (a pause
  // or a stall, the jitter buffer cannot tell yet), then the press goes on.
  async function press(
    kind: 'wasm' | 'js',
    stopped: number
  ): Promise<{ digits: string[]; stoppedPeak: number }> {
    const { digits, peaks } = await pressThroughKernels(kind, (f) =>
      f >= 8 && f <= 10 ? INPUT_LOST : f >= 11 && f <= 16 ? stopped : undefined
    );
    return { digits: digits.map((d) => d.digit), stoppedPeak: Math.max(...peaks.slice(11, 17)) };
  }

  for (const kind of ['wasm', 'js'] as const) {
    it(`${kind} kernels: take the stopped frames as unknown to the detector and as silence to the mix: one digit`, async () => {
      expect(await press(kind, INPUT_UNHEARD)).toEqual({ digits: ['5'], stoppedPeak: 0 });
    });

    it(`${kind} kernels: would report the press twice if those frames were plain silence`, async () => {
      expect(await press(kind, INPUT_SILENT)).toEqual({ digits: ['5', '5'], stoppedPeak: 0 });
    });
  }
});
