/**
 * A call the application places to a WebSocket client (`channel.call('sip:bob@x.invalid;transport=ws')`,
 * the name the client gave on its connection) ends when that connection closes, as a call the
 * client placed does: the channel goes IDLE with cause ERROR and its party leaves the room.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cause, Engine, State } from '../../engine/index.js';
import type { SipRequest, SipResponse } from '../../sip/message/message.js';
import { testSdp } from '../support/sip-sdp.js';
import { WsSipClient } from '../support/ws-sip-client.js';
import { waitFor } from '../support/wait.js';

let engine: Engine;
let wsUrl: string;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    webSocket: { port: 0 },
    // The callee's answer names an RTP port nobody reads or sends from: no media timeout.
    rtp: { minPort: 57100, maxPort: 57199, inactivityTimeoutSeconds: null },
    logLevel: 'silent'
  });
  await engine.start();
  wsUrl = `ws://127.0.0.1:${engine.sipAddresses().find((a) => a.protocol === 'ws')!.port}/sip`;
});

afterAll(async () => {
  await engine?.stop();
});

const isInvite = (m: SipRequest | SipResponse): m is SipRequest => 'method' in m && m.method === 'INVITE';

describe('a call placed to a WebSocket client', () => {
  it('ends with cause ERROR when the connection closes, and its party leaves the room', async () => {
    const callee = await WsSipClient.connect(wsUrl);
    try {
      // The client's first request tells the engine which connection its *.invalid name is on.
      callee.send(callee.request('OPTIONS', 'sip:room@127.0.0.1', { callId: 'hello-bob' }));
      await callee.response('hello-bob', 200);
      const channel = engine.createChannel();
      const placed = channel.call(`sip:bob@${callee.invalidHost};transport=ws`);
      const invite = await callee.waitFor(isInvite);
      callee.send(callee.okTo(invite, { toTag: 'bob', body: testSdp(57198) }));
      expect(await placed).toBe(State.ANSWERED);
      await callee.requestFor(invite.callId, 'ACK');
      expect(await channel.transferToConferenceRoom(engine.createChannel(), 'wsout1')).toBe(
        State.TRANSFERRED
      );
      expect(engine.rooms.get('wsout1')?.size).toBe(1);
      await callee.close();
      await waitFor(() => channel.state === State.IDLE);
      expect(channel.cause()).toBe(Cause.ERROR);
      await waitFor(() => (engine.rooms.get('wsout1')?.size ?? 0) === 0);
      expect(engine.rtpPortsInUse).toBe(0);
    } finally {
      await callee.close();
    }
  });
});
