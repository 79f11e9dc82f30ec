/**
 * The room core: global party slots, rooms as member lists, and `processRoom`, the one call per
 * room per 20 ms frame. For each member: decode (PCMU / PCMA / L16 / G.722) or conceal a lost frame
 * (plc.ts) or take silence; in-band DTMF detection on the party's own-rate PCM (dtmf.ts);
 * resample to the room rate (halfband.ts); the mix-minus (mixer.ts); resample back and encode.
 * JavaScript writes payloads and prompts into the slots and reads results from them; pointers
 * come from the exported `*Ptr` functions. Memory map: layout.ts. Nothing is allocated here
 * after start: the region is reserved once by layout.ts.
 */
import {
  MAX_PARTIES, MAX_ROOMS, MAX_FRAME, MAX_PAYLOAD, CODEC_PCMU, CODEC_PCMA, CODEC_L16, CODEC_G722, INPUT_LOST, INPUT_UNHEARD,
  F_ALLOCATED, F_TALKER, F_MUTED, F_PROMPT, F_NO_INBAND, F_FOLLOWS_SKIP, R_F_ANNOUNCE, R_F_LIMITER, UP_STATE, DOWN_STATE,
  P_FLAGS, P_CODEC, P_GAIN, P_ROOM, P_PREV, P_NEXT, P_INPUT, P_OUT_BYTES, P_DIGIT, P_DIGIT_DUR,
  P_DIGIT_START, P_PEAK, P_MIX_GAIN, P_MIX_FROM, P_LISTEN_FROM, P_SKIPPED, P_LIMIT_ATTEN, P_NATIVE_CUR, P_TONE, P_UP_STATE, P_DOWN_STATE, P_IN_PAYLOAD,
  P_OUT_PAYLOAD, P_OUT_PACKET, P_DECODED, P_DECODED_PREV, P_PROMPT, P_NATIVE, P_DTMF, DTMF_STATE_MAX,
  PARTY_BYTES, R_FLAGS, P_TALK_SUM_RAW, P_TALK_SUM_HP, P_TALK_CROSSINGS, P_LISTEN_GAIN,
  R_RATE, R_HEAD, R_COUNT, R_ANNOUNCE, R_TAIL, R_TAIL_ON, R_TAIL_N, R_TAIL_WHO, TAIL_WHO, SCRATCH, S_SUM, S_OUT, S_WORK, S_NATIVE_OUT, S_BENCH,
  partyAt, roomAt, g722EncoderAt, g722DecoderAt
} from './layout';
import { g722Init, g722EncodeFrame, g722DecodeFrame } from './g722';
import { buildG711Tables, g711DecodeFrame, g711EncodeFrame, l16DecodeFrame, l16EncodeFrame, ulawEncode, alawEncode, ulawExpand, alawExpand } from './g711';
import { upsample2, downsample2, halfbandCoefficient } from './halfband';
import { plcConceal, plcResume, plcReset, plcSkip, findPitch } from './plc';
import { zeroSum, accumulateRamp, addSamples, fadeTail, partyOutput, peakAbs, UNITY_GAIN_Q14, LISTEN_GAIN_MAX_Q14 } from './mixer';
import { DTMF_STATE_BYTES, dtmfInit, dtmfProcess, dtmfResultStartSample, dtmfResultDurationSamples, dtmfToneActive } from './dtmf';
import { talkerMeasure, talkerMeasurePair, talkerMeasureSilent, talkerReset } from './talker';

export { halfbandCoefficient };
export { g722Init, g722EncodeFrame, g722DecodeFrame };
export { setTalkerHighPass } from './talker';

// Offsets of the party fields JavaScript reads and writes itself (engine/dsp/wasm-kernels.ts).
export const FIELD_FLAGS: i32 = P_FLAGS;
export const FIELD_INPUT: i32 = P_INPUT;
export const FIELD_SKIPPED: i32 = P_SKIPPED;
export const FIELD_OUT_BYTES: i32 = P_OUT_BYTES;
export const FIELD_DIGIT: i32 = P_DIGIT;
export const FIELD_DIGIT_DURATION: i32 = P_DIGIT_DUR;
export const FIELD_DIGIT_START: i32 = P_DIGIT_START;
export const FIELD_PEAK: i32 = P_PEAK;
export const FIELD_TONE: i32 = P_TONE;
export const FIELD_TALK_SUM_RAW: i32 = P_TALK_SUM_RAW;
export const FIELD_TALK_SUM_HP: i32 = P_TALK_SUM_HP;
export const FIELD_TALK_CROSSINGS: i32 = P_TALK_CROSSINGS;
export const FLAG_PROMPT: i32 = F_PROMPT;
export const FLAG_FOLLOWS_SKIP: i32 = F_FOLLOWS_SKIP;
export const FIELD_ROOM_FLAGS: i32 = R_FLAGS;
export const FLAG_ANNOUNCE: i32 = R_F_ANNOUNCE;

if (DTMF_STATE_BYTES > DTMF_STATE_MAX) abort();
buildG711Tables();
for (let r = 0; r < MAX_ROOMS; r++) store<i32>(roomAt(r) + R_HEAD, -1);

export function maxParties(): i32 {
  return MAX_PARTIES;
}

export function maxRooms(): i32 {
  return MAX_ROOMS;
}

// ---------------------------------------------------------------- parties

function codecRate(codec: i32): i32 {
  return codec == CODEC_L16 || codec == CODEC_G722 ? 16000 : 8000;
}

/** A codec id as given, or PCMU for one we do not know. */
function knownCodec(codec: i32): i32 {
  return codec == CODEC_PCMA || codec == CODEC_L16 || codec == CODEC_G722 ? codec : CODEC_PCMU;
}

/** Clears the per-stream state: PLC history, resampler histories, DTMF detector, G.722 codec. */
function resetStreams(p: i32): void {
  const pp = partyAt(p);
  if (load<i32>(pp + P_CODEC) == CODEC_G722) {
    g722Init(g722EncoderAt(p));
    g722Init(g722DecoderAt(p));
  }
  memory.fill(pp + P_NATIVE, 0, <usize>(4 * MAX_FRAME));
  memory.fill(pp + P_UP_STATE, 0, <usize>(2 * UP_STATE));
  memory.fill(pp + P_DOWN_STATE, 0, <usize>(2 * DOWN_STATE));
  plcReset(pp);
  store<i32>(pp + P_TONE, 0);
  store<i32>(pp + P_DIGIT, 0);
  dtmfInit(pp + P_DTMF, codecRate(load<i32>(pp + P_CODEC)));
  talkerReset(pp);
}

/**
 * Allocates the lowest free party slot (so the memory touched, and the process's RSS, follows the
 * most calls held at once rather than every call made); -1 when all are taken. Codec: 0 PCMU,
 * 1 PCMA, 2 L16, 3 G.722.
 */
export function createParty(codec: i32): i32 {
  for (let p = 0; p < MAX_PARTIES; p++) {
    const pp = partyAt(p);
    if ((load<i32>(pp + P_FLAGS) & F_ALLOCATED) != 0) continue;
    memory.fill(pp, 0, <usize>PARTY_BYTES);
    store<i32>(pp + P_FLAGS, F_ALLOCATED);
    store<i32>(pp + P_CODEC, knownCodec(codec));
    store<i32>(pp + P_GAIN, UNITY_GAIN_Q14);
    store<i32>(pp + P_LISTEN_GAIN, UNITY_GAIN_Q14);
    store<i32>(pp + P_LISTEN_FROM, UNITY_GAIN_Q14);
    store<i32>(pp + P_ROOM, -1);
    store<i32>(pp + P_PREV, -1);
    store<i32>(pp + P_NEXT, -1);
    store<i32>(pp + P_INPUT, INPUT_LOST);
    resetStreams(p);
    return p;
  }
  return -1;
}

function validParty(p: i32): bool {
  return p >= 0 && p < MAX_PARTIES && (load<i32>(partyAt(p) + P_FLAGS) & F_ALLOCATED) != 0;
}

export function destroyParty(p: i32): void {
  if (!validParty(p)) return;
  const room = load<i32>(partyAt(p) + P_ROOM);
  if (room >= 0) removeParty(room, p);
  store<i32>(partyAt(p) + P_FLAGS, 0);
}

/**
 * A new codec (re-INVITE). The stream's history stays: the jitter buffer conceals the frames while
 * the new stream fills (plc.ts, from the last audio), where a history zeroed made them silence and
 * the new stream started with a click. Only a new G.722 state starts afresh; at another rate the
 * history is the room's (`bridgeRate`).
 */
export function setPartyCodec(p: i32, codec: i32): void {
  if (!validParty(p)) return;
  const pp = partyAt(p);
  const c = knownCodec(codec);
  const old = load<i32>(pp + P_CODEC);
  if (c == old) return;
  store<i32>(pp + P_CODEC, c);
  const room = load<i32>(pp + P_ROOM);
  if (codecRate(c) != codecRate(old)) {
    resetStreams(p);
    if (room >= 0) bridgeRate(pp, codecRate(c), load<i32>(roomAt(room) + R_RATE));
  } else if (c == CODEC_G722) {
    g722Init(g722EncoderAt(p));
    g722Init(g722DecoderAt(p));
  }
}

/**
 * The native history of a party whose rate just changed, from what the room heard of it (its last
 * two frames at the room rate), so the concealment continues that. At the room rate it is those
 * frames. At the other, the input now goes through a half-band filter, whose delay would replay
 * the history's last 1.5 ms (a phase jump): the history is continued by its pitch period, at
 * 16 kHz (at 8 a whole period is up to half a sample off), for the delay of the filters there and
 * back (47 samples at 16 kHz; 46 before a decimation, which takes pairs), converted, and primes the
 * input filter, whose first output then follows the room's last sample. The conversion runs on the
 * output filter's state (its direction), which starts from silence after.
 */
function bridgeRate(pp: usize, rate: i32, roomRate: i32): void {
  const n = roomRate / 50;
  const cur = load<i32>(pp + P_NATIVE_CUR);
  const last = pp + P_NATIVE + (<usize>cur) * (<usize>(2 * MAX_FRAME));
  const before = pp + P_NATIVE + (<usize>(cur ^ 1)) * (<usize>(2 * MAX_FRAME));
  if (rate == roomRate) {
    memory.copy(before, pp + P_DECODED_PREV, <usize>n << 1);
    memory.copy(last, pp + P_DECODED, <usize>n << 1);
    return;
  }
  // S_SUM and S_OUT (contiguous) are free outside processRoom: 640 + 47 samples.
  const ext = SCRATCH + S_SUM;
  if (rate > roomRate) {
    const conv = pp + P_UP_STATE;
    upsample2(conv, pp + P_DECODED_PREV, ext, n);
    upsample2(conv, pp + P_DECODED, ext + (<usize>n << 2), n);
    memory.fill(conv, 0, <usize>(2 * UP_STATE));
    continuePitch(ext, 4 * n, 47);
    memory.copy(before, ext + (<usize>47 << 1), <usize>n << 2);
    memory.copy(last, ext + (<usize>(47 + 2 * n) << 1), <usize>n << 2);
    memory.copy(pp + P_DOWN_STATE, last + (<usize>(2 * n - DOWN_STATE) << 1), <usize>(2 * DOWN_STATE));
  } else {
    memory.copy(ext, pp + P_DECODED_PREV, <usize>n << 1);
    memory.copy(ext + (<usize>n << 1), pp + P_DECODED, <usize>n << 1);
    continuePitch(ext, 2 * n, 46);
    const conv = pp + P_DOWN_STATE;
    downsample2(conv, ext, SCRATCH + S_NATIVE_OUT, 46);
    downsample2(conv, ext + (<usize>46 << 1), before, n);
    downsample2(conv, ext + (<usize>(46 + n) << 1), last, n);
    memory.fill(conv, 0, <usize>(2 * DOWN_STATE));
    memory.copy(pp + P_UP_STATE, last + (<usize>((n >> 1) - UP_STATE) << 1), <usize>(2 * UP_STATE));
  }
}

/** Continues the h samples at 16 kHz at buf by `lead` more, repeating their last pitch period (plc.ts). */
function continuePitch(buf: usize, h: i32, lead: i32): void {
  const pitch = findPitch(buf, h, 2);
  for (let i = h; i < h + lead; i++) store<i16>(buf + (<usize>i << 1), load<i16>(buf + (<usize>(i - pitch) << 1)));
}

function setFlag(p: i32, flag: i32, on: bool): void {
  if (!validParty(p)) return;
  const pp = partyAt(p);
  const f = load<i32>(pp + P_FLAGS);
  store<i32>(pp + P_FLAGS, on ? f | flag : f & ~flag);
}

export function setTalker(p: i32, on: bool): void {
  setFlag(p, F_TALKER, on);
}

export function setMuted(p: i32, on: bool): void {
  setFlag(p, F_MUTED, on);
}

/**
 * In-band DTMF detection on or off (on for a new party). Turned back on, the detector starts
 * afresh: what it held from before the pause is not the same stream.
 */
export function setInbandDtmf(p: i32, on: bool): void {
  if (!validParty(p)) return;
  const pp = partyAt(p);
  const off = (load<i32>(pp + P_FLAGS) & F_NO_INBAND) != 0;
  if (on == !off) return;
  setFlag(p, F_NO_INBAND, !on);
  store<i32>(pp + P_TONE, 0);
  store<i32>(pp + P_DIGIT, 0);
  if (on) dtmfInit(pp + P_DTMF, codecRate(load<i32>(pp + P_CODEC)));
}

/** Gain in Q14 (16384 = 0 dB), clamped to 0..65536 (+12 dB). */
export function setGainQ14(p: i32, gain: i32): void {
  if (!validParty(p)) return;
  store<i32>(partyAt(p) + P_GAIN, gain < 0 ? 0 : gain > 65536 ? 65536 : gain);
}

/** The gain (Q14) on what party `p` hears of its room, 0 to LISTEN_GAIN_MAX_Q14 (+6 dB; mixer.ts). */
export function setListenGainQ14(p: i32, gain: i32): void {
  if (!validParty(p)) return;
  store<i32>(partyAt(p) + P_LISTEN_GAIN, gain < 0 ? 0 : gain > LISTEN_GAIN_MAX_Q14 ? LISTEN_GAIN_MAX_Q14 : gain);
}

export function partyInputPtr(p: i32): usize {
  return partyAt(p) + P_IN_PAYLOAD;
}

export function partyOutputPtr(p: i32): usize {
  return partyAt(p) + P_OUT_PAYLOAD;
}

/** Start of the party's outgoing RTP packet: 12 header bytes, then the output payload. */
export function partyPacketPtr(p: i32): usize {
  return partyAt(p) + P_OUT_PACKET;
}

export function partyPtr(p: i32): usize {
  return partyAt(p);
}

export function partyDecodedPrevPtr(p: i32): usize {
  return partyAt(p) + P_DECODED_PREV;
}

export function partyDecodedPtr(p: i32): usize {
  return partyAt(p) + P_DECODED;
}

export function partyPromptPtr(p: i32): usize {
  return partyAt(p) + P_PROMPT;
}

// ---------------------------------------------------------------- rooms

/** Allocates the lowest free room slot at 8000 or 16000 Hz; -1 when all are taken. Output limiter on. */
export function createRoom(sampleRateHz: i32): i32 {
  for (let r = 0; r < MAX_ROOMS; r++) {
    const rp = roomAt(r);
    if ((load<i32>(rp + R_FLAGS) & F_ALLOCATED) != 0) continue;
    store<i32>(rp + R_FLAGS, F_ALLOCATED | R_F_LIMITER);
    store<i32>(rp + R_RATE, sampleRateHz == 16000 ? 16000 : 8000);
    store<i32>(rp + R_HEAD, -1);
    store<i32>(rp + R_COUNT, 0);
    store<i32>(rp + R_TAIL_ON, 0);
    memory.fill(rp + R_ANNOUNCE, 0, <usize>(2 * MAX_FRAME));
    return r;
  }
  return -1;
}

function validRoom(r: i32): bool {
  return r >= 0 && r < MAX_ROOMS && (load<i32>(roomAt(r) + R_FLAGS) & F_ALLOCATED) != 0;
}

export function destroyRoom(r: i32): void {
  if (!validRoom(r)) return;
  const rp = roomAt(r);
  while (load<i32>(rp + R_HEAD) >= 0) removeParty(r, load<i32>(rp + R_HEAD));
  store<i32>(rp + R_FLAGS, 0);
}

/** Appends p to room r (leaving its previous room first). */
export function addParty(r: i32, p: i32): void {
  if (!validRoom(r) || !validParty(p)) return;
  const pp = partyAt(p);
  const old = load<i32>(pp + P_ROOM);
  if (old == r) return;
  if (old >= 0) removeParty(old, p);
  const rp = roomAt(r);
  // Append at the tail so members are processed in joining order.
  let tail = load<i32>(rp + R_HEAD);
  if (tail < 0) {
    store<i32>(rp + R_HEAD, p);
    store<i32>(pp + P_PREV, -1);
  } else {
    while (load<i32>(partyAt(tail) + P_NEXT) >= 0) tail = load<i32>(partyAt(tail) + P_NEXT);
    store<i32>(partyAt(tail) + P_NEXT, p);
    store<i32>(pp + P_PREV, tail);
  }
  store<i32>(pp + P_NEXT, -1);
  store<i32>(pp + P_ROOM, r);
  // Its first frame in the room fades in from silence (mixer.ts).
  store<i32>(pp + P_MIX_GAIN, 0);
  store<i32>(rp + R_COUNT, load<i32>(rp + R_COUNT) + 1);
  // A tail of this very party's, left a moment ago, is dropped: it must not hear itself. Another's stays.
  if (inTail(rp, p)) store<i32>(rp + R_TAIL_ON, 0);
}

/** Whether party p left into the room's tail (or may have: more left than are listed). */
function inTail(rp: usize, p: i32): bool {
  if (load<i32>(rp + R_TAIL_ON) == 0) return false;
  const count = load<i32>(rp + R_TAIL_N);
  if (count > TAIL_WHO) return true;
  for (let i = 0; i < count; i++) if (load<i32>(rp + R_TAIL_WHO + (<usize>i << 2)) == p) return true;
  return false;
}

/**
 * A party that leaves while the room hears it fades out over the room's next frame: its last
 * frame, backwards and ramping down (mixer.ts fadeTail), is added to that frame's sum once.
 */
function keepTail(rp: usize, p: i32): void {
  const pp = partyAt(p);
  const gain = load<i32>(pp + P_MIX_GAIN);
  if (gain == 0 || load<i32>(rp + R_COUNT) == 0) return;
  const n = load<i32>(rp + R_RATE) / 50;
  if (load<i32>(rp + R_TAIL_ON) == 0) {
    memory.fill(rp + R_TAIL, 0, <usize>n << 1);
    store<i32>(rp + R_TAIL_N, 0);
  }
  fadeTail(rp + R_TAIL, pp + P_DECODED, gain, n);
  store<i32>(rp + R_TAIL_ON, 1);
  const count = load<i32>(rp + R_TAIL_N);
  if (count < TAIL_WHO) store<i32>(rp + R_TAIL_WHO + (<usize>count << 2), p);
  store<i32>(rp + R_TAIL_N, count < TAIL_WHO ? count + 1 : TAIL_WHO + 1);
}

export function removeParty(r: i32, p: i32): void {
  if (!validRoom(r) || !validParty(p)) return;
  const pp = partyAt(p);
  if (load<i32>(pp + P_ROOM) != r) return;
  const rp = roomAt(r);
  const prev = load<i32>(pp + P_PREV);
  const next = load<i32>(pp + P_NEXT);
  if (prev >= 0) store<i32>(partyAt(prev) + P_NEXT, next);
  else store<i32>(rp + R_HEAD, next);
  if (next >= 0) store<i32>(partyAt(next) + P_PREV, prev);
  store<i32>(pp + P_ROOM, -1);
  store<i32>(pp + P_PREV, -1);
  store<i32>(pp + P_NEXT, -1);
  store<i32>(rp + R_COUNT, load<i32>(rp + R_COUNT) - 1);
  keepTail(rp, p);
}

export function roomPartyCount(r: i32): i32 {
  return validRoom(r) ? load<i32>(roomAt(r) + R_COUNT) : 0;
}

export function roomPtr(r: i32): usize {
  return roomAt(r);
}

export function roomAnnouncementPtr(r: i32): usize {
  return roomAt(r) + R_ANNOUNCE;
}

function setRoomFlag(r: i32, flag: i32, on: bool): void {
  if (!validRoom(r)) return;
  const rp = roomAt(r);
  const f = load<i32>(rp + R_FLAGS);
  store<i32>(rp + R_FLAGS, on ? f | flag : f & ~flag);
}

/** The peak limiter on every member's output (mixer.ts), on for a new room. */
export function setSoftLimiter(r: i32, on: bool): void {
  setRoomFlag(r, R_F_LIMITER, on);
}

// ---------------------------------------------------------------- the frame

/** Step 1-3 for one party: native PCM, DTMF, room-rate PCM. Returns its gain in the sum (0 = none). */
function inputStage(p: i32, roomRate: i32, n: i32): i32 {
  const pp = partyAt(p);
  const codec = load<i32>(pp + P_CODEC);
  const rate = codecRate(codec);
  const nn = rate / 50;
  const r = rate / 8000;
  const cur = load<i32>(pp + P_NATIVE_CUR) ^ 1;
  store<i32>(pp + P_NATIVE_CUR, cur);
  const native = pp + P_NATIVE + (<usize>cur) * (<usize>(2 * MAX_FRAME));
  const older = pp + P_NATIVE + (<usize>(cur ^ 1)) * (<usize>(2 * MAX_FRAME));
  // Written by JavaScript: clamp, whatever it wrote.
  let input = load<i32>(pp + P_INPUT);
  if (input > MAX_PAYLOAD) input = MAX_PAYLOAD;
  else if (input < INPUT_UNHEARD) input = INPUT_LOST;
  store<i32>(pp + P_INPUT, INPUT_LOST);
  const flags = load<i32>(pp + P_FLAGS);
  store<i32>(pp + P_FLAGS, flags & ~F_FOLLOWS_SKIP);
  if (input > 0) {
    // Before the decode overwrites the frame before last, which the pitch search reads.
    if ((flags & F_FOLLOWS_SKIP) != 0) plcSkip(pp, copyHistory(native, older, nn), nn, r);
    const payload = pp + P_IN_PAYLOAD;
    let got: i32;
    if (codec == CODEC_L16) {
      got = input >> 1 < nn ? input >> 1 : nn;
      l16DecodeFrame(payload, native, got);
    } else if (codec == CODEC_G722) {
      const bytes = input < nn >> 1 ? input : nn >> 1;
      let skipped = load<i32>(pp + P_SKIPPED);
      if (skipped > 0) {
        if (skipped > MAX_PAYLOAD - input) skipped = MAX_PAYLOAD - input;
        decodeSkipped(g722DecoderAt(p), payload + <usize>input, skipped);
        store<i32>(pp + P_SKIPPED, 0);
      }
      g722DecodeFrame(g722DecoderAt(p), payload, native, bytes);
      got = bytes << 1;
    } else {
      got = input < nn ? input : nn;
      g711DecodeFrame(codec, payload, native, got);
    }
    if (got < nn) memory.fill(native + (<usize>got << 1), 0, <usize>(nn - got) << 1);
    plcResume(pp, native, nn, r);
  } else if (input == INPUT_LOST) {
    plcConceal(pp, copyHistory(native, older, nn), native, nn, r);
  } else {
    memory.fill(native, 0, <usize>nn << 1);
    plcReset(pp);
  }

  let tone = false;
  if ((flags & F_NO_INBAND) == 0) {
    const dtmf = pp + P_DTMF;
    const digit = dtmfProcess(dtmf, native, nn, input < 0 ? 1 : 0);
    if (digit != 0) {
      store<i32>(pp + P_DIGIT, digit);
      store<f64>(pp + P_DIGIT_START, <f64>dtmfResultStartSample(dtmf));
      store<i32>(pp + P_DIGIT_DUR, dtmfResultDurationSamples(dtmf));
    }
    tone = digit != 0 || dtmfToneActive(dtmf);
  }
  store<i32>(pp + P_TONE, tone ? 1 : 0);

  const decoded = pp + P_DECODED;
  memory.copy(pp + P_DECODED_PREV, decoded, <usize>n << 1);
  if (rate == roomRate) memory.copy(decoded, native, <usize>n << 1);
  else if (rate < roomRate) upsample2(pp + P_UP_STATE, native, decoded, nn);
  else downsample2(pp + P_DOWN_STATE, native, decoded, nn);
  store<i32>(pp + P_PEAK, peakAbs(decoded, n));

  if ((flags & (F_TALKER | F_MUTED)) != F_TALKER || tone) return 0;
  return load<i32>(pp + P_GAIN);
}

/**
 * Runs the G.722 decoder at `st` through `bytes` bytes of payload the jitter buffer skipped, a
 * frame at a time into scratch, and drops the audio: the decoder's predictor and step sizes then
 * follow the sender's encoder into the frame that is played (an ADPCM decoder adapts on the codes it
 * is given, and tracks its encoder only if given all of them). S_NATIVE_OUT is free until outputStage.
 */
function decodeSkipped(st: usize, code: usize, bytes: i32): void {
  const scratch = SCRATCH + S_NATIVE_OUT;
  const chunk = MAX_FRAME >> 1;
  for (let at = 0; at < bytes; at += chunk) {
    const left = bytes - at;
    g722DecodeFrame(st, code + <usize>at, scratch, left < chunk ? left : chunk);
  }
}

/**
 * History for the pitch search in scratch: the frame before last (about to be overwritten by this
 * frame), then the last.
 */
function copyHistory(native: usize, older: usize, nn: i32): usize {
  const hist = SCRATCH + S_WORK;
  memory.copy(hist, native, <usize>nn << 1);
  memory.copy(hist + (<usize>nn << 1), older, <usize>nn << 1);
  return hist;
}

/** Steps 4-5 for one party: its mix, back to its own rate, encoded into its output slot. */
function outputStage(p: i32, sum: usize, gain: i32, roomRate: i32, n: i32, limiter: bool): void {
  const pp = partyAt(p);
  const codec = load<i32>(pp + P_CODEC);
  const rate = codecRate(codec);
  const nn = rate / 50;
  const prompt = (load<i32>(pp + P_FLAGS) & F_PROMPT) != 0 ? pp + P_PROMPT : 0;
  const out = SCRATCH + S_OUT;
  const listen = load<i32>(pp + P_LISTEN_GAIN);
  partyOutput(
    sum, pp + P_DECODED, gain, listen, prompt, out, n, limiter, pp + P_LIMIT_ATTEN, load<i32>(pp + P_MIX_FROM),
    load<i32>(pp + P_LISTEN_FROM)
  );
  store<i32>(pp + P_LISTEN_FROM, listen);
  let pcm = out;
  if (rate < roomRate) {
    pcm = SCRATCH + S_NATIVE_OUT;
    downsample2(pp + P_DOWN_STATE, out, pcm, n);
  } else if (rate > roomRate) {
    pcm = SCRATCH + S_NATIVE_OUT;
    upsample2(pp + P_UP_STATE, out, pcm, n);
  }
  const payload = pp + P_OUT_PAYLOAD;
  if (codec == CODEC_L16) {
    l16EncodeFrame(pcm, payload, nn);
    store<i32>(pp + P_OUT_BYTES, 2 * nn);
  } else if (codec == CODEC_G722) {
    g722EncodeFrame(g722EncoderAt(p), pcm, payload, nn);
    store<i32>(pp + P_OUT_BYTES, nn >> 1);
  } else {
    g711EncodeFrame(codec, pcm, payload, nn);
    store<i32>(pp + P_OUT_BYTES, nn);
  }
}

/**
 * Adds a party's frame to the sum with this frame's gain, ramping from the last frame's unless a
 * DTMF tone cut it (a tone is taken out at once: it must not leak into the room).
 */
function mixIn(pp: usize, sum: usize, last: i32, gain: i32, n: i32): void {
  const from = load<i32>(pp + P_TONE) != 0 ? gain : last;
  store<i32>(pp + P_MIX_FROM, from);
  store<i32>(pp + P_MIX_GAIN, gain);
  accumulateRamp(sum, pp + P_DECODED, from, gain, n);
}

/** The one call per room per 20 ms frame (see the file comment). */
export function processRoom(r: i32): void {
  if (!validRoom(r)) return;
  const rp = roomAt(r);
  const roomRate = load<i32>(rp + R_RATE);
  const n = roomRate / 50;
  const sum = SCRATCH + S_SUM;
  zeroSum(sum, n);
  let p = load<i32>(rp + R_HEAD);
  while (p >= 0) {
    const pp = partyAt(p);
    const last = load<i32>(pp + P_MIX_GAIN);
    const gain = inputStage(p, roomRate, n);
    mixIn(pp, sum, last, gain, n);
    p = load<i32>(pp + P_NEXT);
  }
  measureTalkers(load<i32>(rp + R_HEAD), roomRate, n);
  const flags = load<i32>(rp + R_FLAGS);
  if ((flags & R_F_ANNOUNCE) != 0) addSamples(sum, rp + R_ANNOUNCE, n);
  if (load<i32>(rp + R_TAIL_ON) != 0) {
    addSamples(sum, rp + R_TAIL, n);
    store<i32>(rp + R_TAIL_ON, 0);
  }
  const limiter = (flags & R_F_LIMITER) != 0;
  p = load<i32>(rp + R_HEAD);
  while (p >= 0) {
    const pp = partyAt(p);
    outputStage(p, sum, load<i32>(pp + P_MIX_GAIN), roomRate, n, limiter);
    p = load<i32>(pp + P_NEXT);
  }
}

/**
 * The talker measurement of every member from `head` on (talker.ts): silent parties at rest
 * directly, the others two at a time.
 */
function measureTalkers(head: i32, roomRate: i32, n: i32): void {
  let waiting: usize = 0;
  for (let p = head; p >= 0; p = load<i32>(partyAt(p) + P_NEXT)) {
    const pp = partyAt(p);
    if (talkerMeasureSilent(pp)) continue;
    if (waiting == 0) {
      waiting = pp;
      continue;
    }
    talkerMeasurePair(waiting, pp, n, roomRate);
    waiting = 0;
  }
  if (waiting != 0) talkerMeasure(waiting, waiting + P_DECODED, n, roomRate);
}

// ---------------------------------------------------------------- single kernels (tests, bench)

/** A 4 KiB scratch area for calling the kernels below on arbitrary frames. */
export function benchBufferPtr(): usize {
  return SCRATCH + S_BENCH;
}

export function g711Encode(codec: i32, x: i32): i32 {
  return codec == CODEC_PCMA ? alawEncode(x) : ulawEncode(x);
}

export function g711Decode(codec: i32, code: i32): i32 {
  return codec == CODEC_PCMA ? alawExpand(code & 0xff) : ulawExpand(code & 0xff);
}

/** G.711 or L16 (G.722 keeps state: g722EncodeFrame). */
export function encodeFrame(codec: i32, src: usize, dst: usize, n: i32): void {
  if (codec == CODEC_L16) l16EncodeFrame(src, dst, n);
  else g711EncodeFrame(codec, src, dst, n);
}

export function decodeFrame(codec: i32, src: usize, dst: usize, n: i32): void {
  if (codec == CODEC_L16) l16DecodeFrame(src, dst, n);
  else g711DecodeFrame(codec, src, dst, n);
}

/** The talker measurement (talker.ts) of `n` samples at `src`, into party `p`'s slot. */
export function talkerMeasureFrame(p: i32, src: usize, n: i32, roomRate: i32): void {
  talkerMeasure(partyAt(p), src, n, roomRate);
}

/** The same for the decoded frames of parties `a` and `b` together (talkerMeasurePair). */
export function talkerMeasurePairFrame(a: i32, b: i32, n: i32, roomRate: i32): void {
  talkerMeasurePair(partyAt(a), partyAt(b), n, roomRate);
}

/** Half-band resampling with caller-provided state (UP_STATE / DOWN_STATE int16 samples). */
export function upsampleFrame(state: usize, src: usize, dst: usize, n: i32): void {
  upsample2(state, src, dst, n);
}

export function downsampleFrame(state: usize, src: usize, dst: usize, n: i32): void {
  downsample2(state, src, dst, n);
}

export function upStateSamples(): i32 {
  return UP_STATE;
}

export function downStateSamples(): i32 {
  return DOWN_STATE;
}

/**
 * Benchmark kernel: steps 4 only (sum and mix-minus of the members' current decoded frames into
 * the scratch output, no decode / DTMF / resampling / encode), to measure the mixer by itself.
 */
export function mixRoomOnly(r: i32): void {
  if (!validRoom(r)) return;
  const rp = roomAt(r);
  const n = load<i32>(rp + R_RATE) / 50;
  const sum = SCRATCH + S_SUM;
  zeroSum(sum, n);
  let p = load<i32>(rp + R_HEAD);
  while (p >= 0) {
    const pp = partyAt(p);
    const flags = load<i32>(pp + P_FLAGS);
    const gain = (flags & (F_TALKER | F_MUTED)) == F_TALKER && load<i32>(pp + P_TONE) == 0 ? load<i32>(pp + P_GAIN) : 0;
    mixIn(pp, sum, load<i32>(pp + P_MIX_GAIN), gain, n);
    p = load<i32>(pp + P_NEXT);
  }
  const flags = load<i32>(rp + R_FLAGS);
  if ((flags & R_F_ANNOUNCE) != 0) addSamples(sum, rp + R_ANNOUNCE, n);
  const limiter = (flags & R_F_LIMITER) != 0;
  p = load<i32>(rp + R_HEAD);
  while (p >= 0) {
    const pp = partyAt(p);
    const prompt = (load<i32>(pp + P_FLAGS) & F_PROMPT) != 0 ? pp + P_PROMPT : 0;
    const listen = load<i32>(pp + P_LISTEN_GAIN);
    partyOutput(
      sum, pp + P_DECODED, load<i32>(pp + P_MIX_GAIN), listen, prompt, SCRATCH + S_OUT, n, limiter,
      pp + P_LIMIT_ATTEN, load<i32>(pp + P_MIX_FROM), load<i32>(pp + P_LISTEN_FROM)
    );
    store<i32>(pp + P_LISTEN_FROM, listen);
    p = load<i32>(pp + P_NEXT);
  }
}
