/**
 * INVITEs whose offer the engine cannot answer (488) are refused statelessly, counted in
 * `uasmedia_sip_offers_refused_total` and logged once a minute with their count, each at debug.
 * Each one wrote an info line before, and nothing counted them: one source sending 3,000 such
 * INVITEs in 6 s wrote 3,000 lines (605 kB) at the default level. And each 488 was sent again
 * until an ACK, 11 times over 64*T1 for an INVITE whose source was forged (20 INVITEs drew 220).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { SipResponse } from '../../sip/message/message.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { RawUac } from '../support/raw-uac.js';
import { sleep } from '../support/wait.js';

const ENGINE_HOST = '127.0.25.1';
const CALLER_HOST = '127.0.25.3';
const REFUSED = 20;
/** T1 of the engine's transactions: a 488 answered from one is sent again within 2*T1. */
const T1_MS = 50;

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** An offer of G.729 only, which no engine default codec answers. */
function g729Only(sdp: string): { contentType: string; body: string } {
  return {
    contentType: 'application/sdp',
    body: sdp.replace('RTP/AVP 0', 'RTP/AVP 18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000')
  };
}

it('answers each refused offer once, counts them and logs them once, not once per INVITE', async () => {
  const lines: Array<{ level: number; msg: string; callId?: string; count?: number }> = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      }
    })
  );
  const { engine, sipPort } = await startAnsweringEngine(
    { minPort: 55200, maxPort: 55299 },
    { sip: { host: ENGINE_HOST, port: 0, transports: ['udp'], timers: { t1Ms: T1_MS } }, logger }
  );
  closers.push(() => engine.stop());

  const callIds: string[] = [];
  const callers: RawUac[] = [];
  for (let i = 0; i < REFUSED; i++) {
    const uac = await new RawUac().open(CALLER_HOST);
    closers.push(() => uac.close());
    uac.engineHost = ENGINE_HOST;
    uac.offerBody = g729Only;
    expect((await uac.invite(sipPort, [])).status).toBe(488);
    callIds.push(uac.callId);
    callers.push(uac);
  }
  // Never ACKed: a 488 kept in a transaction would have gone out again three times by now.
  await sleep(8 * T1_MS);
  for (const uac of callers) expect(uac.received.filter((m) => m instanceof SipResponse)).toHaveLength(1);

  const text = await engine.metrics.metrics();
  expect(text).toMatch(new RegExp(`^uasmedia_sip_offers_refused_total ${REFUSED}$`, 'm'));
  const refusals = lines.filter((line) => /refused (an )?offers? it cannot answer/.test(line.msg));
  expect(refusals).toHaveLength(1);
  expect(refusals[0]).toMatchObject({ callId: callIds[0], count: 1 });
});
