import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RtpHeaderView, writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import {
  TelephoneEventReceiver,
  planTelephoneEvent,
  writeTelephoneEvent
} from '../../engine/rtp/telephone-event.js';
import type { DtmfEvent } from '../../engine/rtp/telephone-event.js';
import { readPcapUdp } from '../support/rtp-pcap.js';

const PCAP_DIR = '/usr/share/sip-tester';
const havePcaps = existsSync(`${PCAP_DIR}/dtmf_2833_1.pcap`);

function receiver(): { rx: TelephoneEventReceiver; digits: DtmfEvent[]; starts: string[] } {
  const digits: DtmfEvent[] = [];
  const starts: string[] = [];
  const rx = new TelephoneEventReceiver({
    clockRateHz: 8000,
    onDigit: (e) => digits.push(e),
    onDigitStart: (e) => starts.push(e.digit)
  });
  return { rx, digits, starts };
}

function feed(
  rx: TelephoneEventReceiver,
  event: number,
  end: boolean,
  duration: number,
  ts: number,
  now: number
): void {
  const buf = new Uint8Array(4);
  writeTelephoneEvent(buf, 0, { event, end, volume: 10, duration });
  rx.receive(buf, 0, 4, ts, now);
}

describe('RFC 4733 receive', () => {
  it('reports one digit per event with its duration, despite updates and three end packets', () => {
    const { rx, digits, starts } = receiver();
    for (let d = 0; d <= 1600; d += 160) feed(rx, 5, false, d, 1000, d / 8);
    feed(rx, 5, false, 1600, 1000, 201); // redundant update
    for (let r = 0; r < 3; r++) feed(rx, 5, true, 1760, 1000, 220);
    rx.poll(10_000);
    expect(digits).toEqual([{ digit: '5', durationMs: 220, source: 'rfc4733', startMs: expect.any(Number) }]);
    expect(starts).toEqual(['5']);
  });

  it('treats a new timestamp as a new event, even for the same digit', () => {
    const { rx, digits } = receiver();
    feed(rx, 1, false, 0, 1000, 0);
    feed(rx, 1, true, 800, 1000, 100);
    feed(rx, 1, false, 0, 3000, 300);
    feed(rx, 1, true, 800, 3000, 400);
    feed(rx, 1, true, 800, 1000, 401); // late end retransmission of the first event
    expect(digits.map((d) => d.digit)).toEqual(['1', '1']);
  });

  it('ends an event whose end packets were all lost: on the next event, or on timeout', () => {
    const { rx, digits } = receiver();
    feed(rx, 11, false, 0, 1000, 0);
    feed(rx, 11, false, 480, 1000, 60);
    feed(rx, 10, false, 0, 4000, 400); // next event starts: '#' is reported now
    expect(digits.map((d) => [d.digit, d.durationMs])).toEqual([['#', 60]]);
    rx.poll(500); // not yet 500 ms since the last packet of '*'
    expect(digits).toHaveLength(1);
    rx.poll(900);
    expect(digits.map((d) => d.digit)).toEqual(['#', '*']);
    rx.poll(2000);
    expect(digits).toHaveLength(2);
    // Each is dated by its first packet, not by when its loss was noticed: stamped at report
    // time, a press so ended fell outside the merge window with its in-band copy (counted twice).
    expect(digits.map((d) => d.startMs)).toEqual([0, 400]);
  });

  it('drops late packets of a reported event, but reports an unseen event with an older timestamp', () => {
    const { rx, digits } = receiver();
    feed(rx, 11, false, 0, 92640, 0); // '#'
    for (let r = 0; r < 3; r++) feed(rx, 11, true, 2240, 92640, 280);
    feed(rx, 1, false, 0, 13280, 400); // an earlier event never seen: a press from a sender whose clock is behind
    for (let r = 0; r < 3; r++) feed(rx, 1, true, 2240, 13280, 680);
    feed(rx, 11, true, 2240, 92640, 700); // a late copy of the '#' end packet
    rx.poll(10_000);
    expect(digits.map((d) => d.digit)).toEqual(['#', '1']);
  });

  it('takes a press longer than the 16-bit duration, sent in segments (§2.5.1.3), as one digit', () => {
    // 10 s at 8 kHz: a first segment to 0xFFFF without an end, then one from where it ran out.
    const { rx, digits, starts } = receiver();
    for (let d = 0; d < 0xffff; d += 1600) feed(rx, 5, false, d, 1000, d / 8);
    feed(rx, 5, false, 0xffff, 1000, 8192);
    const second = 1000 + 0xffff;
    for (let d = 0; d < 80_000 - 0xffff; d += 1600) feed(rx, 5, false, d, second, 8192 + d / 8);
    for (let r = 0; r < 3; r++) feed(rx, 5, true, 80_000 - 0xffff, second, 10_000);
    // A late update of the first segment is not a press of its own.
    feed(rx, 5, false, 0xfff0, 1000, 10_001);
    rx.poll(20_000);
    expect(digits).toEqual([{ digit: '5', durationMs: 10_000, source: 'rfc4733', startMs: 0 }]);
    expect(starts).toEqual(['5']);
  });

  it('ignores short payloads and non-DTMF events', () => {
    const { rx, digits } = receiver();
    rx.receive(new Uint8Array(3), 0, 3, 1, 0);
    feed(rx, 16, true, 800, 5, 0); // flash
    expect(digits).toEqual([]);
    expect(rx.ignored).toBe(2);
  });

  it.skipIf(!havePcaps)('decodes the digit in each of SIPp dtmf_2833_*.pcap', () => {
    const names = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'pound', 'star'];
    const found: string[] = [];
    for (const name of names) {
      const records = readPcapUdp(`${PCAP_DIR}/dtmf_2833_${name}.pcap`);
      const { rx, digits } = receiver();
      const h = new RtpHeaderView();
      for (const r of records) {
        expect(h.parse(r.payload)).toBeNull();
        expect(h.payloadType).toBe(101);
        rx.receive(r.payload, h.payloadOffset, h.payloadLength, h.timestamp, r.timeMs);
      }
      expect(digits).toHaveLength(1);
      expect(digits[0].durationMs).toBe(280); // 2240 samples at 8 kHz
      found.push(digits[0].digit);
    }
    expect(found).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '#', '*']);
  });
});

describe('RFC 4733 send plan', () => {
  it('starts with the marker, updates every packet time, ends with three identical end packets (§2.5.1)', () => {
    const plan = planTelephoneEvent('#', 100, 8000, 20, 10);
    expect(plan[0].marker).toBe(true);
    expect(plan.filter((p) => p.marker)).toHaveLength(1);
    const updates = plan.filter((p) => !p.payload.end);
    expect(updates.map((p) => p.payload.duration)).toEqual([0, 160, 320, 480, 640]);
    expect(updates.map((p) => p.atMs)).toEqual([0, 20, 40, 60, 80]);
    const ends = plan.filter((p) => p.payload.end);
    expect(ends).toHaveLength(3);
    for (const e of ends) expect(e.payload).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    expect(() => planTelephoneEvent('x', 100, 8000, 20)).toThrow(RangeError);
    // An endless press used to build its plan until the heap ran out.
    expect(() => planTelephoneEvent('1', Infinity, 8000, 20)).toThrow(RangeError);
    expect(() => planTelephoneEvent('1', 8200, 8000, 20)).toThrow(/65535 samples/);
    expect(planTelephoneEvent('1', 8000, 8000, 20).at(-1)?.payload.duration).toBe(64000);
  });

  it('round-trips through the receiver as one digit', () => {
    const { rx, digits } = receiver();
    const buf = new Uint8Array(16);
    for (const p of planTelephoneEvent('7', 160, 8000, 20)) {
      writeRtpHeader(buf, {
        marker: p.marker,
        payloadType: 101,
        sequenceNumber: 1,
        timestamp: 5000,
        ssrc: 1
      });
      writeTelephoneEvent(buf, 12, p.payload);
      rx.receive(buf, 12, 4, 5000, p.atMs);
    }
    expect(digits).toEqual([{ digit: '7', durationMs: 160, source: 'rfc4733', startMs: expect.any(Number) }]);
  });
});
