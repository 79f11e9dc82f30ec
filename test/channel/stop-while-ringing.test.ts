/**
 * `engine.stop()` while an incoming call is still ringing: the caller gets a final response (480),
 * as a stopping FreeSWITCH or Asterisk answers its pending INVITEs. Before, the 480 was handed to
 * the UDP socket and the socket closed in the same tick, so it never left and the caller rang
 * on until its INVITE timed out (Timer B, 32 s).
 */
import { describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import type { SipResponse } from '../../sip/message/message.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';

describe('engine.stop() with a call ringing', () => {
  it('sends the ringing caller a final 480 before it closes', async () => {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: 61100, maxPort: 61199 },
      logLevel: 'silent'
    });
    const incoming: UASCallChannel[] = [];
    engine.on('call', (channel) => incoming.push(channel));
    await engine.start();
    const port = engine.sipAddresses()[0].port;
    const caller = await new UdpTestPeer().open('127.0.0.50');
    try {
      await caller.send(
        sipText([
          `INVITE sip:room@127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.50:${caller.port};branch=z9hG4bK-stopring`,
          'Max-Forwards: 70',
          'From: <sip:caller@127.0.0.50>;tag=c1',
          `To: <sip:room@127.0.0.1:${port}>`,
          'Call-ID: stop-while-ringing@127.0.0.50',
          'CSeq: 1 INVITE',
          `Contact: <sip:caller@127.0.0.50:${caller.port}>`
        ]),
        port
      );
      await waitFor(() => incoming.length === 1);
      expect(await incoming[0].ring()).toBe(State.RING_INCOMING);
      await caller.next((m) => (m as SipResponse).status === 180, 5000);
      await engine.stop();
      const final = (await caller.next((m) => ((m as SipResponse).status ?? 0) >= 300, 5000)) as SipResponse;
      expect(final.status).toBe(480);
      expect(incoming[0].state).toBe(State.IDLE);
    } finally {
      await caller.close();
      await engine.stop();
    }
  });
});
