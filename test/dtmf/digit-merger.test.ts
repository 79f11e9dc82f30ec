import { describe, expect, it } from 'vitest';
import { DigitMerger, type DtmfObservation, type MergedDigit } from '../../engine/dtmf/digit-merger.js';

/** A merger on a hand-driven clock, recording what it reports. */
function setup(options: { windowMs?: number; infoLateWindowMs?: number } = {}) {
  let nowMs = 0;
  const merger = new DigitMerger({ ...options, now: () => nowMs });
  const digits: MergedDigit[] = [];
  merger.on('digit', (d) => digits.push(d));
  const feed = (observations: DtmfObservation[]) => observations.map((o) => merger.push(o));
  return {
    merger,
    digits,
    feed,
    setNow: (ms: number) => (nowMs = ms),
    reported: () => digits.map((d) => d.digit).join('')
  };
}

describe('DigitMerger', () => {
  it('remembers at most 32 presses under a flood, reports no more than the rate limit, and still merges the latest press', () => {
    // A peer sending an event with a new timestamp in every packet made each a press, kept for
    // 2 s and scanned by every push (quadratic work from one call), and reported every one.
    const { feed, merger, digits, setNow } = setup();
    for (let i = 0; i < 10_000; i++) {
      setNow(i * 0.1);
      feed([{ source: 'rfc4733', digit: '1', startMs: i * 0.1, durationMs: 0 }]);
    }
    expect(merger.remembered).toBe(32);
    // The default limit over the flood's 1000 ms: 10 at once, then 20 a second.
    expect(digits.length).toBeGreaterThanOrEqual(29);
    expect(digits.length).toBeLessThanOrEqual(30);
    expect(merger.stats).toMatchObject({ accepted: digits.length, limited: 10_000 - digits.length });
    expect(feed([{ source: 'inband', digit: '1', startMs: 999.9, durationMs: 40 }])).toEqual(['duplicate']);
  });

  it('drops new presses over the rate limit, and their copies from another source; after a pause digits come through again', () => {
    const { feed, merger, setNow, reported } = setup();
    const presses = (count: number, atMs: number): DtmfObservation[] =>
      Array.from({ length: count }, (_, i) => ({
        source: 'rfc4733',
        digit: String(i % 10),
        startMs: atMs + i,
        durationMs: 0
      }));
    const results = feed(presses(12, 0));
    expect(results.filter((r) => r === 'accepted')).toHaveLength(10);
    expect(results.slice(10)).toEqual(['limited', 'limited']);
    expect(merger.limitedInBurst).toBe(2);
    // The dropped '1' leaked in-band too: the same press, still not reported.
    expect(feed([{ source: 'inband', digit: '1', startMs: 11, durationMs: 60 }])).toEqual(['duplicate']);
    expect(reported()).toBe('0123456789');
    // Half a second of quiet refills the burst: the sender is a new one as far as the log goes.
    setNow(500);
    expect(feed([{ source: 'info', digit: '#', startMs: 500, durationMs: 100 }])).toEqual(['accepted']);
    expect(merger.limitedInBurst).toBe(0);
    expect(reported()).toBe('0123456789#');
    expect(merger.stats).toEqual({ accepted: 11, limited: 2, duplicates: 1, rejected: 0 });
  });

  it('reports each press of a single source, in order', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'rfc4733', digit: '1', startMs: 0, durationMs: 100 },
      { source: 'rfc4733', digit: '2', startMs: 300, durationMs: 100 },
      { source: 'rfc4733', digit: '3', startMs: 600, durationMs: 100 }
    ]);
    expect(reported()).toBe('123');
  });

  it('reports a press sent as RFC 4733 and leaked in-band once', () => {
    const { feed, reported, merger } = setup();
    const results = feed([
      { source: 'rfc4733', digit: '5', startMs: 1000, durationMs: 0 },
      { source: 'inband', digit: '5', startMs: 1040, durationMs: 90 }
    ]);
    expect(results).toEqual(['accepted', 'duplicate']);
    expect(reported()).toBe('5');
    expect(merger.stats).toEqual({ accepted: 1, limited: 0, duplicates: 1, rejected: 0 });
  });

  it('reports a press sent as SIP INFO and RFC 4733 once, whichever arrives first', () => {
    const infoFirst = setup();
    infoFirst.feed([
      { source: 'info', digit: '#', startMs: 995, durationMs: 160 },
      { source: 'rfc4733', digit: '#', startMs: 1000, durationMs: 120 }
    ]);
    const rtpFirst = setup();
    rtpFirst.feed([
      { source: 'rfc4733', digit: '#', startMs: 1000, durationMs: 120 },
      { source: 'info', digit: '#', startMs: 1250, durationMs: 160 }
    ]);
    expect([infoFirst.reported(), rtpFirst.reported()]).toEqual(['#', '#']);
  });

  it('reports a press seen by all three sources once, naming the first source', () => {
    const { feed, digits } = setup();
    feed([
      { source: 'inband', digit: '7', startMs: 2040, durationMs: 80 },
      { source: 'rfc4733', digit: '7', startMs: 2000, durationMs: 100 },
      { source: 'info', digit: '7', startMs: 2150, durationMs: 250 }
    ]);
    expect(digits).toEqual([{ digit: '7', source: 'inband', startMs: 2040, durationMs: 80 }]);
  });

  it('reports two genuine presses of the same digit from one source, however close', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'inband', digit: '5', startMs: 0, durationMs: 50 },
      { source: 'inband', digit: '5', startMs: 100, durationMs: 50 }
    ]);
    expect(reported()).toBe('55');
  });

  it('reports "55" sent both ways as two digits', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'rfc4733', digit: '5', startMs: 0, durationMs: 80 },
      { source: 'inband', digit: '5', startMs: 30, durationMs: 70 },
      { source: 'rfc4733', digit: '5', startMs: 160, durationMs: 80 },
      { source: 'inband', digit: '5', startMs: 190, durationMs: 70 }
    ]);
    expect(reported()).toBe('55');
  });

  it('reports presses of the same digit separated by a pause from different sources', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'inband', digit: '9', startMs: 0, durationMs: 100 },
      { source: 'rfc4733', digit: '9', startMs: 400, durationMs: 100 }
    ]);
    expect(reported()).toBe('99');
  });

  it('misses no digit when the peer switches from in-band to RFC 4733 mid-call', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'inband', digit: '1', startMs: 0, durationMs: 100 },
      { source: 'inband', digit: '2', startMs: 250, durationMs: 100 },
      // re-INVITE: telephone-event negotiated from here on
      { source: 'rfc4733', digit: '2', startMs: 500, durationMs: 100 },
      { source: 'rfc4733', digit: '3', startMs: 750, durationMs: 100 },
      { source: 'rfc4733', digit: '3', startMs: 1000, durationMs: 100 }
    ]);
    expect(reported()).toBe('12233');
  });

  it('misses no digit when the switched peer keeps leaking the tone in-band', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'inband', digit: '4', startMs: 0, durationMs: 100 },
      { source: 'rfc4733', digit: '4', startMs: 230, durationMs: 100 },
      { source: 'inband', digit: '4', startMs: 260, durationMs: 70 }
    ]);
    expect(reported()).toBe('44');
  });

  it('keeps different digits apart even when they overlap in time', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'rfc4733', digit: '1', startMs: 0, durationMs: 100 },
      { source: 'inband', digit: '2', startMs: 20, durationMs: 100 }
    ]);
    expect(reported()).toBe('12');
  });

  it('uses the narrower media window between in-band and RFC 4733', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'inband', digit: '3', startMs: 0, durationMs: 100 },
      { source: 'rfc4733', digit: '3', startMs: 170, durationMs: 100 }, // 70 ms after: a second press
      { source: 'info', digit: '8', startMs: 1000, durationMs: 100 },
      { source: 'rfc4733', digit: '8', startMs: 1170, durationMs: 100 } // 70 ms after INFO: the same press
    ]);
    expect(reported()).toBe('338');
  });

  it('honours a narrower window', () => {
    const { feed, reported } = setup({ windowMs: 20, infoLateWindowMs: 20 });
    feed([
      { source: 'rfc4733', digit: '8', startMs: 0, durationMs: 100 },
      { source: 'info', digit: '8', startMs: 150, durationMs: 100 }
    ]);
    expect(reported()).toBe('88');
  });

  it('reports 8 presses sent as RFC 4733 and SIP INFO once each, when INFOs come resent 500 ms or 1.5 s late', () => {
    // "55122259" keyed at 5 a second (100 ms tone, 100 ms pause). Each press's INFO is sent at its
    // start; a lost first copy comes again 500 ms later (T1), a second loss 1.5 s later. With the
    // 200 ms window each resent INFO was a press of its own: 16 digits for 8 presses.
    const { merger, digits, setNow, reported } = setup();
    const keys = '55122259';
    const infoDelayMs = [500, 500, 0, 1500, 500, 0, 500, 1500];
    const pushes: Array<{ atMs: number; observation: DtmfObservation }> = [];
    for (let i = 0; i < keys.length; i++) {
      const startMs = i * 200;
      const digit = keys[i];
      // RFC 4733 is reported on its end packet, with the press's start.
      pushes.push({
        atMs: startMs + 100,
        observation: { source: 'rfc4733', digit, startMs, durationMs: 100 }
      });
      pushes.push({
        atMs: startMs + infoDelayMs[i],
        observation: { source: 'info', digit, durationMs: 100 }
      });
    }
    pushes.sort((a, b) => a.atMs - b.atMs);
    for (const { atMs, observation } of pushes) {
      setNow(atMs);
      merger.push(observation);
    }
    expect(reported()).toBe(keys);
    expect(digits).toHaveLength(8);
    expect(merger.stats).toMatchObject({ accepted: 8, duplicates: 8 });
  });

  it('still counts an INFO-only press of the same digit after the INFO retransmission window', () => {
    const { feed, reported, setNow } = setup();
    setNow(100);
    feed([{ source: 'rfc4733', digit: '4', startMs: 0, durationMs: 100 }]);
    setNow(1800);
    feed([{ source: 'info', digit: '4', durationMs: 100 }]);
    expect(reported()).toBe('44');
  });

  it('stamps an observation without startMs with the clock (SIP INFO arrival)', () => {
    const { feed, digits, setNow } = setup();
    setNow(5000);
    feed([{ source: 'info', digit: '0', durationMs: 160 }]);
    setNow(5080);
    feed([{ source: 'rfc4733', digit: '0', durationMs: 100 }]);
    expect(digits).toEqual([{ digit: '0', source: 'info', startMs: 5000, durationMs: 160 }]);
  });

  it('accepts lower-case a-d from the network as A-D', () => {
    const { feed, reported } = setup();
    feed([{ source: 'info', digit: 'd', startMs: 0, durationMs: 100 }]);
    expect(reported()).toBe('D');
  });

  it('counts malformed observations as rejected without throwing or disturbing the stream', () => {
    const { merger, feed, reported } = setup();
    const results = feed([
      { source: 'info', digit: 'x', startMs: 0 },
      { source: 'info', digit: '55', startMs: 0 },
      { source: 'carrier-pigeon' as 'info', digit: '5', startMs: 0 },
      { source: 'info', digit: '5', startMs: Number.NaN },
      { source: 'info', digit: '5', startMs: 0, durationMs: -1 },
      null as unknown as DtmfObservation,
      { source: 'info', digit: '5', startMs: 0, durationMs: 100 }
    ]);
    expect(results).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'accepted'
    ]);
    expect(merger.stats.rejected).toBe(6);
    expect(reported()).toBe('5');
  });

  it('forgets presses older than historyMs, so a late straggler counts as a new press', () => {
    const { feed, reported } = setup();
    feed([
      { source: 'rfc4733', digit: '6', startMs: 0, durationMs: 100 },
      { source: 'rfc4733', digit: '1', startMs: 5000, durationMs: 100 },
      { source: 'inband', digit: '6', startMs: 50, durationMs: 100 }
    ]);
    expect(reported()).toBe('616');
  });

  it('keeps reporting after a listener throws', () => {
    const { merger, feed, reported } = setup();
    const errors: unknown[] = [];
    merger.on('listenerError', ({ error }) => errors.push(error));
    merger.on('digit', () => {
      throw new Error('bug');
    });
    feed([
      { source: 'inband', digit: '1', startMs: 0, durationMs: 100 },
      { source: 'inband', digit: '2', startMs: 300, durationMs: 100 }
    ]);
    expect(reported()).toBe('12');
    expect(errors).toHaveLength(2);
  });

  it('ignores pushes after close and closes idempotently', () => {
    const { merger, feed, reported } = setup();
    merger.close();
    merger.close();
    expect(feed([{ source: 'inband', digit: '1', startMs: 0 }])).toEqual(['closed']);
    expect(reported()).toBe('');
    expect(merger.totalListenerCount()).toBe(0);
  });

  it.each([
    { windowMs: -1 },
    { windowMs: Number.NaN },
    { mediaWindowMs: -5 },
    { windowMs: 300, historyMs: 100 }
  ])('rejects options %j', (options) => {
    expect(() => new DigitMerger(options)).toThrow(RangeError);
  });
});
