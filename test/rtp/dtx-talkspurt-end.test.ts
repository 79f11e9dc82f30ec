/**
 * A caller that suppresses silence (DTX, RFC 3551 §4.1) sends nothing between talkspurts: its
 * next talkspurt starts with the marker bit, the timestamp moved on over the pause and the
 * sequence number the next one. Each pause began as ten concealed frames (200 ms of G.711
 * Appendix I's tail) and counted ten in `concealedFrames`, so a caller losing nothing looked like
 * a lossy one; comfort noise (RFC 3389) was dropped as a wrong payload type and its packets
 * counted lost. A packet lost inside a talkspurt is still concealed and counted.
 *
 * Real loopback sockets, on a virtual clock: each packet is sent at its arrival time, each frame
 * read on its tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../../engine/rtp/rtp-packet.js';
import { FRAME_LOST, FRAME_SILENT, FRAME_STOPPED } from '../../engine/rtp/rtp-session.js';
import { virtualClockSession } from '../support/virtual-clock-session.js';

const HOST = '127.0.3.217';
const CN = 13;
const TALKSPURTS = 10;
/** Frames of each talkspurt and of each pause after it. */
const TALK = 30;
const PAUSE = 20;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

interface Pauses {
  /** Comfort noise packets: one at the start of each pause (RFC 3389 §4), then one every `cnEvery` frames. */
  cnEvery?: number;
  /** Frames (from the call's start) whose packets are lost. */
  lost?: ReadonlySet<number>;
}

/**
 * Streams TALKSPURTS talkspurts of PCMU with pauses between; what the session played: the longest
 * run of concealed frames, frames concealed in all, and its statistics.
 */
async function talkspurts(pauses: Pauses): Promise<{
  longestConcealed: number;
  concealed: number;
  played: number;
  /** Frames played after silence that the core fades in (`frameFollowsSkip`): a stream back without a talkspurt's marker. */
  fadedIn: number;
  stats: ReturnType<Awaited<ReturnType<typeof virtualClockSession>>['session']['stats']>;
}> {
  const { session, clock, send } = await virtualClockSession(
    HOST,
    { minPort: 33990, maxPort: 33999 },
    cleanups,
    { comfortNoisePayloadType: CN }
  );
  const arrivals: { atMs: number; packet: Buffer }[] = [];
  let seq = 4000;
  for (let s = 0, frame = 0; s < TALKSPURTS; s++) {
    for (let f = 0; f < TALK + PAUSE; f++, frame++) {
      const talking = f < TALK;
      const cn = !talking && pauses.cnEvery !== undefined && (f - TALK) % pauses.cnEvery === 0;
      if (!talking && !cn) continue;
      const packet = Buffer.alloc(talking ? 12 + 160 : 13, 0x55);
      writeRtpHeader(packet, {
        marker: f === 0,
        payloadType: talking ? 0 : CN,
        sequenceNumber: seq++ & 0xffff,
        timestamp: 1000 + frame * 160,
        ssrc: 0xd7d7
      });
      if (cn) packet[12] = 80; // -80 dBov
      if (!pauses.lost?.has(frame)) arrivals.push({ atMs: frame * 20 + 5, packet });
    }
  }

  const frameBytes = new Uint8Array(160);
  let sent = 0;
  let run = 0;
  let longestConcealed = 0;
  let concealed = 0;
  let played = 0;
  let fadedIn = 0;
  let last = 0;
  for (let nowMs = 0; nowMs < TALKSPURTS * (TALK + PAUSE) * 20 + 200; nowMs += 20) {
    while (sent < arrivals.length && arrivals[sent].atMs <= nowMs) {
      clock.ms = arrivals[sent].atMs;
      await send(arrivals[sent++].packet);
    }
    clock.ms = nowMs;
    const n = session.readFrame(frameBytes, nowMs);
    run = n === FRAME_LOST ? run + 1 : 0;
    longestConcealed = Math.max(longestConcealed, run);
    if (n === FRAME_LOST) concealed++;
    else if (n > 0) {
      played++;
      if ((last === FRAME_SILENT || last === FRAME_STOPPED) && session.frameFollowsSkip) fadedIn++;
    }
    last = n;
  }
  return { longestConcealed, concealed, played, fadedIn, stats: session.stats() };
}

describe('a caller suppressing silence between talkspurts', () => {
  it('ends each talkspurt after at most three concealed frames, and its pauses count as no loss', async () => {
    const r = await talkspurts({});
    console.log(`no comfort noise: ${JSON.stringify({ ...r, stats: undefined })}`);
    // Measured: 3 concealed frames a pause (the PLC's 60 ms tail, silent after it), none counted;
    // before, 10 a pause, all counted (100 concealedFrames for a stream that lost nothing).
    expect(r.longestConcealed).toBeLessThanOrEqual(3);
    expect(r.played).toBe(TALKSPURTS * TALK);
    expect(r.stats.concealedFrames).toBe(0);
    expect(r.stats.packetsLost).toBe(0);
    expect(r.fadedIn).toBe(0); // each talkspurt starts as its sender made it
  });

  it('takes comfort noise packets as silence: no concealment at a talkspurt end, nothing lost', async () => {
    for (const cnEvery of [PAUSE, 5]) {
      const r = await talkspurts({ cnEvery });
      console.log(`comfort noise every ${cnEvery} frames: ${JSON.stringify({ ...r, stats: undefined })}`);
      // Before: each pause concealed 10 frames, and the CN packets were dropped and counted lost.
      expect(r.concealed).toBe(0);
      expect(r.played).toBe(TALKSPURTS * TALK);
      expect(r.stats.discardReasons.payloadType).toBe(0);
      expect(r.stats.packetsLost).toBe(0);
      expect(r.stats.concealedFrames).toBe(0);
    }
  });

  it('still conceals and counts a packet lost inside a talkspurt or at its end, and fades in after an outage', async () => {
    // The second talkspurt is frames 50-79: 65 is inside it, 79 its last, whose loss the next
    // talkspurt tells by the number missing before it.
    const inside = 65;
    const last = 79;
    // Frames 110-115 of the third talkspurt: an outage of six packets, silent after three
    // concealed frames; the stream comes back on its timeline, faded in from the silence.
    const outage = [110, 111, 112, 113, 114, 115];
    const r = await talkspurts({ lost: new Set([inside, last, ...outage]) });
    console.log(`packets lost: ${JSON.stringify({ ...r, stats: undefined })}`);
    expect(r.played).toBe(TALKSPURTS * TALK - 8);
    expect(r.stats.packetsLost).toBe(8);
    // One frame for the packet inside; the lost last one's frame and the tail after it (3 in all);
    // three of the outage's.
    expect(r.stats.concealedFrames).toBe(1 + 3 + 3);
    expect(r.longestConcealed).toBeLessThanOrEqual(3);
    expect(r.fadedIn).toBe(1);
  });
});
