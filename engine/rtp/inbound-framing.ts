/**
 * The packet time a caller actually sends, and its audio in the engine's frames. What we ask for in
 * SDP (`a=ptime:20`) is a wish: trunks and phones send 10, 30 or 40 ms packets as configured. The
 * jitter buffer orders, times and conceals whole packets, so it must run on the stream's packet
 * time; this follows it from the payload sizes and, when it differs from the frame clock's 20 ms,
 * cuts the buffer's packets into frames (playout-reframer.ts). Streams of 20 ms packets are read
 * from the buffer directly, as before.
 *
 * The first packet of a stream (after a reset, a new source or a codec change) sets the packet
 * time; later, three packets in a row of one other size change it (the buffer restarts). A packet
 * of an odd size in between is buffered as it is and played on its own timeline: from then on the
 * stream goes through the reframer, which takes it a packet time at a time (a longer one) or just
 * its samples (a shorter one). Sizes that are not a whole number of samples, under 5 ms or over
 * the buffer's payload limit never set the packet time.
 */
import type { JitterBuffer } from './jitter-buffer.js';
import { PlayoutReframer } from './playout-reframer.js';

/** How a codec's payload holds its samples. */
export interface SampleFormat {
  bytesPerSample: number;
  /** The encoded value of silence, filled into gaps between talkspurts. */
  silenceByte: number;
  /**
   * The decoder carries state from packet to packet (G.722's ADPCM): packets the jitter buffer
   * skips are handed on with the next frame for it to decode and discard (`frameSkippedBytes`).
   */
  statefulDecoder?: boolean;
}

/** G.711 μ-law, the default. */
export const PCMU_SAMPLES: SampleFormat = { bytesPerSample: 1, silenceByte: 0xff };

/** Packets in a row of a new size that change the packet time mid-stream. */
const PACKETS_TO_CHANGE = 3;
/**
 * Skipped packets kept for a stateful decoder: a skip to shrink the delay is one, making room a few
 * in a burst. With the frame they fill the core's 640-byte input (a G.722 frame is 160 bytes).
 */
const SKIPPED_PACKETS_KEPT = 3;
const MIN_PACKET_MS = 5;

export class InboundFraming {
  readonly #jitter: JitterBuffer;
  #clockRateHz: number;
  #frameSamples: number;
  #format: SampleFormat;
  /** Payload bytes of one packet at the packet time the buffer runs on. */
  #packetBytes: number;
  /** The next usable packet sets the packet time at once (a stream's first, after a reset). */
  #awaitingFirst = true;
  #candidateBytes = -1;
  #candidateRun = 0;
  #reframer: PlayoutReframer | undefined;
  /** How far before its playout time the reader may ask for a packet, in samples (the buffer's read-ahead). */
  #readAheadSamples = 0;

  constructor(jitter: JitterBuffer, clockRateHz: number, frameSamples: number, format: SampleFormat) {
    this.#jitter = jitter;
    this.#clockRateHz = clockRateHz;
    this.#frameSamples = frameSamples;
    this.#format = format;
    this.#packetBytes = frameSamples * format.bytesPerSample;
    if (format.statefulDecoder === true) jitter.keepSkippedPayload(SKIPPED_PACKETS_KEPT * this.#packetBytes);
  }

  /** Milliseconds of audio in each of the caller's packets. */
  get packetMs(): number {
    return (this.#packetBytes / this.#format.bytesPerSample / this.#clockRateHz) * 1000;
  }

  /** Called with each audio packet's payload size before it is buffered. */
  observe(payloadBytes: number): void {
    if (payloadBytes === this.#packetBytes) {
      this.#awaitingFirst = false;
      this.#candidateRun = 0;
      return;
    }
    const samples = payloadBytes / this.#format.bytesPerSample;
    if (!Number.isInteger(samples) || payloadBytes <= 0 || payloadBytes > this.#jitter.maxPayloadBytes)
      return;
    if (!this.#awaitingFirst) {
      // A packet of another size is played on its own timeline and cut into frames
      // (JitterBuffer.setPacketBytes), and the frames after it start inside packets: each is asked
      // for up to this much before it plays (as for 10 ms packets, see #setPacketSamples). Without
      // it, one 10 ms packet among 20 ms ones over 0-20 ms of jitter made 7 % of the frames late.
      const packetSamples = this.#packetBytes / this.#format.bytesPerSample;
      const readAhead = this.#frameSamples - gcd(this.#frameSamples, gcd(packetSamples, samples));
      if (this.#reframer === undefined || readAhead > this.#readAheadSamples) {
        this.#reframer ??= this.#newReframer();
        this.#readAheadSamples = Math.max(this.#readAheadSamples, readAhead);
        this.#jitter.setPacketBytes(this.#packetBytes, (this.#readAheadSamples * 1000) / this.#clockRateHz);
      }
    }
    if (samples < (this.#clockRateHz * MIN_PACKET_MS) / 1000) return;
    if (payloadBytes !== this.#candidateBytes) {
      this.#candidateBytes = payloadBytes;
      this.#candidateRun = 0;
    }
    if (++this.#candidateRun < PACKETS_TO_CHANGE && !this.#awaitingFirst) return;
    this.#setPacketSamples(samples);
    this.#awaitingFirst = false;
  }

  /** The frame due at `nowMs` (JitterBuffer.pop's results). */
  read(target: Uint8Array, nowMs: number): number {
    const reframer = this.#reframer;
    return reframer === undefined ? this.#jitter.pop(target, nowMs) : reframer.read(target, nowMs);
  }

  get frameFollowsSkip(): boolean {
    return this.#reframer?.frameFollowsSkip ?? this.#jitter.frameFollowsSkip;
  }

  /**
   * Bytes of skipped payload after the frame `read` returned last, for a stateful decoder
   * (JitterBuffer.frameSkippedBytes). Always 0 through the reframer, which keeps none.
   */
  get frameSkippedBytes(): number {
    return this.#reframer === undefined ? this.#jitter.frameSkippedBytes : 0;
  }

  /** The jitter buffer was reset for a new source: its first packet sets the packet time again. */
  restart(): void {
    this.#reframer?.clear();
    this.#awaitingFirst = true;
    this.#candidateRun = 0;
  }

  /** A codec change (re-INVITE): new clock, frame and sample format; the buffer restarts at the frame's packet time. */
  setFormat(clockRateHz: number, frameSamples: number, format: SampleFormat): void {
    this.#clockRateHz = clockRateHz;
    this.#frameSamples = frameSamples;
    this.#format = format;
    this.#setPacketSamples(frameSamples);
    this.#awaitingFirst = true;
  }

  #setPacketSamples(samples: number): void {
    const bytesPerSample = this.#format.bytesPerSample;
    // The reframer asks for a packet when what it holds runs under a frame, at the time the
    // packet starts to play: up to a frame less one common step of the two sizes ahead (10 ms
    // for 10 or 30 ms packets). Without it in the target, 10 ms packets under ±10 ms of jitter
    // came late 7 % of the time against none for 20 ms ones, and each concealed a whole frame.
    const readAheadSamples = this.#frameSamples - gcd(this.#frameSamples, samples);
    this.#readAheadSamples = readAheadSamples;
    this.#jitter.setFormat(this.#clockRateHz, samples, (readAheadSamples * 1000) / this.#clockRateHz);
    this.#packetBytes = samples * bytesPerSample;
    this.#candidateRun = 0;
    this.#reframer = samples === this.#frameSamples ? undefined : this.#newReframer();
    this.#jitter.setPacketBytes(this.#reframer === undefined ? 0 : this.#packetBytes);
    if (this.#reframer === undefined)
      this.#jitter.keepSkippedPayload(
        this.#format.statefulDecoder === true ? SKIPPED_PACKETS_KEPT * this.#packetBytes : 0
      );
  }

  /** A reframer cuts packets into frames and drops a part frame at a skip: no skipped payload is kept for it. */
  #newReframer(): PlayoutReframer {
    this.#jitter.keepSkippedPayload(0);
    const bytesPerSample = this.#format.bytesPerSample;
    return new PlayoutReframer(this.#jitter, {
      frameBytes: this.#frameSamples * bytesPerSample,
      packetBytes: this.#packetBytes,
      bytesPerSample,
      clockRateHz: this.#clockRateHz,
      silenceByte: this.#format.silenceByte
    });
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
