/**
 * WsFrameTracker on frames cut at every byte: whole messages counted once, a message incomplete
 * from its first byte to its last (control frames between its fragments included), and the
 * 16- and 64-bit payload lengths followed.
 */
import { describe, expect, it } from 'vitest';
import { WsFrameTracker } from '../../../sip/transport/ws-frame-tracker.js';
import { maskedFrame } from '../../support/raw-websocket.js';

/** A masked frame with a 64-bit length field (RFC 6455 §5.2), which maskedFrame does not write. */
function frame64(opcode: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  head[1] = 0x80 | 127;
  head.writeUInt32BE(0, 2);
  head.writeUInt32BE(payload.length, 6);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

/** Feeds `bytes` one at a time: after each, [incomplete, messages completed so far]. */
function byteByByte(tracker: WsFrameTracker, bytes: Buffer): Array<[boolean, number]> {
  let completed = 0;
  return [...bytes].map((byte) => {
    completed += tracker.feed(Buffer.from([byte]));
    return [tracker.incomplete, completed];
  });
}

describe('WsFrameTracker', () => {
  it('counts a whole text frame once, on its last byte, and is incomplete until then', () => {
    const bytes = maskedFrame(0x1, 'OPTIONS');
    const steps = byteByByte(new WsFrameTracker(), bytes);
    expect(steps.slice(0, -1).every(([incomplete, n]) => incomplete && n === 0)).toBe(true);
    expect(steps[steps.length - 1]).toEqual([false, 1]);
  });

  it('keeps a fragmented message incomplete across pings and pongs between its fragments', () => {
    const tracker = new WsFrameTracker();
    expect(tracker.feed(maskedFrame(0x1, 'INVITE sip:', undefined, false))).toBe(0);
    expect(tracker.incomplete).toBe(true);
    expect(tracker.feed(Buffer.concat([maskedFrame(0x9, 'p'), maskedFrame(0xa, 'q')]))).toBe(0);
    expect(tracker.incomplete).toBe(true);
    expect(tracker.feed(maskedFrame(0x0, 'room', undefined, false))).toBe(0);
    expect(tracker.feed(maskedFrame(0x0, '@host SIP/2.0'))).toBe(1);
    expect(tracker.incomplete).toBe(false);
    // A ping alone is no message, and leaves nothing incomplete.
    expect(tracker.feed(maskedFrame(0x9, 'ping'))).toBe(0);
    expect(tracker.incomplete).toBe(false);
  });

  it('follows 16- and 64-bit lengths, and several frames in one chunk', () => {
    const medium = maskedFrame(0x2, Buffer.alloc(300, 7));
    const large = frame64(0x1, Buffer.alloc(70_000, 0x41));
    const tracker = new WsFrameTracker();
    expect(tracker.feed(Buffer.concat([medium, large, maskedFrame(0x1, 'x')]))).toBe(3);
    expect(tracker.incomplete).toBe(false);
    const steps = byteByByte(tracker, Buffer.concat([medium.subarray(0, 3)]));
    expect(steps.every(([incomplete, n]) => incomplete && n === 0)).toBe(true);
    expect(tracker.feed(medium.subarray(3))).toBe(1);
    expect(tracker.feed(large.subarray(0, 12))).toBe(0);
    expect(tracker.incomplete).toBe(true);
    expect(tracker.feed(large.subarray(12))).toBe(1);
    expect(tracker.incomplete).toBe(false);
  });
});
