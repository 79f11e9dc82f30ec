/**
 * Reception statistics of one remote source, as RFC 3550 prescribes them for RTCP receiver
 * reports: sequence validation and the extended highest sequence number (A.1), cumulative and
 * fractional loss (A.3), interarrival jitter (§6.4.1, A.8), and LSR/DLSR from the last sender
 * report (§6.4.1). A plain data structure: the caller passes arrival times in ms.
 */
import type { ReportBlock } from './rtcp-packet.js';
import type { ReceivedRtp } from './rtp-packet.js';
import { WrapUnwrapper } from './sequence.js';

const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000; // A.1
const MAX_MISORDER = 100; // A.1
const MIN_SEQUENTIAL = 2; // A.1

export class ReceptionStats {
  readonly #clockRateHz: number;
  /** Transit differences from here on (5 s of the clock) are timeline jumps, not jitter. */
  readonly #maxJitterStep: number;
  ssrc = 0;
  #maxSeq = 0;
  #cycles = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #probation = MIN_SEQUENTIAL;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit = 0;
  #haveTransit = false;
  readonly #timestamps = new WrapUnwrapper(32);
  /** Jitter in timestamp units, kept as a float; A.8 keeps it scaled by 16 in integers, same result. */
  #jitter = 0;
  #lsr = 0;
  #lsrArrivalMs = -1;
  #started = false;
  /** What the source lost before it started its numbers over (A.1 restarts the report's count). */
  #lostBeforeRestart = 0;

  constructor(clockRateHz: number) {
    this.#clockRateHz = clockRateHz;
    this.#maxJitterStep = 5 * clockRateHz;
  }

  /**
   * Records one packet (A.1 `update_seq`) and, when `measureJitter`, its transit (A.8). Returns false while the source is on probation or
   * when the packet is a wild jump that restarts the sequence (the caller may still play it).
   */
  update(
    packet: Pick<ReceivedRtp, 'sequenceNumber' | 'timestamp' | 'ssrc' | 'arrivalMs'>,
    measureJitter = true
  ): boolean {
    const sequenceNumber = packet.sequenceNumber;
    if (!this.#started) {
      this.#started = true;
      this.ssrc = packet.ssrc;
      this.#initSeq(sequenceNumber);
      this.#maxSeq = sequenceNumber - 1;
      this.#probation = MIN_SEQUENTIAL;
    }
    // Telephone-event packets repeat their event's timestamp, so they say nothing about jitter.
    if (measureJitter) this.#updateJitter(packet);
    const udelta = (sequenceNumber - this.#maxSeq + RTP_SEQ_MOD) % RTP_SEQ_MOD;
    if (this.#probation > 0) {
      // A.1: a source is valid after MIN_SEQUENTIAL packets in sequence.
      if (sequenceNumber === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = sequenceNumber;
        if (this.#probation === 0) {
          this.#initSeq(sequenceNumber);
          this.#received++;
          return true;
        }
      } else {
        this.#probation = MIN_SEQUENTIAL - 1;
        this.#maxSeq = sequenceNumber;
      }
      return false;
    } else if (udelta < MAX_DROPOUT) {
      if (sequenceNumber < this.#maxSeq) this.#cycles += RTP_SEQ_MOD; // wrapped
      this.#maxSeq = sequenceNumber;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // A very large jump: restart if two packets in a row agree, else drop this one.
      if (sequenceNumber === this.#badSeq) {
        this.#lostBeforeRestart += Math.max(0, this.cumulativeLost);
        this.#initSeq(sequenceNumber);
      } else {
        this.#badSeq = (sequenceNumber + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    }
    // else: duplicate or reordered packet
    this.#received++;
    return true;
  }

  #initSeq(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  /** §6.4.1 / A.8: J += (|D(i-1,i)| − J) / 16, with transit times in timestamp units. */
  #updateJitter(packet: Pick<ReceivedRtp, 'timestamp' | 'arrivalMs'>): void {
    const arrival = (packet.arrivalMs * this.#clockRateHz) / 1000;
    // Unwrapped timestamps, so a wrap 2^32−1 → 0 is a step of 1, not −2^32.
    const transit = arrival - this.#timestamps.unwrap(packet.timestamp);
    if (this.#haveTransit) {
      const d = Math.abs(transit - this.#transit);
      // A jump of the sender's timeline (a restart, a source switched, a peer adding 2^31 to every
      // timestamp) is no network jitter: one such packet took the estimate to 2^27 ticks (three
      // days at 8 kHz), in our reports and in the engine's jitter histogram. libwebrtc leaves
      // differences of 5 s and more out likewise.
      if (d < this.#maxJitterStep) this.#jitter += (d - this.#jitter) / 16;
    }
    this.#transit = transit;
    this.#haveTransit = true;
  }

  /** Records the arrival of a sender report from this source (for LSR/DLSR). */
  onSenderReport(ntpMiddle: number, arrivalMs: number): void {
    this.#lsr = ntpMiddle >>> 0;
    this.#lsrArrivalMs = arrivalMs;
  }

  get extendedHighestSequence(): number {
    return this.#cycles + this.#maxSeq;
  }

  /** A.3: expected = highest − base + 1. */
  get expected(): number {
    return this.#started ? this.extendedHighestSequence - this.#baseSeq + 1 : 0;
  }

  get received(): number {
    return this.#received;
  }

  /** A.3: cumulative lost, clamped to the signed 24-bit field. */
  get cumulativeLost(): number {
    const lost = this.expected - this.#received;
    return Math.max(-0x800000, Math.min(0x7fffff, lost));
  }

  /** Packets lost since the first, over every restart of the sequence (never negative). */
  get totalLost(): number {
    return this.#lostBeforeRestart + Math.max(0, this.cumulativeLost);
  }

  /** Interarrival jitter in timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }

  get jitterMs(): number {
    return (this.#jitter * 1000) / this.#clockRateHz;
  }

  /**
   * Builds the report block and starts a new interval (A.3: fraction lost is computed over the
   * interval since the previous report, and is 0 when more arrived than expected).
   */
  reportBlock(nowMs: number): ReportBlock {
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const dlsr = this.#lsrArrivalMs < 0 ? 0 : Math.floor(((nowMs - this.#lsrArrivalMs) * 65536) / 1000) >>> 0;
    return {
      ssrc: this.ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: this.cumulativeLost,
      highestSequence: this.extendedHighestSequence >>> 0,
      jitter: Math.floor(this.#jitter) >>> 0,
      lastSenderReport: this.#lsr,
      delaySinceLastSenderReport: this.#lsrArrivalMs < 0 ? 0 : dlsr
    };
  }

  reset(): void {
    this.#started = false;
    this.#haveTransit = false;
    this.#timestamps.reset();
    this.#jitter = 0;
    this.#lsr = 0;
    this.#lsrArrivalMs = -1;
    this.#received = 0;
    this.#lostBeforeRestart = 0;
    this.#cycles = 0;
    this.#expectedPrior = 0;
    this.#receivedPrior = 0;
    this.#probation = MIN_SEQUENTIAL;
  }
}

/** Round-trip time in ms from a report block about our stream (§6.4.1: A − LSR − DLSR), or undefined. */
export function roundTripMs(block: ReportBlock, arrivalNtpMiddle: number): number | undefined {
  if (block.lastSenderReport === 0) return undefined;
  const rtt = (arrivalNtpMiddle - block.lastSenderReport - block.delaySinceLastSenderReport) >>> 0;
  if (rtt > 0x7fffffff) return undefined;
  return (rtt * 1000) / 65536;
}
