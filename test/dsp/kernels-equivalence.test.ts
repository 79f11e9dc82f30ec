import { describe, it, expect } from 'vitest';
import { WasmKernels } from '../../engine/dsp/wasm-kernels.js';
import { JsKernels } from '../../engine/dsp/js-kernels.js';
import {
  INPUT_LOST,
  INPUT_SILENT,
  INPUT_UNHEARD,
  RTP_HEADER_BYTES,
  codecRateHz,
  createKernels,
  type Codec,
  type DspKernels,
  type InbandDigit
} from '../../engine/dsp/kernels.js';
import { MEASUREMENT_SLOTS, SAMPLES, SUM_RAW, ZERO_CROSSINGS } from '../../engine/talker/talker-features.js';
import { ulawCompress, alawCompress } from '../../engine/dsp/reference/g711.js';
import { mulberry32, randomInt } from '../support/dsp-prng.js';

const CODECS: Codec[] = ['PCMU', 'PCMA', 'L16', 'G722'];

/** Dual tone of key '5' (770 + 1336 Hz, ITU-T Q.23) for the first 100 ms, then quiet noise. */
function dtmfSample(t: number, rate: number, rand: () => number): number {
  if (t < rate / 10)
    return Math.round(
      6000 * Math.sin((2 * Math.PI * 770 * t) / rate) + 6000 * Math.sin((2 * Math.PI * 1336 * t) / rate)
    );
  return randomInt(rand, -50, 50);
}

/** A PCMU sender with key '5' for 100 ms and a silent listener, in one 8 kHz room. */
function dtmfRoom(k: DspKernels): { room: number; sender: number; listener: number; close(): void } {
  const room = k.createRoom(8000);
  const sender = k.createParty('PCMU');
  const listener = k.createParty('PCMU');
  k.addParty(room, sender);
  k.addParty(room, listener);
  k.setTalker(sender, true);
  return {
    room,
    sender,
    listener,
    close: () => {
      k.destroyRoom(room);
      k.destroyParty(sender);
      k.destroyParty(listener);
    }
  };
}

/** Frame `f` of the sender's press through the room; true when the listener hears anything. */
function dtmfFrame(k: DspKernels, r: ReturnType<typeof dtmfRoom>, f: number, rand: () => number): boolean {
  const b = k.inputPayload(r.sender);
  for (let j = 0; j < 160; j++) b[j] = ulawCompress(dtmfSample(f * 160 + j, 8000, rand));
  k.setInput(r.sender, 160);
  k.setInput(r.listener, INPUT_SILENT);
  k.processRoom(r.room);
  return !k
    .outputPayload(r.listener)
    .subarray(0, 160)
    .every((c) => c === 0xff || c === 0x7f);
}

interface Frame {
  out: number[];
  /** The same bytes as read through outputPacket, behind its 12 header bytes. */
  packetPayload: number[];
  decoded: number[];
  previous: number[];
  /** SUM_RAW, SUM_HIGH_PASSED, ZERO_CROSSINGS, SAMPLES. */
  talker: number[];
  peak: number;
  tone: boolean;
  digit: InbandDigit | null;
}

/** Runs the same seeded scenario through kernels k and records every party's results per frame. */
function scenario(
  k: DspKernels,
  seed: number,
  rate: 8000 | 16000,
  nParties: number,
  frames: number
): Frame[][] {
  const rand = mulberry32(seed);
  const room = k.createRoom(rate);
  const other = k.createRoom(rate === 8000 ? 16000 : 8000);
  const parties: { slot: number; codec: Codec; t: number }[] = [];
  for (let i = 0; i < nParties; i++) {
    const codec = CODECS[i % CODECS.length];
    const slot = k.createParty(codec);
    k.addParty(room, slot);
    k.setTalker(slot, rand() < 0.75);
    k.setMuted(slot, rand() < 0.2);
    k.setGainDb(slot, rand() < 0.5 ? 0 : randomInt(rand, -12, 12));
    k.setListenGainDb(slot, rand() < 0.5 ? 0 : randomInt(rand, -20, 6));
    parties.push({ slot, codec, t: 0 });
  }
  const dtmfParty = parties[0];
  k.setTalker(dtmfParty.slot, true);
  k.setMuted(dtmfParty.slot, false);
  const log: Frame[][] = [];
  for (let f = 0; f < frames; f++) {
    if (f === 10 && nParties > 3) k.addParty(other, parties[3].slot); // moves rooms, keeps its state
    if (f === 15 && nParties > 3) k.addParty(room, parties[3].slot);
    if (f === 19 && nParties > 5)
      for (const p of parties.slice(4, 6)) {
        k.setTalker(p.slot, true);
        k.setMuted(p.slot, false);
      }
    // Two talkers leave in one frame: both fade out across the room's next frame (assembly/room.ts keepTail).
    if (f === 21 && nParties > 5) for (const p of parties.slice(4, 6)) k.addParty(other, p.slot);
    if (f === 24 && nParties > 5) for (const p of parties.slice(4, 6)) k.addParty(room, p.slot);
    // One leaves as another joins in the same frame: the tail stays; the same one back at once drops it.
    if (f === 26 && nParties > 6) k.addParty(other, parties[6].slot);
    if (f === 27 && nParties > 6) {
      k.addParty(other, parties[4].slot);
      k.addParty(room, parties[6].slot);
    }
    if (f === 28 && nParties > 6) {
      k.addParty(other, parties[5].slot);
      k.addParty(room, parties[5].slot);
    }
    // PCMA -> L16 and L16 -> PCMU: a rate change takes its history from the room's (assembly/room.ts bridgeRate).
    if (f === 12 || f === 16) {
      parties[1].codec = f === 12 ? 'L16' : 'PCMU';
      k.setPartyCodec(parties[1].slot, parties[1].codec);
    }
    if (f === 18) {
      parties[2].codec = 'G722'; // L16 -> G722: same rate, history kept, a fresh G.722 state
      k.setPartyCodec(parties[2].slot, 'G722');
    }
    // Mutes, unmutes and volume changes between frames: the gain ramps across the next one (assembly/mixer.ts).
    const changed = parties[1 + (f % (nParties - 1))];
    if (f % 3 === 1) k.setMuted(changed.slot, rand() < 0.5);
    if (f % 7 === 4) k.setGainDb(changed.slot, randomInt(rand, -12, 12));
    if (f % 5 === 2) k.setListenGainDb(changed.slot, randomInt(rand, -20, 6));
    const announce = f % 4 >= 2;
    const ann = k.announcement(room);
    for (let j = 0; j < ann.length; j++) ann[j] = randomInt(rand, -3000, 3000);
    k.setAnnouncementActive(room, announce);
    for (const p of parties) {
      const kind = rand();
      const payload = k.inputPayload(p.slot);
      const codec = p.codec;
      const pRate = codecRateHz(codec);
      const n = pRate / 50;
      // The DTMF party loses one frame inside its tone (concealed: unknown to the detector) and one after it,
      // and its stream stops for one frame inside it (silence, unknown to the detector too).
      // After a change of rate the new stream fills the jitter buffer: two frames concealed from the bridged history.
      const refill = p === parties[1] && (f === 12 || f === 13 || f === 16 || f === 17);
      if (p === dtmfParty ? f === 2 || f === 20 : kind < 0.15 || refill) k.setInput(p.slot, INPUT_LOST);
      else if (p === dtmfParty && f === 4) k.setInput(p.slot, INPUT_UNHEARD);
      else if (p !== dtmfParty && kind < 0.2) k.setInput(p.slot, kind < 0.175 ? INPUT_UNHEARD : INPUT_SILENT);
      else if (codec === 'G722') {
        // Any byte is a G.722 code: two samples' worth of both sub-bands. Some frames carry after
        // their own the packets the jitter buffer skipped before them (one, three, or more than fit:
        // clamped), decoded first and dropped; most of them follow the skip, some (playout starting
        // again) do not.
        const skipped =
          kind < 0.25 ? n / 2 : kind < 0.3 ? (3 * n) / 2 : kind < 0.33 ? n / 2 : kind < 0.35 ? 999 : 0;
        for (let j = 0; j < n / 2 + Math.min(skipped, 640 - n / 2); j++) payload[j] = randomInt(rand, 0, 255);
        k.setInput(p.slot, n / 2, kind < 0.3, skipped);
      } else {
        for (let j = 0; j < n; j++) {
          const x = p === dtmfParty ? dtmfSample(p.t + j, pRate, rand) : randomInt(rand, -12000, 12000);
          if (codec === 'L16') {
            payload[2 * j] = (x >> 8) & 0xff;
            payload[2 * j + 1] = x & 0xff;
          } else payload[j] = codec === 'PCMU' ? ulawCompress(x) : alawCompress(x);
        }
        // Some frames follow a frame the jitter buffer skipped: cross-faded in (assembly/plc.ts plcSkip).
        // The skipped packets some carry are ignored: G.711 and L16 decoders keep no state.
        k.setInput(p.slot, codec === 'L16' ? 2 * n : n, kind < 0.3, kind < 0.25 ? n : 0);
      }
      p.t += n;
      const promptOn = rand() < 0.3;
      const prompt = k.privatePrompt(p.slot);
      for (let j = 0; j < prompt.length; j++) prompt[j] = randomInt(rand, -2000, 2000);
      k.setPrivatePromptActive(p.slot, promptOn);
    }
    k.processRoom(room);
    k.processRoom(other);
    const measurement = new Float64Array(MEASUREMENT_SLOTS);
    log.push(
      parties.map((p) => ({
        out: Array.from(k.outputPayload(p.slot).subarray(0, k.outputBytes(p.slot))),
        packetPayload: Array.from(
          k.outputPacket(p.slot).subarray(RTP_HEADER_BYTES, RTP_HEADER_BYTES + k.outputBytes(p.slot))
        ),
        decoded: Array.from(k.decodedInput(p.slot)),
        previous: Array.from(k.previousDecodedInput(p.slot)),
        talker: (k.talkerMeasurement(p.slot, measurement), Array.from(measurement)),
        peak: k.inputPeak(p.slot),
        tone: k.toneActive(p.slot),
        digit: k.takeDigit(p.slot)
      }))
    );
  }
  k.destroyRoom(room);
  k.destroyRoom(other);
  for (const p of parties) k.destroyParty(p.slot);
  return log;
}

describe('WASM kernels and JS kernels produce the same output', () => {
  for (const rate of [8000, 16000] as const) {
    it(`sample-exact at ${rate} Hz: codecs, talkers, listeners, muted, lost, silent and after-skip frames (G.722 with skipped packets), prompts, announcement, DTMF, room moves, talker measurement`, async () => {
      const wasm = await createKernels('wasm');
      const js = await createKernels('js');
      expect(wasm).toBeInstanceOf(WasmKernels);
      expect(js).toBeInstanceOf(JsKernels);
      const a = scenario(wasm, rate, rate, 7, 30);
      const b = scenario(js, rate, rate, 7, 30);
      for (let f = 0; f < a.length; f++)
        for (let p = 0; p < a[f].length; p++) expect({ f, p, ...a[f][p] }).toEqual({ f, p, ...b[f][p] });
      for (const frame of a) {
        for (const party of frame) {
          expect(party.packetPayload).toEqual(party.out);
          // The talker measurement is of this frame's decoded input, at the room rate.
          expect(party.talker[SAMPLES]).toBe(party.decoded.length);
          expect(party.talker[SUM_RAW]).toBe(party.decoded.reduce((sum, x) => sum + x * x, 0));
        }
      }
      // Each frame's "previous" is the frame before's decoded input (for parties that stayed in the room).
      for (let f = 1; f < a.length; f++) expect(a[f][0].previous).toEqual(a[f - 1][0].decoded);
      expect(a.some((fr) => fr.some((party) => party.talker[ZERO_CROSSINGS] > 0))).toBe(true);
      // The scenario really exercised DTMF: the digit was reported once, and the tone was kept out of the mix.
      const digits = a.flatMap((fr) => (fr[0].digit ? [fr[0].digit] : []));
      expect(digits.map((d) => d.digit)).toEqual(['5']);
      expect(a.some((fr) => fr[0].tone)).toBe(true);
      wasm.close();
      js.close();
      wasm.close();
      expect(() => wasm.processRoom(0)).toThrow(/closed/);
    });
  }

  it('with in-band detection off a tone is neither reported nor kept out of the mix; back on, it is (both kernels alike)', async () => {
    const run = (k: DspKernels): { digits: string[]; toneFrames: number; heardDuringTone: number }[] => {
      const r = dtmfRoom(k);
      const rand = mulberry32(5);
      const phases = [];
      for (const on of [false, true]) {
        k.setInbandDtmf(r.sender, on);
        const phase = { digits: [] as string[], toneFrames: 0, heardDuringTone: 0 };
        for (let f = 0; f < 12; f++) {
          const heard = dtmfFrame(k, r, f, rand);
          const digit = k.takeDigit(r.sender);
          if (digit) phase.digits.push(digit.digit);
          if (k.toneActive(r.sender)) phase.toneFrames++;
          if (f < 5 && heard) phase.heardDuringTone++;
        }
        phases.push(phase);
      }
      r.close();
      return phases;
    };
    const wasm = await createKernels('wasm');
    const js = await createKernels('js');
    const [off, on] = run(wasm);
    expect(off).toEqual({ digits: [], toneFrames: 0, heardDuringTone: 5 });
    expect(on.digits).toEqual(['5']);
    expect(on.toneFrames).toBeGreaterThan(0);
    expect(on.heardDuringTone).toBeLessThan(5);
    expect(run(js)).toEqual([off, on]);
    wasm.close();
    js.close();
  });

  it('a DTMF tone does not leak into what the others hear', async () => {
    const k = await createKernels('wasm');
    const r = dtmfRoom(k);
    const rand = mulberry32(3);
    let leaked = 0;
    let heard = 0;
    for (let f = 0; f < 10; f++) {
      const silent = !dtmfFrame(k, r, f, rand);
      if (k.toneActive(r.sender) && !silent) leaked++;
      if (!k.toneActive(r.sender) && f >= 6 && !silent) heard++;
    }
    expect(leaked).toBe(0);
    expect(heard).toBeGreaterThan(0); // after the tone, the sender's voice (noise) is heard again
    k.close();
  });
});
