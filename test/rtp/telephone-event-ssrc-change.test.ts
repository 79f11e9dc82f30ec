/**
 * RFC 4733 digits across a sender's SSRC change (a phone's transfer, a trunk switching its media
 * source), over real loopback sockets: each press is reported once, whichever SSRC its packets
 * came on and however the two streams' packets interleave.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import type { DtmfEvent } from '../../engine/rtp/telephone-event.js';
import { virtualClockSession } from '../support/virtual-clock-session.js';

const HOST = '127.0.3.200';
const OLD = 0x1111_0001;
const NEW = 0x2222_0002;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A phone's socket and an engine's RTP session latched to it (PCMU, telephone-event 101), on a clock the test moves. */
async function phoneAndSession(): Promise<{
  digits: string[];
  send: (packet: Buffer) => Promise<void>;
  advance: (ms: number) => void;
}> {
  const { session, clock, send } = await virtualClockSession(
    HOST,
    { minPort: 33900, maxPort: 33999 },
    cleanups,
    { telephoneEventPayloadType: 101 }
  );
  clock.ms = 1000;
  const digits: string[] = [];
  session.on('dtmf', (d: DtmfEvent) => digits.push(d.digit));
  return { digits, send, advance: (ms) => (clock.ms += ms) };
}

function audio(ssrc: number, seq: number): Buffer {
  const p = Buffer.alloc(172, 0xff);
  writeRtpHeader(p, { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc });
  return p;
}

/** One telephone-event packet of `digit`'s event that began at `timestamp`. */
function event(
  ssrc: number,
  seq: number,
  timestamp: number,
  digit: number,
  end: boolean,
  duration: number
): Buffer {
  const p = Buffer.alloc(16);
  writeRtpHeader(p, { marker: false, payloadType: 101, sequenceNumber: seq, timestamp, ssrc });
  p.set([digit, (end ? 0x80 : 0) | 10, duration >> 8, duration & 0xff], 12);
  return p;
}

describe('RFC 4733 digits across an SSRC change', () => {
  it('reports a press whose end packets were all lost when the sender switches SSRC before its timeout', async () => {
    const { digits, send, advance } = await phoneAndSession();
    for (let seq = 100; seq < 105; seq++) {
      await send(audio(OLD, seq));
      advance(20);
    }
    // '1' on the old SSRC: a start and two updates, its three end packets lost.
    for (let i = 0; i < 3; i++) {
      await send(event(OLD, 105 + i, 105 * 160, 1, false, (i + 1) * 160));
      advance(20);
    }
    // 60 ms later the sender's media comes from a new source, which presses '2' in full.
    advance(60);
    for (let seq = 7000; seq < 7003; seq++) {
      await send(audio(NEW, seq));
      advance(20);
    }
    for (let i = 0; i < 3; i++) await send(event(NEW, 7003 + i, 7003 * 160, 2, false, (i + 1) * 160));
    for (let i = 0; i < 3; i++) await send(event(NEW, 7006 + i, 7003 * 160, 2, true, 480));
    expect(digits).toEqual(['1', '2']);
  });

  it("does not report a press again when its end packet straggles in after the new SSRC's first event", async () => {
    const { digits, send } = await phoneAndSession();
    await send(event(OLD, 200, 32_000, 1, false, 160));
    await send(event(OLD, 201, 32_000, 1, true, 320));
    await send(event(NEW, 9000, 800_000, 2, false, 160));
    await send(event(OLD, 202, 32_000, 1, true, 320)); // a retransmitted end, late through the network
    await send(event(NEW, 9001, 800_000, 2, true, 320));
    await send(event(NEW, 9002, 800_000, 2, true, 320));
    expect(digits).toEqual(['1', '2']);
  });
});
