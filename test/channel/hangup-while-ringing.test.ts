/**
 * `hangUp()` of a channel whose call is still ringing, over real SIP on loopback: the Promise
 * resolves once the channel is IDLE and what it placed has ended, as it does for an answered
 * call (whose hangUp waits for the BYE's answer). Before, a transfer's ringing leg resolved
 * while still RING_OUTGOING, and a ringing outgoing call's hangUp resolved before its CANCEL
 * was answered: the INVITE's late end then ended the channel's next call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConferenceLifetimeControl,
  Engine,
  State,
  TransferCause,
  type UASCallChannel
} from '../../engine/index.js';
import { SipRequest } from '../../sip/message/message.js';
import { responseTo } from '../support/sip-messages.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let sipPort: number;
let incoming: UASCallChannel[];

beforeAll(async () => {
  ({ engine, sipPort, incoming } = await startAnsweringEngine({ minPort: 55300, maxPort: 55399 }));
});

afterAll(async () => {
  await engine?.stop();
});

/** A raw UDP callee that has rung (180) for the INVITE `placing` sent; the test answers the rest. */
async function ringingCallee(callee: UdpTestPeer): Promise<SipRequest> {
  const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
  await callee.send(responseTo(invite, 180, 'callee').toBuffer(), sipPort);
  return invite;
}

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

  it('an outgoing call hung up while it rings resolves once its INVITE has ended (CANCEL, then 487)', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const channel = engine.createChannel();
      const placing = channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: null });
      const invite = await ringingCallee(callee);
      await waitFor(() => channel.state === State.RING_OUTGOING);

      let hungUp: State | undefined;
      const hangingUp = channel.hangUp().then((state) => (hungUp = state));
      const cancel = (await callee.next(isRequest('CANCEL', invite.callId))) as SipRequest;
      await callee.send(responseTo(cancel, 200, 'callee').toBuffer(), sipPort);
      // The INVITE has not ended yet (no 487): hangUp has not resolved, the channel is IDLE already.
      expect(hungUp).toBeUndefined();
      expect(channel.state).toBe(State.IDLE);

      await callee.send(responseTo(invite, 487, 'callee').toBuffer(), sipPort);
      await hangingUp;
      expect(hungUp).toBe(State.IDLE);
      expect(channel.state).toBe(State.IDLE);
      expect(await placing).toBe(State.IDLE);
      expect(channel.cause()).toBe('NORMAL');
    } finally {
      await callee.close();
    }
  });

  it('an outgoing call hung up before any response resolves at once; a late 180 still gets its CANCEL', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const channel = engine.createChannel();
      const portsBefore = engine.rtpPortsInUse;
      const placing = channel.call(`sip:nobody@127.0.0.1:${callee.port}`, { secondsTimeout: null });
      const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
      expect(channel.state).toBe(State.CALL_OUTGOING);

      // The callee has said nothing: §9.1 allows no CANCEL yet, and the INVITE could run to Timer
      // B (32 s). hangUp() does not wait for it.
      expect(await channel.hangUp()).toBe(State.IDLE);
      expect(await placing).toBe(State.IDLE);
      expect(channel.cause()).toBe('NORMAL');
      expect(engine.rtpPortsInUse).toBe(portsBefore);

      // The callee wakes up: the INVITE it rings for is cancelled, not left ringing.
      await callee.send(responseTo(invite, 180, 'callee').toBuffer(), sipPort);
      const cancel = (await callee.next(isRequest('CANCEL', invite.callId))) as SipRequest;
      await callee.send(responseTo(cancel, 200, 'callee').toBuffer(), sipPort);
      await callee.send(responseTo(invite, 487, 'callee').toBuffer(), sipPort);
      await callee.next(isRequest('ACK', invite.callId));
      expect(channel.state).toBe(State.IDLE);
    } finally {
      await callee.close();
    }
  });

  it('a call placed right after a ringing one was hung up is not ended by the first INVITE ending, and that hangUp resolves IDLE', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const channel = engine.createChannel();
      void channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: null });
      const first = await ringingCallee(callee);
      await waitFor(() => channel.state === State.RING_OUTGOING);
      // The application does not wait for the hang-up: the channel is IDLE, so it may call again.
      const hangingUp = channel.hangUp();
      const second = channel.call(`sip:carol@127.0.0.1:${callee.port}`, { secondsTimeout: null });
      const secondInvite = (await callee.next(
        (m) => isRequest('INVITE')(m) && m.callId !== first.callId
      )) as SipRequest;
      await callee.send(responseTo(secondInvite, 180, 'callee2').toBuffer(), sipPort);
      await waitFor(() => channel.state === State.RING_OUTGOING);

      // The first INVITE ends: the second call rings on.
      const cancel = (await callee.next(isRequest('CANCEL', first.callId))) as SipRequest;
      await callee.send(responseTo(cancel, 200, 'callee').toBuffer(), sipPort);
      await callee.send(responseTo(first, 487, 'callee').toBuffer(), sipPort);
      // hangUp() resolves with the state of the call it ended, not the state of the one ringing now.
      expect(await hangingUp).toBe(State.IDLE);
      await callee.next(isRequest('ACK', first.callId));
      expect(channel.state).toBe(State.RING_OUTGOING);

      // And it is still the one hangUp cancels.
      const hangingUpSecond = channel.hangUp();
      const secondCancel = (await callee.next(isRequest('CANCEL', secondInvite.callId))) as SipRequest;
      await callee.send(responseTo(secondCancel, 200, 'callee2').toBuffer(), sipPort);
      await callee.send(responseTo(secondInvite, 487, 'callee2').toBuffer(), sipPort);
      expect(await hangingUpSecond).toBe(State.IDLE);
      expect(await second).toBe(State.IDLE);
    } finally {
      await callee.close();
    }
  });
});
