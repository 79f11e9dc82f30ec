/**
 * The leg of a transfer (`otherCall`) is IDLE until the transfer rings it, and the owner's
 * 'stateChange' to TRANSFERRING comes in between: a listener that placed a call on the leg then
 * got one (ANSWERED), and the transfer went on with a leg that carried a SIP call of its own,
 * which nothing ever hung up (measured: two RTP port pairs and a channel left after every call
 * had ended). Now the leg refuses `call()` while it is a transfer's. Over real SIP and RTP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ConferencePartyMediaSettings,
  Engine,
  InvalidStateError,
  State,
  type UASCallChannel
} from '../../engine/index.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
let incoming: UASCallChannel[];

beforeAll(async () => {
  ({ engine, sipPort, incoming } = await startAnsweringEngine(
    { minPort: 44680, maxPort: 44719 },
    { sip: { host: '127.0.14.1', port: 0, transports: ['udp'] } }
  ));
});

afterAll(async () => {
  await engine?.stop();
});

it("refuses call() on a transfer's leg from a listener of the owner's TRANSFERRING, and leaves nothing behind", async () => {
  const phone = await TonePhone.create({ toneHz: 440, host: '127.0.14.3' });
  try {
    await phone.call(`sip:app@127.0.14.1:${sipPort}`);
    await waitFor(() => incoming[0]?.state === State.ANSWERED);
    const channel = incoming[0];
    const leg = engine.createChannel();
    // What the call made from the listener came to, held from the start (it is refused at once).
    let placed: Promise<unknown> | undefined;
    channel.on('stateChange', ({ state }) => {
      if (state === State.TRANSFERRING)
        placed ??= leg.call(`sip:self@127.0.14.1:${sipPort}`).then(
          (state) => state,
          (error: unknown) => error
        );
    });
    const state = await channel.transferToConferenceRoom(leg, 'legreentry', {
      conferencePartyMediaSettings: new ConferencePartyMediaSettings({ beepOnEntry: false })
    });
    expect(state).toBe(State.TRANSFERRED);
    expect(await placed).toBeInstanceOf(InvalidStateError);
    expect(await channel.retrieveTransferredCall()).toBe(State.ANSWERED);
    expect(leg.state).toBe(State.IDLE);
    await channel.hangUp();
    await waitFor(() => engine.resources().channels === 0 && engine.rtpPortsInUse === 0);
    expect(incoming).toHaveLength(1);
  } finally {
    await phone.close();
  }
});
