/**
 * RFC 4733 telephone-events (DTMF) as plain data structures without I/O.
 *
 * Payload (§2.3): | event (8) | E | R | volume (6) | duration (16) |, duration in timestamp
 * units from the event's RTP timestamp, which is the same for every packet of one event.
 *
 * - `TelephoneEventReceiver` turns start, redundant update and (three) end packets into exactly
 *   one digit per event (§2.5.2.2: a new timestamp is a new event), reported on the first end
 *   packet, or when the next event starts or `poll` finds it timed out if every end was lost.
 * - `planTelephoneEvent` lists the packets a sender sends for one digit (§2.5.1): a start
 *   packet with the marker bit, updates every packet interval with the growing duration, and
 *   the end packet three times with the same timestamp and final duration (§2.5.1.4).
 */

const DIGITS = '0123456789*#ABCD';

/** Event code (§3.2 table 3) of a DTMF digit, or -1. */
export function eventCodeOf(digit: string): number {
  return digit.length === 1 ? DIGITS.indexOf(digit.toUpperCase()) : -1;
}

/** DTMF digit of an event code 0-15, or undefined for other events (flash, tones...). */
export function digitOfEventCode(code: number): string | undefined {
  return code >= 0 && code < 16 ? DIGITS[code] : undefined;
}

export interface TelephoneEventPayload {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

/** Parses a 4-byte telephone-event payload; undefined when shorter than 4 bytes. */
export function parseTelephoneEvent(
  buf: Uint8Array,
  offset = 0,
  length = buf.length - offset
): TelephoneEventPayload | undefined {
  if (length < 4) return undefined;
  return {
    event: buf[offset],
    end: (buf[offset + 1] & 0x80) !== 0,
    volume: buf[offset + 1] & 0x3f,
    duration: (buf[offset + 2] << 8) | buf[offset + 3]
  };
}

/** Writes a 4-byte telephone-event payload at `offset`; returns 4. */
export function writeTelephoneEvent(buf: Uint8Array, offset: number, p: TelephoneEventPayload): number {
  buf[offset] = p.event & 0xff;
  buf[offset + 1] = (p.end ? 0x80 : 0) | (p.volume & 0x3f);
  buf[offset + 2] = (p.duration >>> 8) & 0xff;
  buf[offset + 3] = p.duration & 0xff;
  return 4;
}

export interface DtmfEvent {
  digit: string;
  durationMs: number;
  source: 'rfc4733';
  /**
   * When the event's first packet arrived (the receiver's clock): the press's start, whenever it
   * is reported. Stamped at report time, a press whose end packets were lost (reported 500 ms
   * later) fell outside the merge window with its in-band copy and counted twice.
   */
  startMs: number;
}

export interface DtmfStartEvent {
  digit: string;
  source: 'rfc4733';
}

export interface TelephoneEventReceiverOptions {
  clockRateHz: number;
  /** An event with no packet for this long (all end packets lost) is reported by `poll`. Default 500 ms. */
  timeoutMs?: number;
  onDigit: (event: DtmfEvent) => void;
  onDigitStart?: (event: DtmfStartEvent) => void;
}

export class TelephoneEventReceiver {
  readonly #opts: Required<Omit<TelephoneEventReceiverOptions, 'onDigitStart'>> &
    Pick<TelephoneEventReceiverOptions, 'onDigitStart'>;
  #clockRateHz: number;
  #active = false;
  #timestamp = 0;
  #event = 0;
  #durationSamples = 0;
  /** A long press's earlier segments (§2.5.1.3), in samples: its duration is theirs and the current one's. */
  #earlierSegmentsSamples = 0;
  #reported = false;
  #lastPacketMs = 0;
  #startedMs = 0;
  /**
   * Timestamps of recently finished events (a small ring). A packet with an older timestamp is a
   * late duplicate only if its event was seen: an unseen older timestamp is a new press whose
   * sender's clock is simply behind (e.g. streams spliced from recordings), so it is reported.
   */
  readonly #recent = new Float64Array(8).fill(-1);
  #recentPos = 0;
  /** Packets ignored: too short, non-DTMF events, or belonging to an already finished event. */
  ignored = 0;

  constructor(opts: TelephoneEventReceiverOptions) {
    this.#opts = { timeoutMs: 500, ...opts };
    this.#clockRateHz = opts.clockRateHz;
  }

  setClockRate(clockRateHz: number): void {
    this.#clockRateHz = clockRateHz;
  }

  /** Feeds the payload of one telephone-event RTP packet. */
  receive(payload: Uint8Array, offset: number, length: number, rtpTimestamp: number, nowMs: number): void {
    const p = parseTelephoneEvent(payload, offset, length);
    if (p === undefined || digitOfEventCode(p.event) === undefined) {
      this.ignored++;
      return;
    }
    if (this.#active && rtpTimestamp === this.#timestamp) {
      if (this.#reported) return; // redundant end retransmission (§2.5.1.4)
      this.#lastPacketMs = nowMs;
      if (p.duration > this.#durationSamples) this.#durationSamples = p.duration;
      if (p.end) this.#finish();
      return;
    }
    if (this.#recent.includes(rtpTimestamp)) {
      this.ignored++; // a late packet of an event already reported
      return;
    }
    // §2.5.1.3, §2.5.2.3: a press longer than the 16-bit duration goes on in a new segment whose
    // timestamp is where the last one's duration ran out, with no end packet between: one press.
    // A new press of the same key begins after a pause, never there.
    if (
      this.#active &&
      !this.#reported &&
      p.event === this.#event &&
      rtpTimestamp === (this.#timestamp + this.#durationSamples) >>> 0
    ) {
      this.#earlierSegmentsSamples += this.#durationSamples;
      this.#remember(this.#timestamp);
      this.#timestamp = rtpTimestamp;
      this.#durationSamples = p.duration;
      this.#lastPacketMs = nowMs;
      if (p.end) this.#finish();
      return;
    }
    // §2.5.2.2: a new timestamp starts a new event; a previous one whose end was lost ends now.
    if (this.#active && !this.#reported) this.#finish();
    if (this.#active) this.#remember(this.#timestamp);
    this.#active = true;
    this.#timestamp = rtpTimestamp;
    this.#event = p.event;
    this.#durationSamples = p.duration;
    this.#earlierSegmentsSamples = 0;
    this.#reported = false;
    this.#lastPacketMs = nowMs;
    this.#startedMs = nowMs;
    this.#opts.onDigitStart?.({ digit: digitOfEventCode(p.event) as string, source: 'rfc4733' });
    if (p.end) this.#finish();
  }

  /** Ends an event whose packets stopped without an end packet (all three lost). */
  poll(nowMs: number): void {
    if (this.#active && !this.#reported && nowMs - this.#lastPacketMs >= this.#opts.timeoutMs) this.#finish();
  }

  #remember(timestamp: number): void {
    this.#recent[this.#recentPos] = timestamp;
    this.#recentPos = (this.#recentPos + 1) % this.#recent.length;
  }

  #finish(): void {
    this.#reported = true;
    this.#opts.onDigit({
      digit: digitOfEventCode(this.#event) as string,
      durationMs: Math.round(
        ((this.#earlierSegmentsSamples + this.#durationSamples) * 1000) / this.#clockRateHz
      ),
      source: 'rfc4733',
      startMs: this.#startedMs
    });
  }

  reset(): void {
    this.#active = false;
    this.#reported = false;
    this.#recent.fill(-1);
  }
}

/** One packet of a planned event, relative to the event start. */
export interface PlannedEventPacket {
  /** When to send it, ms after the start packet. */
  atMs: number;
  marker: boolean;
  payload: TelephoneEventPayload;
}

/**
 * The packets of one digit (§2.5.1): start packet (marker, duration 0), updates every `intervalMs` with the duration so far, then three identical end
 * packets. `volumeDbm0` is the power as a positive number of −dBm0 (0-63, §2.3.4).
 */
export function planTelephoneEvent(
  digit: string,
  durationMs: number,
  clockRateHz: number,
  intervalMs: number,
  volumeDbm0 = 10
): PlannedEventPacket[] {
  const event = eventCodeOf(digit);
  if (event < 0) throw new RangeError(`DTMF digit '${digit}' must be one of 0-9 * # A-D`);
  if (!(durationMs > 0) || !Number.isFinite(durationMs) || (durationMs * clockRateHz) / 1000 > 0xffff)
    throw new RangeError(
      `DTMF duration ${durationMs} ms must be positive and fit RFC 4733's 16-bit duration (65535 samples)`
    );
  const volume = Math.max(0, Math.min(63, Math.round(volumeDbm0)));
  const samples = (ms: number): number => Math.min(0xffff, Math.round((ms * clockRateHz) / 1000));
  const packets: PlannedEventPacket[] = [];
  const steps = Math.max(1, Math.ceil(durationMs / intervalMs));
  for (let i = 0; i < steps; i++) {
    packets.push({
      atMs: i * intervalMs,
      marker: i === 0,
      payload: { event, end: false, volume, duration: samples(Math.min(durationMs, i * intervalMs)) }
    });
  }
  const endAt = steps * intervalMs;
  for (let r = 0; r < 3; r++) {
    packets.push({
      atMs: endAt,
      marker: false,
      payload: { event, end: true, volume, duration: samples(durationMs) }
    });
  }
  return packets;
}
