/**
 * A party's codec changed to another rate mid-call (re-INVITE: G.711 to L16/16000 or G.722, and
 * back): the frames concealed while its new stream fills the jitter buffer continue what the room
 * heard of it, and the new stream comes in without a click, in both kernels alike. Its history had
 * been zeroed with the rate: the refill was exact silence (321 to 661 samples) and the new stream
 * came back at full amplitude in one step.
 */
import { describe, it, expect } from 'vitest';
import {
  INPUT_LOST,
  codecRateHz,
  createKernels,
  type Codec,
  type DspKernels
} from '../../engine/dsp/kernels.js';
import { alawCompress, ulawCompress } from '../../engine/dsp/reference/g711.js';
import { G722_STATE, g722Encode, g722InitState } from '../../engine/dsp/reference/g722.js';

const HZ = 197;
const AMPLITUDE = 10362;

function sine(t: number, rate: number): number {
  return Math.round(AMPLITUDE * Math.sin((2 * Math.PI * HZ * t) / rate));
}

/**
 * A talker sends the sine in `from` for 10 frames, changes to `to`, loses `refill` frames and sends
 * the sine on (in time) for 10 more; returns what the room heard of it (its room-rate input).
 */
function heard(k: DspKernels, roomRate: 8000 | 16000, from: Codec, to: Codec, refill: number): Int16Array {
  const room = k.createRoom(roomRate);
  const talker = k.createParty(from);
  k.addParty(room, talker);
  k.setTalker(talker, true);
  const n = roomRate / 50;
  const frames = 20 + refill;
  const out = new Int16Array(frames * n);
  let codec = from;
  const encoder = new Int32Array(G722_STATE.words);
  g722InitState(encoder);
  const pcm = new Int16Array(320);
  for (let f = 0; f < frames; f++) {
    if (f === 10) k.setPartyCodec(talker, (codec = to));
    const rate = codecRateHz(codec);
    const nn = rate / 50;
    const payload = k.inputPayload(talker);
    if (f >= 10 && f < 10 + refill) k.setInput(talker, INPUT_LOST);
    else {
      for (let j = 0; j < nn; j++) {
        const x = (pcm[j] = sine(f * nn + j, rate));
        if (codec === 'L16') {
          payload[2 * j] = (x >> 8) & 0xff;
          payload[2 * j + 1] = x & 0xff;
        } else payload[j] = codec === 'PCMA' ? alawCompress(x) : ulawCompress(x);
      }
      if (codec === 'G722') g722Encode(encoder, pcm, payload, nn);
      k.setInput(talker, codec === 'L16' ? 2 * nn : codec === 'G722' ? nn / 2 : nn);
    }
    k.processRoom(room);
    out.set(k.decodedInput(talker).subarray(0, n), f * n);
  }
  k.destroyRoom(room);
  k.destroyParty(talker);
  return out;
}

function largestStep(pcm: Int16Array, from = 1, to = pcm.length): number {
  let s = 0;
  for (let i = Math.max(1, from); i < to; i++) s = Math.max(s, Math.abs(pcm[i] - pcm[i - 1]));
  return s;
}

function longestZeroRun(pcm: Int16Array): number {
  let longest = 0;
  for (let i = 0, run = 0; i < pcm.length; i++)
    longest = Math.max(longest, (run = pcm[i] === 0 ? run + 1 : 0));
  return longest;
}

describe('a codec change to another rate', () => {
  for (const roomRate of [8000, 16000] as const)
    for (const [from, to] of [
      ['PCMU', 'L16'],
      ['L16', 'PCMU'],
      ['PCMU', 'G722'],
      ['G722', 'PCMA']
    ] as const)
      it(`${from} to ${to} in a ${roomRate} Hz room: concealed from the room's history, no click, both kernels alike`, async () => {
        const wasm = await createKernels('wasm');
        const js = await createKernels('js');
        const n = roomRate / 50;
        const a = heard(wasm, roomRate, from, to, 2);
        const b = heard(js, roomRate, from, to, 2);
        expect(Array.from(a)).toEqual(Array.from(b));
        const own = largestStep(a, 5 * n, 10 * n);
        const atSwitch = largestStep(a, 10 * n - 4, 12 * n);
        const atResume = largestStep(a, 12 * n - 4, 14 * n);
        // A zero crossing may hit 0 exactly; the history zeroed made the two concealed frames silence.
        expect(longestZeroRun(a.subarray(5 * n))).toBeLessThan(4);
        // The concealment's whole pitch period is up to half a sample off the sine's (plc.ts): 20 % at most.
        expect(atSwitch).toBeLessThan(1.25 * own);
        expect(atResume).toBeLessThan(1.25 * own);
        wasm.close();
        js.close();
      });
});
