/**
 * RFC 4733 durations count in the telephone-event's own clock (§2.3.5), which an SBC may set apart
 * from the codec's: L16/16000 with telephone-event/8000. Over real loopback sockets: the engine's
 * answer names the event clock it uses, the digits it sends last as long as asked in that clock,
 * and a press it receives is measured in it. Both were off by the ratio of the clocks (a 200 ms
 * press sent as 400 ms, a received one taken for 100 ms).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import type { DtmfEvent } from '../../engine/rtp/telephone-event.js';
import { rawCall } from '../support/raw-call.js';
import { virtualClockSession } from '../support/virtual-clock-session.js';

const ENGINE_HOST = '127.0.21.1';
const PHONE_HOST = '127.0.21.2';
const SESSION_HOST = '127.0.21.3';

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A telephone-event packet (payload type 101) of event 5 at `timestamp`. */
function event(seq: number, timestamp: number, end: boolean, duration: number): Buffer {
  const p = Buffer.alloc(16);
  writeRtpHeader(p, { marker: seq === 1, payloadType: 101, sequenceNumber: seq, timestamp, ssrc: 0x5150 });
  p.set([5, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff], 12);
  return p;
}

describe('telephone-event with a clock of its own', () => {
  it('answers L16/16000 with telephone-event/8000 and sends durations in 8 kHz units', async () => {
    const { final, channel, received } = await rawCall(
      cleanups,
      { engine: ENGINE_HOST, caller: PHONE_HOST },
      { minPort: 51000, maxPort: 51019 },
      {
        formats: '96 101',
        attributes: ['a=rtpmap:96 L16/16000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']
      },
      { codecs: ['L16', 'PCMU'] }
    );
    const answer = final.body.toString();
    expect(answer).toMatch(/a=rtpmap:96 L16\/16000/);
    expect(answer).toMatch(/a=rtpmap:101 telephone-event\/8000/);
    await channel.sendDtmf('7', { durationMs: 200 });
    const ends = received.filter((p) => (p[1] & 0x7f) === 101 && (p[13] & 0x80) !== 0);
    expect(ends.map((p) => p.readUInt16BE(14))).toEqual([1600, 1600, 1600]);
  });

  it('measures a received press in the event clock, not the codec clock', async () => {
    const { session, clock, send } = await virtualClockSession(
      SESSION_HOST,
      { minPort: 51020, maxPort: 51039 },
      cleanups as Array<() => void>,
      {
        payloadType: 96,
        clockRateHz: 16000,
        samplesPerFrame: 320,
        telephoneEventPayloadType: 101,
        telephoneEventClockRateHz: 8000
      }
    );
    const digits: DtmfEvent[] = [];
    session.on('dtmf', (d: DtmfEvent) => digits.push(d));
    clock.ms = 1000;
    for (let i = 0; i < 10; i++) {
      await send(event(i + 1, 48_000, false, i * 160));
      clock.ms += 20;
    }
    for (let r = 0; r < 3; r++) await send(event(11 + r, 48_000, true, 1600));
    expect(digits.map((d) => [d.digit, d.durationMs])).toEqual([['5', 200]]);
  });
});
