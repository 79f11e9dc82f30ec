/**
 * Outbound RTP numbering for one stream (RFC 3550 §5.1): SSRC, sequence number and timestamp,
 * the marker bit on the first packet and after silence, and the timestamp of RFC 4733 events.
 * An audio packet's header is written in place, in front of the payload the caller already put
 * at RTP_HEADER_BYTES (the DSP core encodes straight into the packet); event packets go into a
 * small ring of preallocated buffers (a UDP send may still hold the previous one). Sending a
 * frame allocates nothing. No I/O.
 */
import { randomInt } from 'node:crypto';
import { RTP_HEADER_BYTES, writeRtpHeaderOf } from './rtp-packet.js';
import { seqAdd16, tsDiff32 } from './sequence.js';
import type { TelephoneEventPayload } from './telephone-event.js';
import { writeTelephoneEvent } from './telephone-event.js';

/** Event packets in flight at once: a UDP send may hold a buffer until the next packet time. */
const RING = 4;

export interface PacketizerOptions {
  payloadType: number;
  clockRateHz: number;
  samplesPerFrame: number;
  maxPayloadBytes?: number;
  /** Fixed initial values for tests; random otherwise (§5.1: they SHOULD be random). */
  ssrc?: number;
  initialSequence?: number;
  initialTimestamp?: number;
}

export class RtpPacketizer {
  readonly ssrc: number;
  payloadType: number;
  #clockRateHz: number;
  #spf: number;
  #frameMs: number;
  readonly #ring: Buffer[];
  readonly maxPayloadBytes: number;
  #next = 0;
  #seq = 0;
  /**
   * Timestamp of the last audio frame (or of the end of the last event). The timestamps here are
   * kept as signed 32-bit integers (the same bits; the header takes them modulo 2^32): held
   * unsigned, half of all streams start above 2^31, and V8 then allocates a heap number for
   * every frame's timestamp.
   */
  #lastTs = 0;
  #lastFrameMs = NaN;
  #nextTs = 0;
  #nextMarker = false;
  packetsSent = 0;
  octetsSent = 0;
  #lastPacketTs = 0;
  #lastPacketMs = NaN;

  constructor(opts: PacketizerOptions) {
    this.ssrc = (opts.ssrc ?? randomInt(0, 0xffffffff)) >>> 0;
    this.payloadType = opts.payloadType;
    this.#clockRateHz = opts.clockRateHz;
    this.#spf = opts.samplesPerFrame;
    this.#frameMs = (1000 * opts.samplesPerFrame) / opts.clockRateHz;
    this.maxPayloadBytes = opts.maxPayloadBytes ?? 1280;
    this.#ring = Array.from({ length: RING }, () => Buffer.alloc(RTP_HEADER_BYTES + 4));
    this.#seq = (opts.initialSequence ?? randomInt(0, 0x10000)) & 0xffff;
    this.#lastTs = (opts.initialTimestamp ?? randomInt(0, 0xffffffff)) | 0;
  }

  /**
   * The RTP timestamp (unsigned) of the instant `nowMs` on this stream's clock, for the SR
   * (§6.4.1): from the last audio frame numbered and when. That frame may still wait to be packed
   * with the next (a packet of several leaves with its first frame's timestamp, 20-40 ms old), and
   * an event's packets all carry its start; the frames go on being numbered. Before any frame (or
   * since a codec change), from the last packet sent.
   */
  timestampAt(nowMs: number): number {
    const framed = !Number.isNaN(this.#lastFrameMs);
    const since = framed ? this.#lastFrameMs : this.#lastPacketMs;
    const elapsedMs = Number.isNaN(since) ? 0 : nowMs - since;
    const base = framed ? this.#lastTs : this.#lastPacketTs;
    return (base + Math.round((elapsedMs * this.#clockRateHz) / 1000)) >>> 0;
  }

  get frameMs(): number {
    return this.#frameMs;
  }

  setFormat(payloadType: number, clockRateHz: number, samplesPerFrame: number): void {
    this.payloadType = payloadType;
    this.#clockRateHz = clockRateHz;
    this.#spf = samplesPerFrame;
    this.#frameMs = (1000 * samplesPerFrame) / clockRateHz;
    this.#lastFrameMs = NaN; // the next frame starts a new talkspurt (marker)
  }

  /**
   * Timestamp the next audio frame gets at `nowMs` (into #nextTs), and whether it starts a
   * talkspurt (#nextMarker): the first frame, or one after a gap of more than 4 frames (the
   * timestamp then moves on by the elapsed time, §5.1, so the receiver's timing stays right).
   * `onFrameClock`: `nowMs` is the due time of the frame clock's tick, exact to the frame, so a
   * shorter gap of whole frames is ticks the clock skipped after a stall, and the timestamp moves
   * on by them too. A wall-clock time is only near its frame's: there a short gap is one frame.
   */
  #nextAudio(nowMs: number, onFrameClock = false): void {
    if (Number.isNaN(this.#lastFrameMs)) {
      this.#nextTs = this.#lastTs;
      this.#nextMarker = true;
      return;
    }
    const gapMs = nowMs - this.#lastFrameMs;
    this.#nextMarker = gapMs > 4 * this.#frameMs;
    const frames = this.#nextMarker || onFrameClock ? Math.max(1, Math.round(gapMs / this.#frameMs)) : 1;
    this.#nextTs = (this.#lastTs + frames * this.#spf) | 0;
  }

  /**
   * Makes `packet` an audio packet: its payload of `payloadBytes` is already at
   * packet[RTP_HEADER_BYTES...]; writes the header in front. Returns the packet's length.
   * `onFrameClock`: `nowMs` is the frame's due time (see #nextAudio).
   */
  audio(packet: Uint8Array, payloadBytes: number, nowMs: number, onFrameClock = false): number {
    this.#checkPayload(packet, payloadBytes);
    this.#nextAudio(nowMs, onFrameClock);
    const ts = this.#nextTs;
    this.#writeHeader(packet, this.#nextMarker, this.payloadType, ts);
    this.#commitAudio(ts, nowMs);
    this.#count(payloadBytes, ts, nowMs);
    return RTP_HEADER_BYTES + payloadBytes;
  }

  /**
   * Numbers the audio frame of `nowMs` without sending it as a packet of its own: an event replaces
   * it, or OutboundPacking sends it in a longer packet (through `audioAt`). Its timestamp and
   * marker are then `frameTs` and `frameMarker`.
   */
  skipAudio(nowMs: number, onFrameClock = false): void {
    this.#nextAudio(nowMs, onFrameClock);
    this.#commitAudio(this.#nextTs, nowMs);
  }

  /** Timestamp (signed 32-bit) of the frame `skipAudio` numbered last. */
  get frameTs(): number {
    return this.#nextTs;
  }

  /** Whether that frame starts a talkspurt. */
  get frameMarker(): boolean {
    return this.#nextMarker;
  }

  /** As `audio`, for a packet of frames numbered by `skipAudio`, the first at `ts`. */
  audioAt(packet: Uint8Array, payloadBytes: number, ts: number, marker: boolean, nowMs: number): number {
    this.#checkPayload(packet, payloadBytes);
    this.#writeHeader(packet, marker, this.payloadType, ts);
    this.#count(payloadBytes, ts, nowMs);
    return RTP_HEADER_BYTES + payloadBytes;
  }

  /** RTP timestamp a telephone event starting now gets (that of the audio frame it replaces). */
  eventTimestamp(nowMs: number): number {
    this.#nextAudio(nowMs);
    return this.#nextTs >>> 0;
  }

  /** Writes one telephone-event packet (RFC 4733 §2.3) with the event's fixed timestamp. */
  event(
    payloadType: number,
    marker: boolean,
    eventTs: number,
    payload: TelephoneEventPayload,
    nowMs: number
  ): { buf: Buffer; length: number } {
    const buf = this.#ring[this.#next];
    this.#next = (this.#next + 1) % RING;
    this.#writeHeader(buf, marker, payloadType, eventTs);
    writeTelephoneEvent(buf, RTP_HEADER_BYTES, payload);
    this.#count(4, eventTs, nowMs);
    return { buf, length: RTP_HEADER_BYTES + 4 };
  }

  /** After an event, audio continues where the event ended (§2.5.1.3). */
  endEvent(eventTs: number, durationSamples: number, nowMs: number): void {
    const endTs = (eventTs + Math.ceil(durationSamples / this.#spf) * this.#spf - this.#spf) | 0;
    // Audio frames skipped during the event may already have moved the timestamp further.
    if (tsDiff32(endTs, this.#lastTs) > 0) this.#lastTs = endTs;
    this.#lastFrameMs = nowMs;
  }

  #checkPayload(packet: Uint8Array, payloadBytes: number): void {
    if (
      payloadBytes > this.maxPayloadBytes ||
      payloadBytes + RTP_HEADER_BYTES > packet.length ||
      payloadBytes < 0
    ) {
      throw new RangeError(
        `RTP payload of ${payloadBytes} bytes exceeds ${Math.min(this.maxPayloadBytes, packet.length - RTP_HEADER_BYTES)}`
      );
    }
  }

  #commitAudio(ts: number, nowMs: number): void {
    this.#lastTs = ts;
    this.#lastFrameMs = nowMs;
  }

  #writeHeader(buf: Uint8Array, marker: boolean, payloadType: number, ts: number): void {
    writeRtpHeaderOf(buf, marker, payloadType, this.#seq, ts, this.ssrc);
    this.#seq = seqAdd16(this.#seq, 1);
  }

  #count(payloadBytes: number, ts: number, nowMs: number): void {
    this.packetsSent++;
    this.octetsSent += payloadBytes;
    this.#lastPacketTs = ts | 0;
    this.#lastPacketMs = nowMs;
  }
}
