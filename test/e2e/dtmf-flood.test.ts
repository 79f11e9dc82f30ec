/**
 * A peer that floods a call with RFC 4733 events, each with a timestamp of its own (so each is a
 * new press), over RTP on a real socket: the application gets no more digits than the call's
 * rate limit lets through (a burst, then digitsPerSecond), the rest are dropped, counted in the
 * metrics and logged once, and the digits the peer presses afterwards arrive as usual.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const FLOOD_EVENTS = 500;
const LIMIT = { digitsPerSecond: 20, burstDigits: 10 };

let engine: Engine;
const channels: UASCallChannel[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      }
    })
  );
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 55800, maxPort: 55899 },
    logger,
    dtmfRateLimit: LIMIT
  });
  engine.on('call', async (channel) => {
    channels.push(channel);
    await channel.answer();
  });
  await engine.start();
});

afterAll(async () => {
  await engine?.stop();
});

/** A metric's value from the engine's Prometheus text. */
async function metric(line: string): Promise<number> {
  const text = await engine.metrics.metrics();
  const match = new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('a flood of RFC 4733 events', () => {
  it('gives the application at most the rate limit of digits, counts and logs the rest once, and lets later presses through', async () => {
    const phone = await TonePhone.create({ toneHz: null, user: 'flooder' });
    try {
      await phone.call(`sip:digits@127.0.0.1:${engine.sipAddresses()[0].port}`);
      await waitFor(() => channels[0]?.state === State.ANSWERED, 10_000);
      const channel = channels[0];
      await phone.media(200);
      const seen: Array<{ digit: string; atMs: number }> = [];
      channel.on('dtmf', ({ digit }) => seen.push({ digit, atMs: performance.now() }));

      // In chunks, so the engine's socket buffer takes them all.
      for (let sent = 0; sent < FLOOD_EVENTS; sent += 50) {
        phone.rfc4733Flood(50);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // Pressed after the flood, on the same stream: once they are in, every flood packet was handled.
      // The pause first lets the bucket fill again, as a person's would.
      await phone.media(600);
      for (const digit of '123') {
        await phone.rfc4733Digit(digit, 100);
        await phone.media(100);
      }
      await waitFor(
        () =>
          seen
            .map((s) => s.digit)
            .join('')
            .endsWith('123'),
        10_000
      );

      const flood = seen.slice(0, -3);
      // The bucket's own arithmetic over the time the flood's digits took to come through.
      const spanMs = flood.length > 0 ? flood[flood.length - 1].atMs - flood[0].atMs : 0;
      const allowed = LIMIT.burstDigits + Math.floor((LIMIT.digitsPerSecond * spanMs) / 1000) + 1;
      const dropped = await metric('uasmedia_dtmf_digits_dropped_total{source="rfc4733"}');
      const reported = await metric('uasmedia_dtmf_digits_total{source="rfc4733"}');
      console.log(
        `${FLOOD_EVENTS} events sent: ${flood.length} digits reported over ${spanMs.toFixed(1)} ms (${allowed} allowed), ${dropped} dropped`
      );
      expect(flood.length).toBeGreaterThan(0);
      expect(flood.length).toBeLessThanOrEqual(allowed);
      expect(reported).toBe(seen.length);
      expect(reported - 3 + dropped).toBeLessThanOrEqual(FLOOD_EVENTS);
      expect(dropped).toBeGreaterThan(0);
      const warnings = logLines.filter((l) => l.includes('faster than dtmfRateLimit'));
      expect(warnings, 'one warning for the burst, not one per digit').toHaveLength(1);
      expect(JSON.parse(warnings[0])).toMatchObject({ source: 'rfc4733', ...LIMIT });
    } finally {
      await phone.close();
    }
  }, 30_000);
});
