/**
 * `DspKernels` on the WebAssembly core (assembly/room.ts). JavaScript only writes and reads
 * typed-array views of the module's memory; views are created once per slot and recreated only
 * if the memory buffer changed (it cannot grow: initialMemory == maximumMemory).
 */
import { instantiateDsp } from './wasm-module.js';
import { CODEC_IDS, frameSamples, type Codec, type DspKernels, type InbandDigit, type RoomSampleRateHz } from './kernels.js';
import { gainQ14FromDb } from './reference/mixer.js';
import { ClosedError, InvalidStateError } from '../errors.js';

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
  setPromptActive(p: number, on: number): void;
  setGainQ14(p: number, gain: number): void;
  setInput(p: number, bytes: number): void;
  partyInputPtr(p: number): number;
  partyOutputPtr(p: number): number;
  partyDecodedPtr(p: number): number;
  partyPromptPtr(p: number): number;
  partyOutputBytes(p: number): number;
  partyPeak(p: number): number;
  partyDigit(p: number): number;
  partyDigitStart(p: number): number;
  partyDigitDuration(p: number): number;
  clearPartyDigit(p: number): void;
  partyToneActive(p: number): number;
  createRoom(rate: number): number;
  destroyRoom(r: number): void;
  addParty(r: number, p: number): void;
  removeParty(r: number, p: number): void;
  roomSampleRate(r: number): number;
  roomAnnouncementPtr(r: number): number;
  setAnnouncementActive(r: number, on: number): void;
  setSoftLimiter(r: number, on: number): void;
  processRoom(r: number): void;
}

const PAYLOAD_BYTES = 640;

export class WasmKernels implements DspKernels {
  readonly kind = 'wasm' as const;
  readonly maxParties: number;
  readonly maxRooms: number;
  /** The raw exports, for tests and benchmarks. */
  readonly exports: RoomExports;
  private buffer: ArrayBuffer;
  private inViews: (Uint8Array | undefined)[] = [];
  private outViews: (Uint8Array | undefined)[] = [];
  /** Decoded / prompt / announcement views, index slot·2 + (room rate 16 kHz ? 1 : 0). */
  private decodedViews: (Int16Array | undefined)[] = [];
  private promptViews: (Int16Array | undefined)[] = [];
  private announceViews: (Int16Array | undefined)[] = [];
  /** Room of each party (-1 none), to size its room-rate views. */
  private readonly partyRoom: Int32Array;
  private readonly roomRate: Int32Array;
  private closed = false;

  constructor(instance: WebAssembly.Instance = instantiateDsp()) {
    this.exports = instance.exports as unknown as RoomExports;
    this.buffer = this.exports.memory.buffer;
    this.maxParties = this.exports.maxParties();
    this.maxRooms = this.exports.maxRooms();
    this.partyRoom = new Int32Array(this.maxParties).fill(-1);
    this.roomRate = new Int32Array(this.maxRooms);
  }

  createRoom(sampleRateHz: RoomSampleRateHz): number {
    this.check();
    const r = this.exports.createRoom(sampleRateHz);
    if (r < 0) throw new InvalidStateError(`all ${this.maxRooms} DSP room slots are in use`);
    this.roomRate[r] = sampleRateHz === 16000 ? 16000 : 8000;
    return r;
  }

  destroyRoom(room: number): void {
    this.check();
    for (let p = 0; p < this.maxParties; p++) if (this.partyRoom[p] === room) this.partyRoom[p] = -1;
    this.exports.destroyRoom(room);
  }

  createParty(codec: Codec): number {
    this.check();
    const p = this.exports.createParty(CODEC_IDS[codec]);
    if (p < 0) throw new InvalidStateError(`all ${this.maxParties} DSP party slots are in use`);
    this.partyRoom[p] = -1;
    return p;
  }

  destroyParty(party: number): void {
    this.check();
    this.exports.destroyParty(party);
    this.partyRoom[party] = -1;
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

  setGainDb(party: number, db: number): void {
    this.exports.setGainQ14(party, gainQ14FromDb(db));
  }

  setSoftLimiter(room: number, on: boolean): void {
    this.exports.setSoftLimiter(room, on ? 1 : 0);
  }

  inputPayload(party: number): Uint8Array {
    this.fresh();
    return (this.inViews[party] ??= new Uint8Array(this.buffer, this.exports.partyInputPtr(party), PAYLOAD_BYTES));
  }

  setInput(party: number, byteLength: number): void {
    this.exports.setInput(party, byteLength);
  }

  privatePrompt(party: number): Int16Array {
    this.fresh();
    const i = 2 * party + this.rateIndex(party);
    return (this.promptViews[i] ??= new Int16Array(this.buffer, this.exports.partyPromptPtr(party), frameSamples(this.partyRate(party))));
  }

  setPrivatePromptActive(party: number, on: boolean): void {
    this.exports.setPromptActive(party, on ? 1 : 0);
  }

  announcement(room: number): Int16Array {
    this.fresh();
    const rate = this.roomRate[room] || 8000;
    const i = 2 * room + (rate === 16000 ? 1 : 0);
    return (this.announceViews[i] ??= new Int16Array(this.buffer, this.exports.roomAnnouncementPtr(room), frameSamples(rate)));
  }

  setAnnouncementActive(room: number, on: boolean): void {
    this.exports.setAnnouncementActive(room, on ? 1 : 0);
  }

  processRoom(room: number): void {
    this.check();
    this.exports.processRoom(room);
  }

  outputPayload(party: number): Uint8Array {
    this.fresh();
    return (this.outViews[party] ??= new Uint8Array(this.buffer, this.exports.partyOutputPtr(party), PAYLOAD_BYTES));
  }

  outputBytes(party: number): number {
    return this.exports.partyOutputBytes(party);
  }

  decodedInput(party: number): Int16Array {
    this.fresh();
    const i = 2 * party + this.rateIndex(party);
    return (this.decodedViews[i] ??= new Int16Array(this.buffer, this.exports.partyDecodedPtr(party), frameSamples(this.partyRate(party))));
  }

  inputPeak(party: number): number {
    return this.exports.partyPeak(party);
  }

  toneActive(party: number): boolean {
    return this.exports.partyToneActive(party) !== 0;
  }

  takeDigit(party: number): InbandDigit | null {
    const code = this.exports.partyDigit(party);
    if (code === 0) return null;
    this.exports.clearPartyDigit(party);
    return {
      digit: String.fromCharCode(code),
      startSample: this.exports.partyDigitStart(party),
      durationSamples: this.exports.partyDigitDuration(party)
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inViews = [];
    this.outViews = [];
    this.decodedViews = [];
    this.promptViews = [];
    this.announceViews = [];
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

  /** Views are detached if memory ever grew; rebuild them then. */
  private fresh(): void {
    this.check();
    if (this.buffer !== this.exports.memory.buffer) {
      this.buffer = this.exports.memory.buffer;
      this.inViews = [];
      this.outViews = [];
      this.decodedViews = [];
      this.promptViews = [];
      this.announceViews = [];
    }
  }
}
