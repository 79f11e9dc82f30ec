/**
 * Answered calls whose ACK never comes (INVITEs from forged addresses) end with BYE after 64*T1
 * (RFC 3261 §13.3.1.4). Under a flood that is thousands of calls a minute: each is counted in
 * `uasmedia_sip_ack_timeouts_total`, and the log gets one warning a minute, not one line per
 * call. T1 is 25 ms here, so a call's ACK is given up after 1.6 s.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Engine } from '../../engine/index.js';
import { SipRequest } from '../../sip/message/message.js';
import { RawUac } from '../support/raw-uac.js';
import { waitFor } from '../support/wait.js';

const CALLS = 5;
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

let engine: Engine | undefined;
const forgers: RawUac[] = [];

afterEach(async () => {
  await Promise.all(forgers.splice(0).map((f) => f.close()));
  await engine?.stop();
  engine = undefined;
});

interface LogLine {
  level: number;
  msg: string;
  count?: number;
}

describe('calls whose ACK never comes', () => {
  it('each ends with BYE and is counted; the log gets one warning for all of them', async () => {
    const logged: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          logged.push(JSON.parse(line) as LogLine);
        done();
      }
    });
    engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: 25, t2Ms: 100 } },
      rtp: { minPort: rtpBase, maxPort: rtpBase + 99 },
      logger: pino({ level: 'warn' }, sink),
      overloadGuard: false,
      stopByeWaitMs: 200
    });
    engine.on('call', (channel) => void channel.answer().catch(() => undefined));
    await engine.start();
    const port = engine.sipAddresses()[0].port;

    for (let i = 0; i < CALLS; i++) {
      const uac = await new RawUac().open();
      forgers.push(uac);
      expect((await uac.invite(port, [], 40_000 + 2 * i, false)).status).toBe(200);
    }
    await waitFor(() => engine!.metrics.sipAckTimeouts.value === CALLS, 15_000);
    for (const uac of forgers) {
      await waitFor(() => uac.received.some((m) => m instanceof SipRequest && m.method === 'BYE'), 5_000);
    }
    await waitFor(() => engine!.metrics.activeCalls.value === 0, 5_000);
    const text = await engine.metrics.registry.metrics();
    expect(text).toMatch(new RegExp(`^uasmedia_sip_ack_timeouts_total ${CALLS}$`, 'm'));

    const warnings = logged.filter((l) => l.level >= 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/no ACK in 64\*T1/);
    expect(warnings[0].count).toBe(1);
  }, 30_000);
});
