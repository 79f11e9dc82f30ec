/**
 * `call(uri, { secondsTimeout })` to a callee that sends nothing back, over real SIP on loopback.
 * RFC 3261 §9.1 allows no CANCEL before a provisional response, so the INVITE runs on until
 * Timer B; call() itself settles at its timeout (IDLE, NOANSWER) and gives back what it held.
 * Before, it settled only when Timer B fired (64·T1: 32 s by default, 128 s with T1 = 2 s here).
 * The INVITE then ends by itself: a late 180 gets its CANCEL, a late 200 its ACK and BYE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State } from '../../engine/index.js';
import { SipRequest } from '../../sip/message/message.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';

let engine: Engine;
let sipPort: number;

beforeAll(async () => {
  engine = new Engine({
    // Timer B = 64·T1 = 128 s: far beyond this file's 60 s test timeout.
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: 2000, t2Ms: 4000 } },
    rtp: { minPort: 58300, maxPort: 58399 },
    logLevel: 'silent'
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

/** Places a call the silent callee swallows; resolves with call()'s outcome and the INVITE. */
async function unansweredCall(
  callee: UdpTestPeer
): Promise<{ state: State; cause: string; invite: SipRequest }> {
  const channel = engine.createChannel();
  const placing = channel.call(`sip:nobody@127.0.0.1:${callee.port}`, { secondsTimeout: 1 });
  const invite = (await callee.next(isRequest('INVITE'))) as SipRequest;
  const state = await placing;
  return { state, cause: channel.cause(), invite };
}

function heldByCalls(): Record<string, number> {
  const { rtpPortPairs, partySlots, roomSlots, channels, rooms } = engine.resources();
  return { rtpPortPairs, partySlots, roomSlots, channels, rooms };
}

const nothingHeld = { rtpPortPairs: 0, partySlots: 0, roomSlots: 0, channels: 0, rooms: 0 };

describe('call() secondsTimeout to a callee that never answers', () => {
  it('settles IDLE with NOANSWER at the timeout, long before Timer B, holding no ports, slots or channel', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const { state, cause } = await unansweredCall(callee);
      expect({ state, cause }).toEqual({ state: State.IDLE, cause: 'NOANSWER' });
      expect(heldByCalls()).toEqual(nothingHeld);
    } finally {
      await callee.close();
    }
  });

  it('a 180 arriving after the timeout gets a CANCEL, and the 487 that ends the INVITE its ACK', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const { state, invite } = await unansweredCall(callee);
      expect(state).toBe(State.IDLE);
      await callee.send(responseTo(invite, 180, 'late').toBuffer(), sipPort);
      const cancel = (await callee.next(isRequest('CANCEL', invite.callId))) as SipRequest;
      await callee.send(responseTo(cancel, 200, 'late').toBuffer(), sipPort);
      await callee.send(responseTo(invite, 487, 'late').toBuffer(), sipPort);
      await callee.next(isRequest('ACK', invite.callId));
      expect(heldByCalls()).toEqual(nothingHeld);
    } finally {
      await callee.close();
    }
  });

  it('a 200 arriving after the timeout is ACKed and ended with BYE', async () => {
    const callee = await new UdpTestPeer().open();
    try {
      const { state, invite } = await unansweredCall(callee);
      expect(state).toBe(State.IDLE);
      const ok = responseTo(invite, 200, 'late');
      ok.add('Contact', `<sip:nobody@127.0.0.1:${callee.port}>`);
      ok.add('Content-Type', 'application/sdp');
      ok.body = Buffer.from(testSdp(40000));
      await callee.send(ok.toBuffer(), sipPort);
      await callee.next(isRequest('ACK', invite.callId));
      const bye = (await callee.next(isRequest('BYE', invite.callId))) as SipRequest;
      await callee.send(responseTo(bye, 200).toBuffer(), sipPort);
      expect(heldByCalls()).toEqual(nothingHeld);
    } finally {
      await callee.close();
    }
  });

  it("a 180 of a call given up on leaves the channel's next call alone", async () => {
    const [first, second] = [await new UdpTestPeer().open(), await new UdpTestPeer().open()];
    const channel = engine.createChannel();
    try {
      const placing = channel.call(`sip:nobody@127.0.0.1:${first.port}`, { secondsTimeout: 1 });
      const invite = (await first.next(isRequest('INVITE'))) as SipRequest;
      expect(await placing).toBe(State.IDLE);
      const next = channel.call(`sip:nobody@127.0.0.1:${second.port}`, { secondsTimeout: 1 });
      await second.next(isRequest('INVITE'));
      const states: State[] = [];
      channel.on('stateChange', ({ state }) => states.push(state));
      await first.send(responseTo(invite, 180, 'late').toBuffer(), sipPort);
      // The first call's CANCEL shows its 180 was read: the second call must still be CALL_OUTGOING.
      await first.next(isRequest('CANCEL', invite.callId));
      expect(channel.state).toBe(State.CALL_OUTGOING);
      expect(await next).toBe(State.IDLE);
      expect(states).not.toContain(State.RING_OUTGOING);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
