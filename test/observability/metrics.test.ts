import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../engine/errors.js';
import { HistogramCell } from '../../engine/observability/metric-cells.js';
import { EngineMetrics } from '../../engine/observability/metrics.js';
import { parseExposition } from './exposition.js';

describe('EngineMetrics', () => {
  it('exposes every metric, at zero before anything happened', async () => {
    const m = new EngineMetrics();
    const s = parseExposition(await m.metrics());
    for (const name of [
      'uasmedia_active_calls',
      'uasmedia_rooms',
      'uasmedia_parties',
      'uasmedia_rtp_packets_in_total',
      'uasmedia_rtp_packets_out_total',
      'uasmedia_rtp_packets_lost_total',
      'uasmedia_rtp_packets_late_total',
      'uasmedia_tts_cache_hits_total',
      'uasmedia_tts_cache_misses_total',
      'uasmedia_frame_lateness_ms_count',
      'uasmedia_frame_processing_ms_count',
      'uasmedia_rtp_jitter_ms_count'
    ]) {
      expect(s.get(name), name).toBe(0);
    }
    for (const source of ['inband', 'rfc4733', 'info']) {
      expect(s.get(`uasmedia_dtmf_digits_total{source="${source}"}`)).toBe(0);
      expect(s.get(`uasmedia_dtmf_digits_dropped_total{source="${source}"}`)).toBe(0);
    }
    expect(s.types.get('uasmedia_frame_lateness_ms')).toBe('histogram');
    expect(s.types.get('uasmedia_rtp_packets_in_total')).toBe('counter');
    expect(s.types.get('uasmedia_rooms')).toBe('gauge');
  });

  it('reports what the hot path counted', async () => {
    const m = new EngineMetrics();
    m.activeCalls.inc();
    m.activeCalls.inc();
    m.activeCalls.dec();
    m.rooms.set(3);
    m.parties.inc(5);
    for (let i = 0; i < 250; i++) m.rtp.packetsIn.inc();
    m.rtp.packetsOut.inc(240);
    m.rtp.lost.inc(2);
    m.rtp.late.inc();
    m.dtmf.inband.inc();
    m.dtmfDigit('rfc4733');
    m.dtmfDigit('rfc4733');
    m.dtmfDigit('bogus' as 'info');
    m.dtmfDigitDropped('rfc4733');
    m.dtmfDigitDropped('bogus' as 'info');
    m.tts.cacheHits.inc(4);
    m.tts.cacheMisses.inc();
    const s = parseExposition(await m.metrics());
    expect(s.get('uasmedia_active_calls')).toBe(1);
    expect(s.get('uasmedia_rooms')).toBe(3);
    expect(s.get('uasmedia_parties')).toBe(5);
    expect(s.get('uasmedia_rtp_packets_in_total')).toBe(250);
    expect(s.get('uasmedia_rtp_packets_out_total')).toBe(240);
    expect(s.get('uasmedia_rtp_packets_lost_total')).toBe(2);
    expect(s.get('uasmedia_rtp_packets_late_total')).toBe(1);
    expect(s.get('uasmedia_dtmf_digits_total{source="inband"}')).toBe(1);
    expect(s.get('uasmedia_dtmf_digits_total{source="rfc4733"}')).toBe(2);
    expect(s.get('uasmedia_dtmf_digits_total{source="info"}')).toBe(0);
    expect(s.get('uasmedia_dtmf_digits_dropped_total{source="rfc4733"}')).toBe(1);
    expect(s.get('uasmedia_dtmf_digits_dropped_total{source="info"}')).toBe(0);
    expect(s.get('uasmedia_tts_cache_hits_total')).toBe(4);
    expect(s.get('uasmedia_tts_cache_misses_total')).toBe(1);
    // Scraping twice does not double-count.
    const again = parseExposition(await m.metrics());
    expect(again.get('uasmedia_rtp_packets_in_total')).toBe(250);
  });

  it('exposes histograms with cumulative buckets, sum and count', async () => {
    const m = new EngineMetrics();
    for (const ms of [0.1, 0.3, 0.3, 1.5, 4, 25, 100]) m.frameLatenessMs.observe(ms);
    m.frameLatenessMs.observe(Number.NaN);
    const s = parseExposition(await m.metrics());
    const b = (le: string) => s.get(`uasmedia_frame_lateness_ms_bucket{le="${le}"}`);
    expect(b('0.25')).toBe(1);
    expect(b('0.5')).toBe(3);
    expect(b('1')).toBe(3);
    expect(b('2')).toBe(4);
    expect(b('5')).toBe(5);
    expect(b('20')).toBe(5);
    expect(b('40')).toBe(6);
    expect(b('+Inf')).toBe(7);
    expect(s.get('uasmedia_frame_lateness_ms_count')).toBe(7);
    expect(s.get('uasmedia_frame_lateness_ms_sum')).toBeCloseTo(131.2, 10);
  });

  it('ignores negative and NaN counter increments', () => {
    const m = new EngineMetrics();
    m.rtp.lost.inc(-5);
    m.rtp.lost.inc(Number.NaN);
    m.rtp.lost.inc(3);
    expect(m.rtp.lost.value).toBe(3);
  });

  it('keeps two engines apart: separate registries, same names, no collision', async () => {
    const a = new EngineMetrics();
    const b = new EngineMetrics({ defaultLabels: { engine: 'b' } });
    a.rooms.set(1);
    b.rooms.set(2);
    expect(parseExposition(await a.metrics()).get('uasmedia_rooms')).toBe(1);
    expect(parseExposition(await b.metrics()).get('uasmedia_rooms{engine="b"}')).toBe(2);
    const { register } = await import('prom-client');
    expect(await register.getSingleMetric('uasmedia_rooms')).toBeUndefined();
  });

  it('honours a prefix and rejects an invalid one', async () => {
    const m = new EngineMetrics({ prefix: 'edge_' });
    expect(parseExposition(await m.metrics()).get('edge_rooms')).toBe(0);
    expect(() => new EngineMetrics({ prefix: 'bad-prefix' })).toThrow(RangeError);
  });

  it('close() is idempotent and scraping a closed registry fails with ClosedError', async () => {
    const m = new EngineMetrics();
    m.close();
    m.close();
    m.rtp.packetsIn.inc();
    await expect(m.metrics()).rejects.toBeInstanceOf(ClosedError);
  });
});

describe('HistogramCell', () => {
  it('rejects bounds that are not increasing', () => {
    expect(() => new HistogramCell([1, 1])).toThrow(RangeError);
    expect(() => new HistogramCell([2, 1])).toThrow(RangeError);
    expect(() => new HistogramCell([1, Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });

  it('puts a value equal to a bound in that bucket (le is inclusive)', () => {
    const h = new HistogramCell([1, 2]);
    h.observe(1);
    h.observe(2);
    h.observe(2.0001);
    expect([h.cumulativeCount(0), h.cumulativeCount(1), h.cumulativeCount(2)]).toEqual([1, 2, 3]);
  });
});
