/**
 * The payload of skipped packets, kept for a stateful decoder (JitterBuffer.keepSkippedPayload):
 * G.722's ADPCM decoder must run every packet the sender encoded, skipped ones too, to stay on its
 * encoder's track. They come after the next frame's payload, in order, only when nothing is
 * missing between what the decoder had and them, and them and that frame.
 */
import { describe, expect, it } from 'vitest';
import { JitterBuffer } from '../../engine/rtp/jitter-buffer.js';
import { InboundFraming } from '../../engine/rtp/inbound-framing.js';

const BYTES = 160;
const KEPT = 3 * BYTES;
const out = new Uint8Array(640);

/** Payload of frame i: its index in the first four bytes, then i's low byte. */
function payloadOf(i: number): Uint8Array {
  const p = new Uint8Array(BYTES).fill(i & 0xff);
  new DataView(p.buffer).setUint32(0, i);
  return p;
}

/** The frame indexes in `bytes` bytes of `buf` from `from`, a payload at a time. */
function indexesIn(buf: Uint8Array, from: number, bytes: number): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset);
  const indexes: number[] = [];
  for (let at = from; at < from + bytes; at += BYTES) indexes.push(view.getUint32(at));
  return indexes;
}

/** Pushes frame i (its sequence number and payload) sent `sentFrame` frames into the stream (its timestamp: i's unless paused before). */
function push(jb: JitterBuffer, i: number, arrivalMs: number, sentFrame = i): string {
  return jb.push(
    {
      sequenceNumber: (65500 + i) & 0xffff,
      timestamp: (4_294_960_000 + 160 * sentFrame) >>> 0,
      ssrc: 7,
      marker: false,
      payloadOffset: 0,
      payloadLength: BYTES,
      arrivalMs
    },
    payloadOf(i)
  );
}

interface Played {
  index: number;
  skipped: number[];
  followsSkip: boolean;
}

/**
 * A route 100 ms shorter from frame 100 on: the buffer holds 100 ms too much and skips it away,
 * a frame at a time. `missing`: packets that never arrive.
 */
function routeChange(
  keep: boolean,
  missing: ReadonlySet<number> = new Set()
): { played: Played[]; jb: JitterBuffer } {
  const jb = new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160 });
  if (keep) jb.keepSkippedPayload(KEPT);
  const played: Played[] = [];
  let pushed = 0;
  for (let now = 7; now < 6000; now += 20) {
    for (; pushed < 290 && 20 * pushed + (pushed < 100 ? 100 : 0) <= now; pushed++)
      if (!missing.has(pushed)) push(jb, pushed, 20 * pushed + (pushed < 100 ? 100 : 0));
    out.fill(0xee);
    const n = jb.pop(out, now);
    if (n <= 0) {
      expect(jb.frameSkippedBytes).toBe(0);
      continue;
    }
    expect(n).toBe(BYTES);
    played.push({
      index: indexesIn(out, 0, BYTES)[0],
      skipped: indexesIn(out, BYTES, jb.frameSkippedBytes),
      followsSkip: jb.frameFollowsSkip
    });
    if (jb.frameSkippedBytes === 0) expect(out[BYTES]).toBe(0xee); // nothing written after the frame
  }
  return { played, jb };
}

describe('jitter buffer: skipped payload for a stateful decoder', () => {
  it('hands on each packet skipped to shrink the delay after the next frame, which follows it', () => {
    const { played, jb } = routeChange(true);
    const skips = played.filter((p) => p.followsSkip);
    expect(skips.length).toBeGreaterThanOrEqual(3);
    expect(skips.length).toBe(jb.stats().framesSkipped);
    for (const p of played) expect(p.skipped).toEqual(p.followsSkip ? [p.index - 1] : []);
    // What the decoder gets is the whole stream, in order, once.
    const decoded = played.flatMap((p) => [...p.skipped, p.index]);
    expect(decoded).toEqual(Array.from({ length: decoded.length }, (_, k) => decoded[0] + k));
  });

  it('keeps nothing unless asked: G.711 and L16 decoders carry no state', () => {
    const { played } = routeChange(false);
    expect(played.filter((p) => p.followsSkip).length).toBeGreaterThanOrEqual(3);
    expect(played.every((p) => p.skipped.length === 0)).toBe(true);
  });

  it('hands on nothing when a packet is missing before the skipped one, or between it and the frame', () => {
    const reference = routeChange(true).played.filter((p) => p.followsSkip);
    const [first, second] = reference;
    // Lost: the packet before the first skipped one, and the one after the second (played after it).
    const { played } = routeChange(true, new Set([first.index - 2, second.index]));
    const firstAgain = played.find((p) => p.index === first.index);
    expect(firstAgain?.followsSkip).toBe(true);
    expect(firstAgain?.skipped).toEqual([]);
    // The second skip is followed by a concealed frame, then a packet that does not follow the skipped one.
    const afterSecond = played.find((p) => p.index === second.index + 1);
    expect(afterSecond?.skipped).toEqual([]);
    // Other skips are unaffected.
    expect(
      played.filter((p) => p.followsSkip && p.index > second.index + 1).every((p) => p.skipped.length === 1)
    ).toBe(true);
  });

  it('hands on the packets skipped to make room, in order, up to its bound', () => {
    const burst = (lastIndex: number, lost?: number): { index: number; skipped: number[] } => {
      const jb = new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160, maxPackets: 16 });
      jb.keepSkippedPayload(KEPT);
      push(jb, 0, 0);
      push(jb, 1, 20);
      expect(jb.pop(out, 40)).toBe(BYTES);
      for (let i = 2; i <= lastIndex; i++) if (i !== lost) push(jb, i, 45); // a burst: the oldest make room
      expect(jb.pop(out, 60)).toBe(BYTES);
      expect(jb.frameFollowsSkip).toBe(true);
      return { index: indexesIn(out, 0, BYTES)[0], skipped: indexesIn(out, BYTES, jb.frameSkippedBytes) };
    };
    expect(burst(17)).toEqual({ index: 2, skipped: [1] });
    expect(burst(19)).toEqual({ index: 4, skipped: [1, 2, 3] });
    // Four skipped are more than it keeps; one lost among them leaves the decoder off track anyway.
    expect(burst(20)).toEqual({ index: 5, skipped: [] });
    expect(burst(19, 2)).toEqual({ index: 4, skipped: [] });
  });

  it('hands on what it drops where playout starts again on the same stream, not at the very start', () => {
    const jb = new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160 });
    jb.keepSkippedPayload(KEPT);
    // Packets held before any frame was taken: playout starts near the target, the older ones
    // dropped unplayed; the decoder has had none of the stream, so none is handed on.
    for (let i = 0; i < 10; i++) push(jb, i, 20 * i);
    const played: Played[] = [];
    for (let k = 0, now = 205; k < 40; k++, now += 20) {
      // The sender paused 400 ms (no packets, its numbers going on) and its next three come at once, 60 ms late.
      if (k === 30) for (let i = 10; i < 13; i++) push(jb, i, 20 * (i + 20) + 60, i + 20);
      const n = jb.pop(out, now);
      if (n > 0)
        played.push({
          index: indexesIn(out, 0, BYTES)[0],
          skipped: indexesIn(out, BYTES, jb.frameSkippedBytes),
          followsSkip: jb.frameFollowsSkip
        });
      else expect(jb.frameSkippedBytes).toBe(0);
    }
    expect(played.map((p) => [p.index, p.skipped])).toEqual([
      [7, []],
      [8, []],
      [9, []],
      [12, [10, 11]]
    ]);
  });
  it("is on for a stateful codec's 20 ms packets (InboundFraming), off once they are cut into frames", () => {
    const skippedBytesSeen = (packetBytes: number): number[] => {
      const jb = new JitterBuffer({ clockRateHz: 8000, samplesPerFrame: 160 });
      const framing = new InboundFraming(jb, 8000, 160, {
        bytesPerSample: 1,
        silenceByte: 0xff,
        statefulDecoder: true
      });
      const ms = packetBytes / 8;
      const seen: number[] = [];
      let pushed = 0;
      // The route 100 ms shorter after 2 s, as above.
      const arrival = (i: number): number => ms * i + (ms * i < 2000 ? 100 : 0);
      for (let now = 7; now < 5000; now += 20) {
        for (; arrival(pushed) <= now; pushed++) {
          framing.observe(packetBytes);
          jb.push(
            {
              sequenceNumber: pushed,
              timestamp: 8 * ms * pushed,
              ssrc: 9,
              marker: false,
              payloadOffset: 0,
              payloadLength: packetBytes,
              arrivalMs: arrival(pushed)
            },
            new Uint8Array(packetBytes)
          );
        }
        if (framing.read(out, now) > 0 && framing.frameSkippedBytes > 0) seen.push(framing.frameSkippedBytes);
      }
      expect(jb.stats().framesSkipped).toBeGreaterThanOrEqual(3);
      return seen;
    };
    expect(skippedBytesSeen(160).length).toBeGreaterThanOrEqual(3);
    expect(skippedBytesSeen(160).every((bytes) => bytes === 160)).toBe(true);
    // 10 ms packets: the reframer drops a part frame at a skip, so none is kept (a known gap).
    expect(skippedBytesSeen(80)).toEqual([]);
  });
});
