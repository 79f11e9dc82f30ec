/**
 * `hangUp()` of a channel whose call is still ringing, over real SIP on loopback: the Promise
 * resolves once the channel is IDLE and what it placed has ended, as it does for an answered
 * call (whose hangUp waits for the BYE's answer). Before, a transfer's ringing leg resolved
 * while still RING_OUTGOING.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  Engine,
  State,
  TransferCause,
  type UASCallChannel
} from '../../engine/index.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
const incoming: UASCallChannel[] = [];

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 55300, maxPort: 55399 },
    logLevel: 'silent'
  });
  engine.on('call', (channel) => {
    incoming.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

describe('hangUp while ringing', () => {
  it("a transfer's leg hung up while it rings resolves only once it is IDLE, and the caller is back", async () => {
    const phone = await TonePhone.create({ toneHz: null });
    try {
      const before = incoming.length;
      await phone.call(`sip:app@127.0.0.1:${sipPort}`);
      await waitFor(() => incoming.length > before && incoming[before].state === State.ANSWERED);
      const channel = incoming[before];
      const leg = engine.createChannel();
      const transfer = channel.transferToConferenceRoom(leg, 'ringleg1', {
        conferenceLifetimeControl: new ConferenceLifetimeControl({ startOnEntry: false }),
        secondsTimeout: null
      });
      await waitFor(() => leg.state === State.RING_OUTGOING);

      const resolved = await leg.hangUp();
      expect({ resolved, stateThen: leg.state }).toEqual({ resolved: State.IDLE, stateThen: State.IDLE });

      expect(await transfer).toBe(State.ANSWERED);
      expect(channel.transferCause()).toBe(TransferCause.TARGETHANGUP);
      expect(engine.rooms.has('ringleg1')).toBe(false);
      // The caller's audio path is its own again.
      await channel.playText('still here');
    } finally {
      await phone.close();
    }
  });
});
