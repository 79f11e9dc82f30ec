/**
 * Memory map of the room core (all offsets in bytes, everything little-endian).
 *
 * One region is reserved once at instantiation (`heap.alloc` with the stub runtime, so any
 * static data of other files stays below it) and never freed or grown:
 *
 *   REGION_BASE
 *   ├── PARTIES    MAX_PARTIES × PARTY_BYTES        global party slots (a party keeps its slot
 *   │                                                when it moves between rooms)
 *   ├── ROOMS      MAX_ROOMS × ROOM_BYTES           room header + announcement frame
 *   ├── SCRATCH    SCRATCH_BYTES                    per-call work buffers (one room at a time)
 *   ├── TABLES     TABLE_BYTES                      G.711 encode/decode lookup tables
 *   └── G722       MAX_PARTIES × G722_PARTY_BYTES   each party's G.722 encoder, then decoder
 *                                                    (g722.ts; apart, as only G.722 parties touch it)
 *
 * Party slot (PARTY_BYTES = 6400):
 *   P_FLAGS        i32   bit 0 allocated, 1 talker, 2 muted, 3 private prompt active,
 *                        4 in-band DTMF detection off, 5 this frame's input follows a frame the
 *                        jitter buffer skipped (written by JS with P_INPUT, cleared by processRoom)
 *   P_CODEC        i32   0 PCMU, 1 PCMA, 2 L16 (big-endian, 16 kHz), 3 G.722 (16 kHz)
 *   P_GAIN         i32   gain in Q14 (16384 = 0 dB), 0..65536
 *   P_ROOM         i32   room slot or -1;  P_PREV / P_NEXT  i32  room member list links (-1 = none)
 *   P_INPUT        i32   this frame's input: >0 payload bytes, INPUT_LOST (-1), INPUT_UNHEARD (-2), INPUT_SILENT (0)
 *   P_OUT_BYTES    i32   bytes of encoded output written by the last processRoom
 *   P_DIGIT        i32   ASCII of the last in-band digit that ended (0 = none, cleared by JS)
 *   P_DIGIT_DUR    i32   its duration in samples;  P_DIGIT_START f64  its start (samples)
 *   P_PEAK         i32   peak |sample| of this frame's decoded input
 *   P_LOST         i32   consecutive lost frames (PLC); P_PITCH i32 pitch period (samples)
 *   P_PLC_POS      i32   read position in the pitch buffer; P_PLC_T i32 samples since the loss began
 *   P_NATIVE_CUR   i32   which of the two native frame buffers holds the newest frame
 *   P_TONE         i32   1 while a DTMF tone is active (its contribution is suppressed)
 *   P_MIX_GAIN     i32   gain it was summed with this frame (0: listener, muted or tone)
 *   P_MIX_FROM     i32   gain its contribution ramped from this frame (mixer.ts; = P_MIX_GAIN
 *                        when it did not change)
 *   P_TALK_Z1, P_TALK_Z2, P_TALK_PREV  f64   talker high-pass state (talker.ts)
 *   P_TALK_SUM_RAW, P_TALK_SUM_HP      f64   this frame's sums of squares, raw and high-passed
 *   P_TALK_CROSSINGS                   i32   this frame's zero crossings of the high-passed signal
 *   P_LIMIT_ATTEN  i32   the output limiter's attenuation, Q15 (0 = unity gain; mixer.ts)
 *   P_UP_STATE     i16 × UP_STATE      8k→16k half-band history
 *   P_DOWN_STATE   i16 × DOWN_STATE    16k→8k half-band history
 *   P_LISTEN_GAIN  i32   gain in Q14 on what the party hears of the room (16384 = 0 dB), 0..65536
 *   P_LISTEN_FROM  i32   the listen gain of its last frame, which this frame's ramps from (mixer.ts)
 *   P_SKIPPED      i32   bytes after this frame's payload in P_IN_PAYLOAD that the jitter buffer
 *                        skipped just before it (written by JS with P_INPUT): a G.722 decoder runs
 *                        them first and discards their audio (room.ts), the others ignore them
 *   P_IN_PAYLOAD   u8 × 640            input payload written by JS (this frame's, then P_SKIPPED bytes)
 *   P_OUT_PACKET   u8 × 12             room for the RTP header JS writes in front of the output,
 *                                      so the outgoing packet is sent from here without a copy
 *   P_OUT_PAYLOAD  u8 × 640            encoded output read by JS (directly after P_OUT_PACKET)
 *   P_DECODED      i16 × 320           decoded input at the room rate (read by JS)
 *   P_PROMPT       i16 × 320           private prompt at the room rate (written by JS)
 *   P_NATIVE       i16 × 2 × 320       last two frames at the party's codec rate (PLC history)
 *   P_PLC_BUF      i16 × 240           the pitch period being repeated during a loss
 *   P_DTMF         DTMF_STATE_BYTES    detector state (assembly/dtmf.ts), at most 1040
 *   P_DECODED_PREV i16 × 320           the previous frame's P_DECODED (the talker's 32 ms window)
 *
 * Room slot (ROOM_BYTES = 1344):
 *   R_FLAGS i32 (bit 0 allocated, 1 announcement active, 2 output limiter), R_RATE i32 (8000|16000),
 *   R_HEAD i32 (first member or -1), R_COUNT i32, R_TAIL_ON i32 (1: R_TAIL is added to the next
 *   frame's sum), R_TAIL_N i32 (how many parties left into R_TAIL), R_TAIL_WHO i32 × TAIL_WHO (the
 *   first of them), R_ANNOUNCE i16 × 320 at offset 64, R_TAIL i16 × 320 at offset 704 (the fading
 *   tail of the parties that left since the last frame; room.ts keepTail).
 *
 * Scratch: S_SUM i32 × 320 (talker sum + announcement), S_OUT i16 × 320 (one party's mix),
 *   S_WORK i16 × 704 (resampler input with history, PLC history), S_NATIVE_OUT i16 × 320.
 */

export const MAX_PARTIES: i32 = 4096;
export const MAX_ROOMS: i32 = 2048;
export const MAX_FRAME: i32 = 320;
export const MAX_PAYLOAD: i32 = 640;

export const CODEC_PCMU: i32 = 0;
export const CODEC_PCMA: i32 = 1;
export const CODEC_L16: i32 = 2;
export const CODEC_G722: i32 = 3;

export const INPUT_LOST: i32 = -1;
export const INPUT_SILENT: i32 = 0;
/** Silence whose cause is not known yet (a stopped stream: a pause or a stall): unknown to the DTMF detector. */
export const INPUT_UNHEARD: i32 = -2;

export const F_ALLOCATED: i32 = 1;
export const F_TALKER: i32 = 2;
export const F_MUTED: i32 = 4;
export const F_PROMPT: i32 = 8;
export const F_NO_INBAND: i32 = 16;
export const F_FOLLOWS_SKIP: i32 = 32;
export const R_F_ANNOUNCE: i32 = 2;
export const R_F_LIMITER: i32 = 4;

/** Half-band taps per side (the filter has 4·HB_TAPS − 1 taps, half of them zero). */
export const HB_TAPS: i32 = 12;
export const UP_STATE: i32 = 2 * HB_TAPS - 1;
export const DOWN_STATE: i32 = 4 * HB_TAPS - 2;

export const P_FLAGS: i32 = 0;
export const P_CODEC: i32 = 4;
export const P_GAIN: i32 = 8;
export const P_ROOM: i32 = 12;
export const P_PREV: i32 = 16;
export const P_NEXT: i32 = 20;
export const P_INPUT: i32 = 24;
export const P_OUT_BYTES: i32 = 28;
export const P_DIGIT: i32 = 32;
export const P_DIGIT_DUR: i32 = 36;
export const P_DIGIT_START: i32 = 40;
export const P_PEAK: i32 = 48;
export const P_LOST: i32 = 52;
export const P_PITCH: i32 = 56;
export const P_PLC_POS: i32 = 60;
export const P_PLC_T: i32 = 64;
export const P_NATIVE_CUR: i32 = 68;
export const P_TONE: i32 = 72;
export const P_MIX_GAIN: i32 = 76;
export const P_TALK_Z1: i32 = 80;
export const P_TALK_Z2: i32 = 88;
export const P_TALK_PREV: i32 = 96;
export const P_TALK_SUM_RAW: i32 = 104;
export const P_TALK_SUM_HP: i32 = 112;
export const P_TALK_CROSSINGS: i32 = 120;
export const P_LIMIT_ATTEN: i32 = 124;
export const P_UP_STATE: i32 = 128;
export const P_DOWN_STATE: i32 = 192;
export const P_LISTEN_GAIN: i32 = 288;
export const P_MIX_FROM: i32 = 292;
export const P_LISTEN_FROM: i32 = 296;
export const P_SKIPPED: i32 = 300;
export const P_IN_PAYLOAD: i32 = 384;
export const RTP_HEADER_BYTES: i32 = 12;
// The payload stays 16-byte aligned; the header sits in the 12 bytes just before it.
export const P_OUT_PAYLOAD: i32 = P_IN_PAYLOAD + MAX_PAYLOAD + 16;
export const P_OUT_PACKET: i32 = P_OUT_PAYLOAD - RTP_HEADER_BYTES;
export const P_DECODED: i32 = P_OUT_PAYLOAD + MAX_PAYLOAD;
export const P_PROMPT: i32 = P_DECODED + 2 * MAX_FRAME;
export const P_NATIVE: i32 = P_PROMPT + 2 * MAX_FRAME;
export const PLC_BUF_SAMPLES: i32 = 240;
export const P_PLC_BUF: i32 = P_NATIVE + 4 * MAX_FRAME;
export const P_DTMF: i32 = P_PLC_BUF + 2 * PLC_BUF_SAMPLES;
export const DTMF_STATE_MAX: i32 = 1040;
export const P_DECODED_PREV: i32 = P_DTMF + DTMF_STATE_MAX;
export const PARTY_BYTES: i32 = 6400;

export const R_FLAGS: i32 = 0;
export const R_RATE: i32 = 4;
export const R_HEAD: i32 = 8;
export const R_COUNT: i32 = 12;
export const R_TAIL_ON: i32 = 16;
export const R_TAIL_N: i32 = 20;
export const TAIL_WHO: i32 = 8;
export const R_TAIL_WHO: i32 = 24;
export const R_ANNOUNCE: i32 = 64;
export const R_TAIL: i32 = R_ANNOUNCE + 2 * MAX_FRAME;
export const ROOM_BYTES: i32 = R_TAIL + 2 * MAX_FRAME;

export const S_SUM: i32 = 0;
export const S_OUT: i32 = S_SUM + 4 * MAX_FRAME;
export const S_WORK: i32 = S_OUT + 2 * MAX_FRAME;
export const S_NATIVE_OUT: i32 = S_WORK + 2 * (2 * MAX_FRAME + 64);
export const S_BENCH: i32 = S_NATIVE_OUT + 2 * MAX_FRAME;
export const SCRATCH_BYTES: i32 = S_BENCH + 4096;

export const T_ULAW_ENC: i32 = 0; // u8 × 16384, index (x >> 2) & 0x3fff
export const T_ALAW_ENC: i32 = 16384; // u8 × 4096, index (x >> 4) & 0xfff
export const T_ULAW_DEC: i32 = 20480; // i16 × 256
export const T_ALAW_DEC: i32 = 20992; // i16 × 256
export const TABLE_BYTES: i32 = 21504;

// @ts-ignore: a compile-time check that the slot holds its fields
if (R_TAIL_WHO + 4 * TAIL_WHO > R_ANNOUNCE) ERROR('R_TAIL_WHO overlaps R_ANNOUNCE');
if (P_DECODED_PREV + 2 * MAX_FRAME > PARTY_BYTES) ERROR('party slot fields overflow PARTY_BYTES');
// @ts-ignore: the listen gain sits in the gap between the resampler's history and the payload
if (P_DOWN_STATE + 2 * DOWN_STATE > P_LISTEN_GAIN || P_LISTEN_GAIN + 4 > P_IN_PAYLOAD) ERROR('P_LISTEN_GAIN overlaps');
// @ts-ignore: so does P_SKIPPED, after P_LISTEN_FROM
if (P_SKIPPED < P_LISTEN_FROM + 4 || P_SKIPPED + 4 > P_IN_PAYLOAD) ERROR('P_SKIPPED overlaps');

/** One direction's words (g722.ts G722_STATE_WORDS), twice. */
export const G722_DIRECTION_BYTES: i32 = 104 * 4;
export const G722_PARTY_BYTES: i32 = 2 * G722_DIRECTION_BYTES;

export const REGION_BYTES: i32 =
  MAX_PARTIES * PARTY_BYTES + MAX_ROOMS * ROOM_BYTES + SCRATCH_BYTES + TABLE_BYTES + MAX_PARTIES * G722_PARTY_BYTES;

/** Reserved once when the module starts; nothing is allocated after this. */
export const REGION_BASE: usize = (heap.alloc(<usize>REGION_BYTES + 16) + 15) & ~(<usize>15);
export const PARTIES: usize = REGION_BASE;
export const ROOMS: usize = PARTIES + <usize>MAX_PARTIES * <usize>PARTY_BYTES;
export const SCRATCH: usize = ROOMS + <usize>MAX_ROOMS * <usize>ROOM_BYTES;
export const TABLES: usize = SCRATCH + <usize>SCRATCH_BYTES;
export const G722_STATES: usize = TABLES + <usize>TABLE_BYTES;

// @ts-ignore: decorator
@inline export function partyAt(p: i32): usize {
  return PARTIES + <usize>p * <usize>PARTY_BYTES;
}

/** Party p's G.722 encoder state. */
// @ts-ignore: decorator
@inline export function g722EncoderAt(p: i32): usize {
  return G722_STATES + <usize>p * <usize>G722_PARTY_BYTES;
}

/** Party p's G.722 decoder state, after its encoder's. */
// @ts-ignore: decorator
@inline export function g722DecoderAt(p: i32): usize {
  return g722EncoderAt(p) + <usize>G722_DIRECTION_BYTES;
}

// @ts-ignore: decorator
@inline export function roomAt(r: i32): usize {
  return ROOMS + <usize>r * <usize>ROOM_BYTES;
}
