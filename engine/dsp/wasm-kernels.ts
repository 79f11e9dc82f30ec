/**
 * `DspKernels` on the WebAssembly core (assembly/room.ts). JavaScript only writes and reads the
 * module's memory: payload, prompt and decoded views created once per slot, and the per-frame
 * party fields (input size, skipped payload size, skip and prompt flags, output size, digit, talker measurement) through two
 * whole-memory views at offsets the module exports (`FIELD_*`). So a frame calls into the module
 * once per room, `processRoom`. Views stay valid: the memory cannot grow
 * (initialMemory == maximumMemory); `processRoom` still rebuilds them should the buffer ever change.
 */
import { instantiateDsp } from './wasm-module.js';
import {
  CODEC_IDS,
  INPUT_LOST,
  INPUT_UNHEARD,
  RTP_HEADER_BYTES,
  frameSamples,
  skippedFits,
  slotLimit,
  type Codec,
  type DspKernels,
  type InbandDigit,
  type KernelCapacity,
  type RoomSampleRateHz
} from './kernels.js';
import { gainQ14FromDb, listenGainQ14FromDb } from './reference/mixer.js';
import { ClosedError, InvalidStateError } from '../errors.js';
import {
  highPassCoefficients,
  SAMPLES,
  SUM_HIGH_PASSED,
  SUM_RAW,
  ZERO_CROSSINGS
} from '../talker/talker-features.js';

/** The exports of assembly/room.ts used here (scalars only). */
export interface RoomExports {
  memory: WebAssembly.Memory;
  maxParties(): number;
  maxRooms(): number;
  createParty(codec: number): number;
  destroyParty(p: number): void;
  setPartyCodec(p: number, codec: number): void;
  setTalker(p: number, on: number): void;
  setMuted(p: number, on: number): void;
  setInbandDtmf(p: number, on: number): void;
  setGainQ14(p: number, gain: number): void;
  setListenGainQ14(p: number, gain: number): void;
  partyPtr(p: number): number;
  partyInputPtr(p: number): number;
  partyOutputPtr(p: number): number;
  partyPacketPtr(p: number): number;
  partyDecodedPtr(p: number): number;
  partyDecodedPrevPtr(p: number): number;
  partyPromptPtr(p: number): number;
  createRoom(rate: number): number;
  destroyRoom(r: number): void;
  addParty(r: number, p: number): void;
  removeParty(r: number, p: number): void;
  roomPtr(r: number): number;
  roomAnnouncementPtr(r: number): number;
  setSoftLimiter(r: number, on: number): void;
  setTalkerHighPass(rate: number, b0: number, b1: number, b2: number, a1: number, a2: number): void;
  processRoom(r: number): void;
  FIELD_FLAGS: WebAssembly.Global;
  FIELD_INPUT: WebAssembly.Global;
  FIELD_SKIPPED: WebAssembly.Global;
  FIELD_OUT_BYTES: WebAssembly.Global;
  FIELD_DIGIT: WebAssembly.Global;
  FIELD_DIGIT_DURATION: WebAssembly.Global;
  FIELD_DIGIT_START: WebAssembly.Global;
  FIELD_PEAK: WebAssembly.Global;
  FIELD_TONE: WebAssembly.Global;
  FIELD_TALK_SUM_RAW: WebAssembly.Global;
  FIELD_TALK_SUM_HP: WebAssembly.Global;
  FIELD_TALK_CROSSINGS: WebAssembly.Global;
  FLAG_PROMPT: WebAssembly.Global;
  FLAG_FOLLOWS_SKIP: WebAssembly.Global;
  FIELD_ROOM_FLAGS: WebAssembly.Global;
  FLAG_ANNOUNCE: WebAssembly.Global;
}

const PAYLOAD_BYTES = 640;

/** Party field offsets, in elements of the i32 or f64 view from the party's own index. */
interface Fields {
  flags: number;
  input: number;
  skipped: number;
  outBytes: number;
  digit: number;
  digitDuration: number;
  peak: number;
  tone: number;
  talkCrossings: number;
  /** In f64 elements. */
  digitStart: number;
  talkSumRaw: number;
  talkSumHighPassed: number;
  promptFlag: number;
  followsSkipFlag: number;
  /** In i32 elements from the room's own index. */
  roomFlags: number;
  announceFlag: number;
}

function fieldsOf(e: RoomExports): Fields {
  const i32 = (g: WebAssembly.Global): number => (g.value as number) >> 2;
  const f64 = (g: WebAssembly.Global): number => (g.value as number) >> 3;
  return {
    flags: i32(e.FIELD_FLAGS),
    input: i32(e.FIELD_INPUT),
    skipped: i32(e.FIELD_SKIPPED),
    outBytes: i32(e.FIELD_OUT_BYTES),
    digit: i32(e.FIELD_DIGIT),
    digitDuration: i32(e.FIELD_DIGIT_DURATION),
    peak: i32(e.FIELD_PEAK),
    tone: i32(e.FIELD_TONE),
    talkCrossings: i32(e.FIELD_TALK_CROSSINGS),
    digitStart: f64(e.FIELD_DIGIT_START),
    talkSumRaw: f64(e.FIELD_TALK_SUM_RAW),
    talkSumHighPassed: f64(e.FIELD_TALK_SUM_HP),
    promptFlag: e.FLAG_PROMPT.value as number,
    followsSkipFlag: e.FLAG_FOLLOWS_SKIP.value as number,
    roomFlags: i32(e.FIELD_ROOM_FLAGS),
    announceFlag: e.FLAG_ANNOUNCE.value as number
  };
}

export class WasmKernels implements DspKernels {
  readonly kind = 'wasm' as const;
  readonly maxParties: number;
  readonly maxRooms: number;
  /** The raw exports, for tests and benchmarks. */
  readonly exports: RoomExports;
  private readonly fields: Fields;
  private buffer!: ArrayBuffer;
  private i32!: Int32Array;
  private f64!: Float64Array;
  private inViews: (Uint8Array | undefined)[] = [];
  private outViews: (Uint8Array | undefined)[] = [];
  private packetViews: (Buffer | undefined)[] = [];
  /** Decoded / previous decoded / prompt / announcement views, index slot·2 + (room rate 16 kHz ? 1 : 0). */
  private decodedViews: (Int16Array | undefined)[] = [];
  private decodedPrevViews: (Int16Array | undefined)[] = [];
  private promptViews: (Int16Array | undefined)[] = [];
  private announceViews: (Int16Array | undefined)[] = [];
  /** Each party slot's byte address divided by 8: its index in the f64 view (×2 in the i32 view). */
  private readonly partyWord: Int32Array;
  /** Each room slot's byte address divided by 4: its index in the i32 view. */
  private readonly roomWord: Int32Array;
  /** Room of each party (-1 none), to size its room-rate views. */
  private readonly partyRoom: Int32Array;
  private readonly roomRate: Int32Array;
  /** 1 for each slot handed out, so a double destroy cannot make a count go wrong. */
  private readonly partyLive: Uint8Array;
  private readonly roomLive: Uint8Array;
  private partyCount = 0;
  private roomCount = 0;
  private closed = false;

  constructor(instance: WebAssembly.Instance = instantiateDsp(), capacity: KernelCapacity = {}) {
    this.exports = instance.exports as unknown as RoomExports;
    this.fields = fieldsOf(this.exports);
    this.maxParties = slotLimit(capacity.maxParties, this.exports.maxParties(), 'maxParties');
    this.maxRooms = slotLimit(capacity.maxRooms, this.exports.maxRooms(), 'maxRooms');
    this.partyLive = new Uint8Array(this.exports.maxParties());
    this.roomLive = new Uint8Array(this.exports.maxRooms());
    this.partyWord = new Int32Array(this.exports.maxParties());
    this.partyRoom = new Int32Array(this.exports.maxParties()).fill(-1);
    this.roomRate = new Int32Array(this.exports.maxRooms());
    this.roomWord = new Int32Array(this.exports.maxRooms());
    for (const rate of [8000, 16000]) {
      const [b0, b1, b2, a1, a2] = highPassCoefficients(rate);
      this.exports.setTalkerHighPass(rate, b0, b1, b2, a1, a2);
    }
    this.mapMemory();
  }

  get partiesInUse(): number {
    return this.partyCount;
  }

  get roomsInUse(): number {
    return this.roomCount;
  }

  createRoom(sampleRateHz: RoomSampleRateHz): number {
    this.check();
    const r = this.roomCount < this.maxRooms ? this.exports.createRoom(sampleRateHz) : -1;
    if (r < 0) throw new InvalidStateError(`all ${this.maxRooms} DSP room slots are in use`);
    this.roomLive[r] = 1;
    this.roomCount++;
    this.roomRate[r] = sampleRateHz === 16000 ? 16000 : 8000;
    this.roomWord[r] = this.exports.roomPtr(r) >> 2;
    return r;
  }

  destroyRoom(room: number): void {
    this.check();
    for (let p = 0; p < this.partyRoom.length; p++) if (this.partyRoom[p] === room) this.partyRoom[p] = -1;
    this.exports.destroyRoom(room);
    this.announceViews[room * 2] = this.announceViews[room * 2 + 1] = undefined;
    if (this.roomLive[room] === 1) {
      this.roomLive[room] = 0;
      this.roomCount--;
    }
  }

  createParty(codec: Codec): number {
    this.check();
    const p = this.partyCount < this.maxParties ? this.exports.createParty(CODEC_IDS[codec]) : -1;
    if (p < 0) throw new InvalidStateError(`all ${this.maxParties} DSP party slots are in use`);
    this.partyLive[p] = 1;
    this.partyCount++;
    this.partyRoom[p] = -1;
    this.partyWord[p] = this.exports.partyPtr(p) >> 3;
    return p;
  }

  destroyParty(party: number): void {
    this.check();
    this.exports.destroyParty(party);
    this.partyRoom[party] = -1;
    this.forgetPartyViews(party);
    if (this.partyLive[party] === 1) {
      this.partyLive[party] = 0;
      this.partyCount--;
    }
  }

  setPartyCodec(party: number, codec: Codec): void {
    this.check();
    this.exports.setPartyCodec(party, CODEC_IDS[codec]);
  }

  addParty(room: number, party: number): void {
    this.check();
    this.exports.addParty(room, party);
    this.partyRoom[party] = room;
  }

  removeParty(room: number, party: number): void {
    this.check();
    this.exports.removeParty(room, party);
    if (this.partyRoom[party] === room) this.partyRoom[party] = -1;
  }

  setTalker(party: number, on: boolean): void {
    this.exports.setTalker(party, on ? 1 : 0);
  }

  setMuted(party: number, on: boolean): void {
    this.exports.setMuted(party, on ? 1 : 0);
  }

  setInbandDtmf(party: number, on: boolean): void {
    this.exports.setInbandDtmf(party, on ? 1 : 0);
  }

  setGainDb(party: number, db: number): void {
    this.exports.setGainQ14(party, gainQ14FromDb(db));
  }

  setListenGainDb(party: number, db: number): void {
    this.exports.setListenGainQ14(party, listenGainQ14FromDb(db));
  }

  setSoftLimiter(room: number, on: boolean): void {
    this.exports.setSoftLimiter(room, on ? 1 : 0);
  }

  inputPayload(party: number): Uint8Array {
    this.check();
    return (this.inViews[party] ??= new Uint8Array(
      this.buffer,
      this.exports.partyInputPtr(party),
      PAYLOAD_BYTES
    ));
  }

  /** Clamped here as well as in the core: an Int32Array store would wrap a huge count into range. */
  setInput(party: number, byteLength: number, followsSkip = false, skippedBytes = 0): void {
    const word = 2 * this.partyWord[party];
    const input =
      byteLength > PAYLOAD_BYTES ? PAYLOAD_BYTES : byteLength < INPUT_UNHEARD ? INPUT_LOST : byteLength | 0;
    this.i32[word + this.fields.input] = input;
    this.i32[word + this.fields.skipped] = skippedFits(input, skippedBytes);
    const at = word + this.fields.flags;
    const flags = this.i32[at];
    const flag = this.fields.followsSkipFlag;
    this.i32[at] = followsSkip ? flags | flag : flags & ~flag;
  }

  privatePrompt(party: number): Int16Array {
    this.check();
    const i = 2 * party + this.rateIndex(party);
    return (this.promptViews[i] ??= new Int16Array(
      this.buffer,
      this.exports.partyPromptPtr(party),
      frameSamples(this.partyRate(party))
    ));
  }

  setPrivatePromptActive(party: number, on: boolean): void {
    const at = 2 * this.partyWord[party] + this.fields.flags;
    const flags = this.i32[at];
    this.i32[at] = on ? flags | this.fields.promptFlag : flags & ~this.fields.promptFlag;
  }

  announcement(room: number): Int16Array {
    this.check();
    const rate = this.roomRate[room] || 8000;
    const i = 2 * room + (rate === 16000 ? 1 : 0);
    return (this.announceViews[i] ??= new Int16Array(
      this.buffer,
      this.exports.roomAnnouncementPtr(room),
      frameSamples(rate)
    ));
  }

  setAnnouncementActive(room: number, on: boolean): void {
    const at = this.roomWord[room] + this.fields.roomFlags;
    const flags = this.i32[at];
    this.i32[at] = on ? flags | this.fields.announceFlag : flags & ~this.fields.announceFlag;
  }

  processRoom(room: number): void {
    this.check();
    if (this.buffer !== this.exports.memory.buffer) this.mapMemory();
    this.exports.processRoom(room);
  }

  outputPayload(party: number): Uint8Array {
    this.check();
    return (this.outViews[party] ??= new Uint8Array(
      this.buffer,
      this.exports.partyOutputPtr(party),
      PAYLOAD_BYTES
    ));
  }

  outputPacket(party: number): Buffer {
    this.check();
    return (this.packetViews[party] ??= Buffer.from(
      this.buffer,
      this.exports.partyPacketPtr(party),
      RTP_HEADER_BYTES + PAYLOAD_BYTES
    ));
  }

  outputBytes(party: number): number {
    return this.i32[2 * this.partyWord[party] + this.fields.outBytes];
  }

  decodedInput(party: number): Int16Array {
    this.check();
    const i = 2 * party + this.rateIndex(party);
    return (this.decodedViews[i] ??= new Int16Array(
      this.buffer,
      this.exports.partyDecodedPtr(party),
      frameSamples(this.partyRate(party))
    ));
  }

  previousDecodedInput(party: number): Int16Array {
    this.check();
    const i = 2 * party + this.rateIndex(party);
    return (this.decodedPrevViews[i] ??= new Int16Array(
      this.buffer,
      this.exports.partyDecodedPrevPtr(party),
      frameSamples(this.partyRate(party))
    ));
  }

  talkerMeasurement(party: number, out: Float64Array): void {
    const word = this.partyWord[party];
    const f = this.fields;
    out[SUM_RAW] = this.f64[word + f.talkSumRaw];
    out[SUM_HIGH_PASSED] = this.f64[word + f.talkSumHighPassed];
    out[ZERO_CROSSINGS] = this.i32[2 * word + f.talkCrossings];
    out[SAMPLES] = frameSamples(this.partyRate(party));
  }

  inputPeak(party: number): number {
    return this.i32[2 * this.partyWord[party] + this.fields.peak];
  }

  toneActive(party: number): boolean {
    return this.i32[2 * this.partyWord[party] + this.fields.tone] !== 0;
  }

  takeDigit(party: number): InbandDigit | null {
    const word = this.partyWord[party];
    const at = 2 * word + this.fields.digit;
    const code = this.i32[at];
    if (code === 0) return null;
    this.i32[at] = 0;
    return {
      digit: String.fromCharCode(code),
      startSample: this.f64[word + this.fields.digitStart],
      durationSamples: this.i32[2 * word + this.fields.digitDuration]
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forgetViews();
  }

  private partyRate(party: number): number {
    const room = this.partyRoom[party];
    return room >= 0 ? this.roomRate[room] : 8000;
  }

  private rateIndex(party: number): number {
    return this.partyRate(party) === 16000 ? 1 : 0;
  }

  private check(): void {
    if (this.closed) throw new ClosedError('DSP kernels');
  }

  /** Whole-memory views, and per-slot views made again on first use (after a change of buffer). */
  private mapMemory(): void {
    this.buffer = this.exports.memory.buffer;
    this.i32 = new Int32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.forgetViews();
  }

  /**
   * A freed slot's views go with it: views kept for every slot ever used grew the heap by about
   * 0.9 KB per call while the core handed slots out in rotation over its whole table.
   */
  private forgetPartyViews(party: number): void {
    this.inViews[party] = this.outViews[party] = this.packetViews[party] = undefined;
    for (const i of [party * 2, party * 2 + 1])
      this.decodedViews[i] = this.decodedPrevViews[i] = this.promptViews[i] = undefined;
  }

  /** Tables sized for every slot up front, so using a new slot never grows them. */
  private forgetViews(): void {
    const parties = this.partyRoom.length;
    const rooms = this.roomRate.length;
    this.inViews = new Array<Uint8Array | undefined>(parties).fill(undefined);
    this.outViews = new Array<Uint8Array | undefined>(parties).fill(undefined);
    this.packetViews = new Array<Buffer | undefined>(parties).fill(undefined);
    this.decodedViews = new Array<Int16Array | undefined>(2 * parties).fill(undefined);
    this.decodedPrevViews = new Array<Int16Array | undefined>(2 * parties).fill(undefined);
    this.promptViews = new Array<Int16Array | undefined>(2 * parties).fill(undefined);
    this.announceViews = new Array<Int16Array | undefined>(2 * rooms).fill(undefined);
  }
}
