/**
 * The per-frame DSP boundary the engine codes against: party slots (decode / PLC / DTMF /
 * resampling / encode) and rooms (mix-minus), one `processRoom` call per room per 20 ms frame.
 * Two implementations produce identical output: the WebAssembly core (`wasm-kernels.ts`) and
 * the plain-TypeScript references (`js-kernels.ts`); `createKernels` picks one.
 *
 * Per frame, for each party of a room: write the payload into `inputPayload(party)` and call
 * `setInput(party, bytes | INPUT_LOST | INPUT_UNHEARD | INPUT_SILENT, followsSkip, skippedBytes)`, optionally fill `privatePrompt(party)`;
 * fill `announcement(room)`; `processRoom(room)`; then read `outputPayload(party)` (its first
 * `outputBytes(party)` bytes; `outputPacket(party)` is the same bytes behind 12 free ones for
 * the RTP header, so the packet goes out without a copy), `decodedInput(party)`,
 * `talkerMeasurement(party)` and `takeDigit(party)`. Returned views stay valid for the life of
 * the kernels; nothing is allocated per frame (except a digit object when a digit ends). With
 * the WebAssembly core only `processRoom` crosses into the module: everything else per frame
 * is a read or write of its memory.
 */

/** Party codecs: G.711 at 8 kHz, L16 (network byte order) and G.722 (64 kbit/s) at 16 kHz. */
export type Codec = 'PCMU' | 'PCMA' | 'L16' | 'G722';
export type RoomSampleRateHz = 8000 | 16000;

/** `setInput` byte count meaning "a packet was expected but is missing": conceal it. */
export const INPUT_LOST = -1;
/** `setInput` byte count meaning "no packet expected" (not started, DTX): silence. */
export const INPUT_SILENT = 0;
/**
 * `setInput` byte count meaning "no packet, and not yet known whether one was due" (the stream
 * stopped: a pause or a stall): silence to the mix, unknown audio to the in-band DTMF detector.
 */
export const INPUT_UNHEARD = -2;

/** Bytes of the RTP fixed header in front of `outputPayload` in `outputPacket`. */
export const RTP_HEADER_BYTES = 12;

export const CODEC_IDS: Readonly<Record<Codec, number>> = { PCMU: 0, PCMA: 1, L16: 2, G722: 3 };

/** Bytes of a party's input slot (`inputPayload`): a frame's payload and any skipped after it. */
export const INPUT_PAYLOAD_BYTES = 640;

/** `setInput`'s skipped bytes as the core takes them: those that fit after a payload of `input` bytes, none without one. */
export function skippedFits(input: number, skippedBytes: number): number {
  if (input <= 0 || !(skippedBytes > 0)) return 0;
  return skippedBytes > INPUT_PAYLOAD_BYTES - input ? INPUT_PAYLOAD_BYTES - input : skippedBytes | 0;
}

/** Samples per 20 ms frame at a rate. */
export function frameSamples(sampleRateHz: number): number {
  return sampleRateHz / 50;
}

/** Rate of a party's own stream (and its in-band DTMF detector). */
export function codecRateHz(codec: Codec): RoomSampleRateHz {
  return codec === 'L16' || codec === 'G722' ? 16000 : 8000;
}

export interface InbandDigit {
  /** '0'-'9', '*', '#', 'A'-'D'. */
  digit: string;
  /** Start of the tone in samples of the party's codec rate since its detector was reset. */
  startSample: number;
  durationSamples: number;
}

export interface DspKernels {
  readonly kind: 'wasm' | 'js';
  readonly maxParties: number;
  readonly maxRooms: number;
  /** Party and room slots allocated now (what a leak would make grow). */
  readonly partiesInUse: number;
  readonly roomsInUse: number;

  createRoom(sampleRateHz: RoomSampleRateHz): number;
  /** Removes every member (their slots stay allocated) and frees the room. */
  destroyRoom(room: number): void;
  createParty(codec: Codec): number;
  /** Leaves its room and frees the slot. */
  destroyParty(party: number): void;
  /** A new codec resets the party's PLC, resampler and DTMF state. */
  setPartyCodec(party: number, codec: Codec): void;
  /** Moves the party into the room (out of its previous room), keeping its stream state. */
  addParty(room: number, party: number): void;
  removeParty(room: number, party: number): void;
  setTalker(party: number, on: boolean): void;
  setMuted(party: number, on: boolean): void;
  /** In-band DTMF detection for the party, on by default; back on, it starts afresh. */
  setInbandDtmf(party: number, on: boolean): void;
  /** Gain applied to what the party says, -∞..+12 dB (Q14 fixed point). */
  setGainDb(party: number, db: number): void;
  /** The gain on what the party hears of its room, in dB: -60 (near silence) to +6 (mixer.ts). */
  setListenGainDb(party: number, db: number): void;
  /**
   * The peak limiter on each member's output (on by default): unity gain while the output's
   * peak stays at or under -1 dBFS, else a gain that brings each frame's peak under it at once
   * and is back at unity within 160 ms, so no sample clips. Off: the output saturates at int16.
   */
  setSoftLimiter(room: number, on: boolean): void;

  /** 640-byte slot: write this frame's RTP payload here (then any skipped payload, see `setInput`). */
  inputPayload(party: number): Uint8Array;
  /**
   * This frame's input. `followsSkip`: the jitter buffer skipped the frame before it (to shrink
   * its delay), so the core cross-fades it from the continuation of what was played before
   * (assembly/plc.ts) rather than splicing it on with a click. `skippedBytes`: the payload of the
   * packets skipped just before this frame, in order, written into `inputPayload` after the frame's
   * `byteLength` bytes (JitterBuffer.frameSkippedBytes). A decoder that carries state (G.722) runs
   * them first and discards their audio, so it stays in step with the sender's encoder; G.711 and
   * L16 ignore them. Only with a payload (`byteLength` > 0); at most 640 bytes in all.
   */
  setInput(party: number, byteLength: number, followsSkip?: boolean, skippedBytes?: number): void;
  /** The party's private prompt at its room's rate, heard by it only while active. */
  privatePrompt(party: number): Int16Array;
  setPrivatePromptActive(party: number, on: boolean): void;
  /** The room's announcement frame, heard by every member while active. */
  announcement(room: number): Int16Array;
  setAnnouncementActive(room: number, on: boolean): void;

  processRoom(room: number): void;

  /** 640-byte slot holding this frame's encoded output (first `outputBytes` bytes). */
  outputPayload(party: number): Uint8Array;
  /**
   * The party's outgoing RTP packet: RTP_HEADER_BYTES for the caller's header, then
   * `outputPayload` (the same memory). Send its first RTP_HEADER_BYTES + `outputBytes` bytes.
   */
  outputPacket(party: number): Buffer;
  outputBytes(party: number): number;
  /** This frame's decoded (or concealed) input at the room rate. */
  decodedInput(party: number): Int16Array;
  /** The frame before it (what `decodedInput` held before the last `processRoom`). */
  previousDecodedInput(party: number): Int16Array;
  /**
   * This frame's talker measurement (engine/talker/talker-features.ts: SUM_RAW, SUM_HIGH_PASSED,
   * ZERO_CROSSINGS, SAMPLES), written into `out`.
   */
  talkerMeasurement(party: number, out: Float64Array): void;
  /** Peak |sample| of `decodedInput` this frame. */
  inputPeak(party: number): number;
  /** A valid DTMF tone is present on the party's input (its voice is kept out of the mix). */
  toneActive(party: number): boolean;
  /** The last in-band digit that ended, once; null if none. */
  takeDigit(party: number): InbandDigit | null;

  /** Idempotent; other methods throw ClosedError afterwards. */
  close(): void;
}

/** Fewer slots than the core has (never more): bounds memory use, and lets tests reach the limit. */
export interface KernelCapacity {
  maxParties?: number;
  maxRooms?: number;
}

/** The slots the DSP core is built with (assembly/layout.ts): `dspSlots` may ask for fewer. */
export const DSP_MAX_PARTIES = 4096;
export const DSP_MAX_ROOMS = 2048;

/** `requested`, from 1 to `available`; `available` when not given. */
export function slotLimit(requested: number | undefined, available: number, what: string): number {
  if (requested === undefined) return available;
  if (!Number.isInteger(requested) || requested < 1 || requested > available)
    throw new RangeError(`${what} must be a whole number from 1 to ${available}, got ${requested}`);
  return requested;
}

export async function createKernels(kind: 'wasm' | 'js', capacity: KernelCapacity = {}): Promise<DspKernels> {
  if (kind === 'js') {
    const { JsKernels } = await import('./js-kernels.js');
    return new JsKernels(capacity);
  }
  const { WasmKernels } = await import('./wasm-kernels.js');
  return new WasmKernels(undefined, capacity);
}
