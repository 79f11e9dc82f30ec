/**
 * The user agent calls `afterMessage` once per received message, whatever became of it (answered,
 * malformed and dropped), after handling it; a hook that throws is logged and changes nothing.
 * The engine hangs its frame clock's `runIfDue` there, so a tick that comes due during a burst
 * of signalling runs between two messages.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../engine/index.js';
import type { AnySipMessage } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { UdpTestPeer, optionsText } from '../support/sip-udp-peer.js';
import { warningLogger } from '../support/warning-logger.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function peer(): Promise<UdpTestPeer> {
  const p = await new UdpTestPeer().open();
  cleanups.push(() => p.close());
  return p;
}

const answered = (callId: string) => (m: AnySipMessage) => m.callId === callId;

describe('afterMessage', () => {
  it('runs once per message, answered or dropped, after it was handled', async () => {
    const calls: number[] = [];
    let handledBeforeHook = 0;
    const ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      afterMessage: () => {
        calls.push(ua.stats.received);
        handledBeforeHook = ua.stats.malformed;
      }
    });
    await ua.start();
    cleanups.push(() => ua.close());
    const port = ua.addresses()[0].port;
    const p = await peer();

    await p.send(optionsText('am-1', 'UDP', p.port, port), port);
    await p.next(answered('am-1'));
    await p.send('not SIP at all\r\n\r\n', port);
    await p.send(optionsText('am-2', 'UDP', p.port, port), port);
    await p.next(answered('am-2'));

    expect(calls).toEqual([1, 2, 3]);
    // The malformed datagram was counted before the hook after it ran.
    expect(handledBeforeHook).toBe(1);
  });

  it('a hook that throws is logged, and the next message is still answered', async () => {
    const { logger, warnings } = warningLogger();
    const ua = new SipUserAgent({
      transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
      logger,
      afterMessage: () => {
        throw new Error('hook broke');
      }
    });
    await ua.start();
    cleanups.push(() => ua.close());
    const port = ua.addresses()[0].port;
    const p = await peer();
    await p.send(optionsText('am-3', 'UDP', p.port, port), port);
    await p.next(answered('am-3'));
    await p.send(optionsText('am-4', 'UDP', p.port, port), port);
    await p.next(answered('am-4'));
    expect(warnings.filter((w) => w.msg === 'afterMessage hook failed')).toHaveLength(2);
  });

  it('the engine asks its frame clock for a due tick after each SIP message', async () => {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      logLevel: 'silent'
    });
    let asked = 0;
    const runIfDue = engine.clock.runIfDue.bind(engine.clock);
    engine.clock.runIfDue = () => {
      asked++;
      runIfDue();
    };
    await engine.start();
    cleanups.push(() => engine.stop());
    const port = engine.sipAddresses()[0].port;
    const p = await peer();
    const before = asked;
    for (let i = 0; i < 5; i++) {
      await p.send(optionsText(`am-e${i}`, 'UDP', p.port, port), port);
      await p.next(answered(`am-e${i}`));
    }
    // RTP sessions ask too, but there are none: every one of these came from the SIP side.
    expect(asked - before).toBe(5);
  });
});
