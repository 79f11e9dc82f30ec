/**
 * An application's async 'call' listener, as README's example writes it: it awaits a prompt, and
 * the caller hangs up before the prompt ends. The prompt's promise rejects with a HangupError,
 * and the listener's rejection goes to the engine's 'listenerError' event. It had been an
 * unhandled rejection (the process of an application without a handler for those exits), of a
 * ClosedError naming the channel's internal announcement queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, HangupError, State } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let target: string;
const reported: Array<{ event: string; error: unknown }> = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 57300, maxPort: 57399 },
    logLevel: 'silent'
  });
  engine.on('listenerError', (event) => reported.push(event));
  engine.on('call', async (channel) => {
    if ((await channel.answer()) !== State.ANSWERED) return;
    await channel.playText('Welcome. '.repeat(40)); // tens of seconds: the caller leaves first
  });
  await engine.start();
  target = `sip:welcome@127.0.0.1:${engine.sipAddresses()[0].port}`;
});

afterAll(async () => {
  await engine?.stop();
});

describe("an async 'call' listener whose prompt the caller cuts short", () => {
  it("rejects with HangupError, reported on 'listenerError' (not an unhandled rejection)", async () => {
    const phone = await TonePhone.create({ toneHz: null, user: 'leaver' });
    try {
      await phone.call(target);
      // Hang up while the prompt is being heard: its player is closed under it.
      await waitFor(() => phone.receivedPcm().some((sample) => Math.abs(sample) > 2000), 20_000);
      await phone.hangUp();
      await waitFor(() => reported.length > 0, 20_000);
      expect(reported).toHaveLength(1);
      expect(reported[0].event).toBe('call');
      expect(reported[0].error).toBeInstanceOf(HangupError);
      expect((reported[0].error as HangupError).code).toBe('ERR_HANGUP');
      expect((reported[0].error as Error).message).toMatch(/^playText: channel \S+ has hung up$/);
    } finally {
      await phone.close();
    }
  }, 40_000);
});
