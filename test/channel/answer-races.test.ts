/**
 * `answer()` overtaken by the application's own `hangUp()` in the same tick, over real SIP on
 * loopback: the answer resolves IDLE, as `transferToConferenceRoom()` does when hung up under it;
 * before, it rejected with the SIP layer's SipInvalidStateError ("cannot accept a call that is
 * ended"), an error class the engine's API does not export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
const incoming: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 61200, maxPort: 61299 },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => incoming.push(channel));
  await engine.start();
  sipPort = engine.sipAddresses()[0].port;
});

afterAll(async () => {
  await engine?.stop();
});

async function ringingCall(): Promise<{
  phone: TonePhone;
  channel: UASCallChannel;
  placed: Promise<unknown>;
}> {
  const phone = await TonePhone.create({ toneHz: 440 });
  const before = incoming.length;
  const placed = phone.call(`sip:race@127.0.0.1:${sipPort}`).catch((error: unknown) => error);
  await waitFor(() => incoming.length > before);
  return { phone, channel: incoming[before], placed };
}

describe('answer() overtaken by hangUp()', () => {
  it('hangUp() in the same tick: answer resolves IDLE, the caller gets a final response', async () => {
    const { phone, channel, placed } = await ringingCall();
    try {
      const [answered, hungUp] = await Promise.allSettled([channel.answer(), channel.hangUp()]);
      expect(answered).toEqual({ status: 'fulfilled', value: State.IDLE });
      expect(hungUp).toEqual({ status: 'fulfilled', value: State.IDLE });
      expect(String(await placed)).toMatch(/480/);
      await waitFor(() => engine.activeChannels().length === 0 && engine.rtpPortsInUse === 0);
    } finally {
      await phone.close();
    }
  });
});
