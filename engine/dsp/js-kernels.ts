/**
 * `DspKernels` in plain TypeScript on the references (reference/*.ts): the same steps in the
 * same order as assembly/room.ts, so its output equals the WebAssembly core's sample for sample.
 * It is the baseline of the end-to-end load benchmark and a fallback without WebAssembly.
 */
import {
  codecRateHz,
  DSP_MAX_PARTIES,
  DSP_MAX_ROOMS,
  frameSamples,
  INPUT_LOST,
  INPUT_UNHEARD,
  RTP_HEADER_BYTES,
  skippedFits,
  slotLimit,
  type Codec,
  type DspKernels,
  type InbandDigit,
  type KernelCapacity,
  type RoomSampleRateHz
} from './kernels.js';
import { g711DecodeFrame, g711EncodeFrame, l16DecodeFrame, l16EncodeFrame } from './reference/g711.js';
import { G722_STATE, g722Decode, g722Encode, g722InitState } from './reference/g722.js';
import {
  DOWN_STATE_SAMPLES,
  HalfbandDownsampler,
  HalfbandUpsampler,
  UP_STATE_SAMPLES
} from './reference/resample-halfband.js';
import { findPitch, PlcReference } from './reference/plc.js';
import {
  accumulate,
  gainQ14FromDb,
  listenGainQ14FromDb,
  partyOutput,
  accumulateRamp,
  fadeTail,
  peakAbs,
  UNITY_GAIN_Q14
} from './reference/mixer.js';
import { DtmfDetectorReference } from './reference/dtmf-detector.js';
import { ClosedError, InvalidStateError } from '../errors.js';
import {
  FILTER_STATE_SLOTS,
  MEASUREMENT_SLOTS,
  highPassCoefficients,
  measureFrame
} from '../talker/talker-features.js';

const MAX_PARTIES = DSP_MAX_PARTIES;
const MAX_ROOMS = DSP_MAX_ROOMS;
const MAX_FRAME = 320;
const PAYLOAD_BYTES = 640;
/** Parties a room's tail lists (assembly/layout.ts TAIL_WHO). */
const TAIL_WHO = 8;

class JsParty {
  codec: Codec;
  talker = false;
  muted = false;
  promptActive = false;
  gainQ14 = UNITY_GAIN_Q14;
  listenGainQ14 = UNITY_GAIN_Q14;
  room = -1;
  input = INPUT_LOST;
  /** This frame's input follows a frame the jitter buffer skipped (cleared by processRoom). */
  followsSkip = false;
  /** Bytes after this frame's payload that were skipped just before it (assembly/layout.ts P_SKIPPED). */
  skipped = 0;
  outBytes = 0;
  peak = 0;
  tone = false;
  inbandDtmf = true;
  mixGain = 0;
  /** The gain its contribution ramped from this frame (assembly/mixer.ts; = mixGain when it did not change). */
  mixFrom = 0;
  /** The listen gain of its last frame, which this frame's ramps from. */
  listenFrom = UNITY_GAIN_Q14;
  /** The output limiter's attenuation (Q15, 0 = unity gain), carried from frame to frame. */
  limitAttenuation = 0;
  digit: InbandDigit | null = null;
  readonly inPayload = new Uint8Array(PAYLOAD_BYTES);
  readonly outPacket = Buffer.alloc(RTP_HEADER_BYTES + PAYLOAD_BYTES);
  readonly outPayload = this.outPacket.subarray(RTP_HEADER_BYTES);
  readonly decoded = new Int16Array(MAX_FRAME);
  readonly decodedPrev = new Int16Array(MAX_FRAME);
  readonly prompt = new Int16Array(MAX_FRAME);
  /** Room-rate views of decoded / previous decoded / prompt: [8 kHz, 16 kHz]. */
  readonly decodedViews = [this.decoded.subarray(0, 160), this.decoded.subarray(0, 320)];
  readonly decodedPrevViews = [this.decodedPrev.subarray(0, 160), this.decodedPrev.subarray(0, 320)];
  readonly promptViews = [this.prompt.subarray(0, 160), this.prompt.subarray(0, 320)];
  readonly talkFilter = new Float64Array(FILTER_STATE_SLOTS);
  readonly talkMeasurement = new Float64Array(MEASUREMENT_SLOTS);
  /** Two native-rate frames (PLC history), each with views of 160 and 320 samples. */
  readonly native = [new Int16Array(MAX_FRAME), new Int16Array(MAX_FRAME)];
  readonly nativeViews = this.native.map((b) => [b.subarray(0, 160), b.subarray(0, 320)]);
  cur = 0;
  readonly plc = new PlcReference();
  readonly up = new HalfbandUpsampler();
  readonly down = new HalfbandDownsampler();
  dtmf: DtmfDetectorReference;
  /** G.722 encoder and decoder state (reference/g722.ts), fresh with each stream. */
  readonly g722Encoder = new Int32Array(G722_STATE.words);
  readonly g722Decoder = new Int32Array(G722_STATE.words);

  constructor(codec: Codec) {
    this.codec = codec;
    this.dtmf = new DtmfDetectorReference(codecRateHz(codec));
    g722InitState(this.g722Encoder);
    g722InitState(this.g722Decoder);
  }

  resetStreams(): void {
    this.native[0].fill(0);
    this.native[1].fill(0);
    this.up.reset();
    this.down.reset();
    this.plc.reset();
    this.tone = false;
    this.digit = null;
    this.dtmf = new DtmfDetectorReference(codecRateHz(this.codec));
    this.talkFilter.fill(0);
    g722InitState(this.g722Encoder);
    g722InitState(this.g722Decoder);
  }
}

/** Same as continuePitch in assembly/room.ts: h samples at 16 kHz continued by `lead` more. */
function continuePitch(buf: Int16Array, h: number, lead: number): void {
  const pitch = findPitch(buf, h, 2);
  for (let i = h; i < h + lead; i++) buf[i] = buf[i - pitch];
}

/** The talker high-pass for 8 and 16 kHz rooms. */
const HIGH_PASS = { 8000: highPassCoefficients(8000), 16000: highPassCoefficients(16000) } as const;

class JsRoom {
  readonly members: JsParty[] = [];
  announceActive = false;
  limiter = true;
  readonly announce = new Int16Array(MAX_FRAME);
  readonly announceView: Int16Array;
  /** The fade-out of the parties that left since the last frame, added to the next one once (assembly/room.ts keepTail). */
  tailActive = false;
  readonly tail = new Int16Array(MAX_FRAME);
  /** The first TAIL_WHO parties (slots) that left into the tail; tailCount > TAIL_WHO: more did. */
  readonly tailWho = new Int32Array(TAIL_WHO);
  tailCount = 0;
  constructor(readonly sampleRateHz: RoomSampleRateHz) {
    this.announceView = this.announce.subarray(0, frameSamples(sampleRateHz));
  }
}

export class JsKernels implements DspKernels {
  readonly kind = 'js' as const;
  readonly maxParties: number;
  readonly maxRooms: number;
  private partyCount = 0;
  private roomCount = 0;
  private readonly parties: (JsParty | undefined)[] = [];
  private readonly rooms: (JsRoom | undefined)[] = [];
  private readonly sum = new Int32Array(MAX_FRAME);
  private readonly out = new Int16Array(MAX_FRAME);
  private readonly nativeOut = new Int16Array(MAX_FRAME);
  private readonly hist = new Int16Array(2 * MAX_FRAME);
  /** bridgeRate's room-rate history continued for the filters' delay. */
  private readonly bridge = new Int16Array(2 * MAX_FRAME + 47);
  private closed = false;

  constructor(capacity: KernelCapacity = {}) {
    this.maxParties = slotLimit(capacity.maxParties, MAX_PARTIES, 'maxParties');
    this.maxRooms = slotLimit(capacity.maxRooms, MAX_ROOMS, 'maxRooms');
  }

  get partiesInUse(): number {
    return this.partyCount;
  }

  get roomsInUse(): number {
    return this.roomCount;
  }

  createRoom(sampleRateHz: RoomSampleRateHz): number {
    this.check();
    for (let r = 0; r < MAX_ROOMS && this.roomCount < this.maxRooms; r++) {
      if (this.rooms[r]) continue;
      this.rooms[r] = new JsRoom(sampleRateHz === 16000 ? 16000 : 8000);
      this.roomCount++;
      return r;
    }
    throw new InvalidStateError(`all ${this.maxRooms} DSP room slots are in use`);
  }

  destroyRoom(room: number): void {
    this.check();
    const r = this.rooms[room];
    if (!r) return;
    for (const p of r.members) p.room = -1;
    this.rooms[room] = undefined;
    this.roomCount--;
  }

  createParty(codec: Codec): number {
    this.check();
    for (let p = 0; p < MAX_PARTIES && this.partyCount < this.maxParties; p++) {
      if (this.parties[p]) continue;
      this.parties[p] = new JsParty(codec);
      this.partyCount++;
      return p;
    }
    throw new InvalidStateError(`all ${this.maxParties} DSP party slots are in use`);
  }

  destroyParty(party: number): void {
    this.check();
    const p = this.parties[party];
    if (!p) return;
    if (p.room >= 0) this.removeParty(p.room, party);
    this.parties[party] = undefined;
    this.partyCount--;
  }

  setPartyCodec(party: number, codec: Codec): void {
    const p = this.party(party);
    if (!p || p.codec === codec) return;
    const sameRate = codecRateHz(codec) === codecRateHz(p.codec);
    p.codec = codec;
    // The history stays, for the concealment while the new stream fills; at another rate it is the room's (assembly/room.ts).
    if (!sameRate) {
      p.resetStreams();
      const r = this.rooms[p.room];
      if (r) this.bridgeRate(p, codecRateHz(codec), r.sampleRateHz);
    } else if (codec === 'G722') {
      g722InitState(p.g722Encoder);
      g722InitState(p.g722Decoder);
    }
  }

  addParty(room: number, party: number): void {
    this.check();
    const r = this.rooms[room];
    const p = this.parties[party];
    if (!r || !p || p.room === room) return;
    if (p.room >= 0) this.removeParty(p.room, party);
    r.members.push(p);
    p.room = room;
    // Its first frame in the room fades in from silence (assembly/mixer.ts).
    p.mixGain = 0;
    // A tail of this very party's is dropped: it must not hear itself. Another's stays (assembly/room.ts).
    if (r.tailActive && (r.tailCount > TAIL_WHO || r.tailWho.subarray(0, r.tailCount).includes(party)))
      r.tailActive = false;
  }

  removeParty(room: number, party: number): void {
    this.check();
    const r = this.rooms[room];
    const p = this.parties[party];
    if (!r || !p || p.room !== room) return;
    r.members.splice(r.members.indexOf(p), 1);
    p.room = -1;
    if (p.mixGain === 0 || r.members.length === 0) return;
    const n = frameSamples(r.sampleRateHz);
    if (!r.tailActive) {
      r.tail.fill(0, 0, n);
      r.tailCount = 0;
    }
    fadeTail(r.tail, p.decoded, p.mixGain, n);
    r.tailActive = true;
    if (r.tailCount < TAIL_WHO) r.tailWho[r.tailCount] = party;
    r.tailCount = Math.min(r.tailCount + 1, TAIL_WHO + 1);
  }

  setTalker(party: number, on: boolean): void {
    const p = this.party(party);
    if (p) p.talker = on;
  }

  setMuted(party: number, on: boolean): void {
    const p = this.party(party);
    if (p) p.muted = on;
  }

  setInbandDtmf(party: number, on: boolean): void {
    const p = this.party(party);
    if (!p || p.inbandDtmf === on) return;
    p.inbandDtmf = on;
    p.tone = false;
    p.digit = null;
    if (on) p.dtmf = new DtmfDetectorReference(codecRateHz(p.codec));
  }

  setGainDb(party: number, db: number): void {
    const p = this.party(party);
    if (p) p.gainQ14 = gainQ14FromDb(db);
  }

  setListenGainDb(party: number, db: number): void {
    const p = this.party(party);
    if (p) p.listenGainQ14 = listenGainQ14FromDb(db);
  }

  setSoftLimiter(room: number, on: boolean): void {
    const r = this.rooms[room];
    if (r) r.limiter = on;
  }

  inputPayload(party: number): Uint8Array {
    return this.must(party).inPayload;
  }

  setInput(party: number, byteLength: number, followsSkip = false, skippedBytes = 0): void {
    const p = this.party(party);
    if (!p) return;
    p.input =
      byteLength > PAYLOAD_BYTES ? PAYLOAD_BYTES : byteLength < INPUT_UNHEARD ? INPUT_LOST : byteLength | 0;
    p.followsSkip = followsSkip;
    p.skipped = skippedFits(p.input, skippedBytes);
  }

  privatePrompt(party: number): Int16Array {
    const p = this.must(party);
    return p.promptViews[this.rateIndex(p)];
  }

  setPrivatePromptActive(party: number, on: boolean): void {
    const p = this.party(party);
    if (p) p.promptActive = on;
  }

  announcement(room: number): Int16Array {
    this.check();
    const r = this.rooms[room];
    if (!r) throw new RangeError(`DSP room ${room} does not exist`);
    return r.announceView;
  }

  setAnnouncementActive(room: number, on: boolean): void {
    const r = this.rooms[room];
    if (r) r.announceActive = on;
  }

  processRoom(room: number): void {
    this.check();
    const r = this.rooms[room];
    if (!r) return;
    const n = frameSamples(r.sampleRateHz);
    const sum = this.sum;
    sum.fill(0, 0, n);
    const members = r.members;
    for (let i = 0; i < members.length; i++) {
      const p = members[i];
      const last = p.mixGain;
      p.mixGain = this.inputStage(p, r.sampleRateHz, n);
      // A DTMF tone is taken out at once; any other change of gain ramps (assembly/room.ts mixIn).
      p.mixFrom = p.tone ? p.mixGain : last;
      accumulateRamp(sum, p.decoded, p.mixFrom, p.mixGain, n);
    }
    if (r.announceActive) accumulate(sum, r.announce, UNITY_GAIN_Q14, n);
    if (r.tailActive) {
      accumulate(sum, r.tail, UNITY_GAIN_Q14, n);
      r.tailActive = false;
    }
    for (let i = 0; i < members.length; i++) this.outputStage(members[i], r.sampleRateHz, n, r.limiter);
  }

  outputPayload(party: number): Uint8Array {
    return this.must(party).outPayload;
  }

  outputPacket(party: number): Buffer {
    return this.must(party).outPacket;
  }

  outputBytes(party: number): number {
    return this.must(party).outBytes;
  }

  decodedInput(party: number): Int16Array {
    const p = this.must(party);
    return p.decodedViews[this.rateIndex(p)];
  }

  previousDecodedInput(party: number): Int16Array {
    const p = this.must(party);
    return p.decodedPrevViews[this.rateIndex(p)];
  }

  talkerMeasurement(party: number, out: Float64Array): void {
    out.set(this.must(party).talkMeasurement);
  }

  inputPeak(party: number): number {
    return this.must(party).peak;
  }

  toneActive(party: number): boolean {
    return this.must(party).tone;
  }

  takeDigit(party: number): InbandDigit | null {
    const p = this.must(party);
    const d = p.digit;
    p.digit = null;
    return d;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parties.length = 0;
    this.rooms.length = 0;
    this.partyCount = 0;
    this.roomCount = 0;
  }

  /** Same as bridgeRate in assembly/room.ts: the native history after a change of rate, from the room's. */
  private bridgeRate(p: JsParty, rate: number, roomRate: number): void {
    const n = frameSamples(roomRate);
    const last = p.native[p.cur];
    const before = p.native[p.cur ^ 1];
    if (rate === roomRate) {
      before.set(p.decodedPrev.subarray(0, n));
      last.set(p.decoded.subarray(0, n));
      return;
    }
    const ext = this.bridge;
    if (rate > roomRate) {
      p.up.process(p.decodedPrev, ext, n);
      p.up.process(p.decoded, ext.subarray(2 * n), n);
      p.up.reset();
      continuePitch(ext, 4 * n, 47);
      before.set(ext.subarray(47, 47 + 2 * n));
      last.set(ext.subarray(47 + 2 * n, 47 + 4 * n));
      p.down.state.set(last.subarray(2 * n - DOWN_STATE_SAMPLES, 2 * n));
    } else {
      ext.set(p.decodedPrev.subarray(0, n));
      ext.set(p.decoded.subarray(0, n), n);
      continuePitch(ext, 2 * n, 46);
      p.down.process(ext, this.nativeOut, 46);
      p.down.process(ext.subarray(46), before, n);
      p.down.process(ext.subarray(46 + n), last, n);
      p.down.reset();
      p.up.state.set(last.subarray((n >> 1) - UP_STATE_SAMPLES, n >> 1));
    }
  }

  /** The pitch search's history (copyHistory in assembly/room.ts): the frame before last, then the last. */
  private history(native: Int16Array, older: Int16Array, nn: number): Int16Array {
    const hist = this.hist;
    for (let i = 0; i < nn; i++) {
      hist[i] = native[i];
      hist[nn + i] = older[i];
    }
    return hist;
  }

  /** Same as inputStage in assembly/room.ts. Returns the gain it adds to the sum with (0 = none). */
  private inputStage(p: JsParty, roomRate: number, n: number): number {
    const rate = codecRateHz(p.codec);
    const nn = frameSamples(rate);
    const r = rate / 8000;
    p.cur ^= 1;
    const native = p.native[p.cur];
    const older = p.native[p.cur ^ 1];
    const input = p.input;
    p.input = INPUT_LOST;
    const followsSkip = p.followsSkip;
    p.followsSkip = false;
    if (input > 0) {
      // Before the decode overwrites the frame before last, which the pitch search reads.
      if (followsSkip) p.plc.skip(this.history(native, older, nn), nn, r);
      let got: number;
      if (p.codec === 'L16') {
        got = Math.min(input >> 1, nn);
        l16DecodeFrame(p.inPayload, native, got);
      } else if (p.codec === 'G722') {
        const bytes = Math.min(input, nn >> 1);
        const skipped = Math.min(p.skipped, PAYLOAD_BYTES - input);
        // The skipped packets first, their audio dropped (assembly/room.ts decodeSkipped).
        for (let at = 0; at < skipped; at += MAX_FRAME >> 1)
          g722Decode(
            p.g722Decoder,
            p.inPayload,
            this.nativeOut,
            Math.min(skipped - at, MAX_FRAME >> 1),
            input + at
          );
        p.skipped = 0;
        g722Decode(p.g722Decoder, p.inPayload, native, bytes);
        got = bytes << 1;
      } else {
        got = Math.min(input, nn);
        g711DecodeFrame(p.codec, p.inPayload, native, got);
      }
      native.fill(0, got, nn);
      p.plc.resume(native, nn, r);
    } else if (input === INPUT_LOST) {
      p.plc.conceal(this.history(native, older, nn), native, nn, r);
    } else {
      native.fill(0, 0, nn);
      p.plc.reset();
    }

    p.tone = false;
    if (p.inbandDtmf) {
      const digit = p.dtmf.process(p.nativeViews[p.cur][r - 1], input < 0);
      if (digit !== 0) {
        p.digit = {
          digit: String.fromCharCode(digit),
          startSample: p.dtmf.resultStartSample,
          durationSamples: p.dtmf.resultDurationSamples
        };
      }
      p.tone = digit !== 0 || p.dtmf.toneActive;
    }

    for (let i = 0; i < n; i++) p.decodedPrev[i] = p.decoded[i];
    if (rate === roomRate) p.decoded.set(p.nativeViews[p.cur][r - 1]);
    else if (rate < roomRate) p.up.process(native, p.decoded, nn);
    else p.down.process(native, p.decoded, nn);
    p.peak = peakAbs(p.decoded, n);
    measureFrame(
      p.decoded,
      n,
      roomRate === 16000 ? HIGH_PASS[16000] : HIGH_PASS[8000],
      p.talkFilter,
      p.talkMeasurement
    );

    if (!p.talker || p.muted || p.tone) return 0;
    return p.gainQ14;
  }

  private outputStage(p: JsParty, roomRate: number, n: number, limiter: boolean): void {
    const rate = codecRateHz(p.codec);
    const nn = frameSamples(rate);
    const out = this.out;
    p.limitAttenuation = partyOutput(
      this.sum,
      p.decoded,
      p.mixGain,
      p.listenGainQ14,
      p.promptActive ? p.prompt : null,
      out,
      n,
      limiter,
      p.limitAttenuation,
      p.mixFrom,
      p.listenFrom
    );
    p.listenFrom = p.listenGainQ14;
    let pcm = out;
    if (rate < roomRate) {
      pcm = this.nativeOut;
      p.down.process(out, pcm, n);
    } else if (rate > roomRate) {
      pcm = this.nativeOut;
      p.up.process(out, pcm, n);
    }
    if (p.codec === 'L16') {
      l16EncodeFrame(pcm, p.outPayload, nn);
      p.outBytes = 2 * nn;
    } else if (p.codec === 'G722') {
      g722Encode(p.g722Encoder, pcm, p.outPayload, nn);
      p.outBytes = nn >> 1;
    } else {
      g711EncodeFrame(p.codec, pcm, p.outPayload, nn);
      p.outBytes = nn;
    }
  }

  private check(): void {
    if (this.closed) throw new ClosedError('DSP kernels');
  }

  private rateIndex(p: JsParty): number {
    return p.room >= 0 && this.rooms[p.room]?.sampleRateHz === 16000 ? 1 : 0;
  }

  private party(party: number): JsParty | undefined {
    this.check();
    return this.parties[party];
  }

  private must(party: number): JsParty {
    const p = this.party(party);
    if (!p) throw new RangeError(`DSP party ${party} does not exist`);
    return p;
  }
}
