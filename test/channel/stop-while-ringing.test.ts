/**
 * `engine.stop()` while an incoming call is still ringing: the caller gets a final response (480),
 * as a stopping FreeSWITCH or Asterisk answers its pending INVITEs. Before, the 480 was handed to
 * the UDP socket and the socket closed in the same tick, so it never left and the caller rang
 * on until its INVITE timed out (Timer B, 32 s). Over TCP and WebSocket the 480 must leave before
 * the connection is closed. A call placed once the stop has begun is refused (InvalidStateError):
 * it was answered after the BYEs went out, and its callee was never sent one.
 */
import { describe, expect, it } from 'vitest';
import { Engine, InvalidStateError, State, type UASCallChannel } from '../../engine/index.js';
import type { SipResponse } from '../../sip/message/message.js';
import { TcpTestPeer, UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { WsSipClient } from '../support/ws-sip-client.js';
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

  it('over TCP and over WebSocket, the 480 leaves before the connection closes', async () => {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['tcp'] },
      webSocket: { port: 0 },
      rtp: { minPort: 61100, maxPort: 61199 },
      logLevel: 'silent'
    });
    const incoming: UASCallChannel[] = [];
    engine.on('call', (channel) => incoming.push(channel));
    await engine.start();
    const address = (protocol: string) => engine.sipAddresses().find((a) => a.protocol === protocol)!.port;
    const tcpPort = address('tcp');
    const tcp = await new TcpTestPeer().connect(tcpPort, '127.0.0.50');
    const ws = await WsSipClient.connect(`ws://127.0.0.1:${address('ws')}/sip`);
    try {
      await tcp.send(
        sipText([
          `INVITE sip:room@127.0.0.1:${tcpPort};transport=tcp SIP/2.0`,
          `Via: SIP/2.0/TCP 127.0.0.50:${tcp.localPort};branch=z9hG4bK-stopring-tcp`,
          'Max-Forwards: 70',
          'From: <sip:caller@127.0.0.50>;tag=t1',
          `To: <sip:room@127.0.0.1:${tcpPort}>`,
          'Call-ID: stop-while-ringing-tcp@127.0.0.50',
          'CSeq: 1 INVITE',
          `Contact: <sip:caller@127.0.0.50:${tcp.localPort};transport=tcp>`
        ])
      );
      ws.send(ws.request('INVITE', 'sip:room@127.0.0.1', { callId: 'stop-while-ringing-ws' }));
      await waitFor(() => incoming.length === 2);
      for (const channel of incoming) expect(await channel.ring()).toBe(State.RING_INCOMING);
      await tcp.next((m) => (m as SipResponse).status === 180, 5000);
      await waitFor(() => ws.received.some((m) => (m as SipResponse).status === 180));
      await engine.stop();
      const final = (await tcp.next((m) => ((m as SipResponse).status ?? 0) >= 300, 5000)) as SipResponse;
      expect(final.status).toBe(480);
      await waitFor(() => ws.received.some((m) => ((m as SipResponse).status ?? 0) >= 300));
      expect(ws.received.map((m) => (m as SipResponse).status).filter((s) => s >= 300)).toEqual([480]);
      expect(incoming.map((c) => c.state)).toEqual([State.IDLE, State.IDLE]);
    } finally {
      tcp.close();
      ws.socket.terminate();
      await engine.stop();
    }
  });

  it('refuses call() once the engine is stopping: a call placed then was answered after the BYEs, and left up', async () => {
    const engine = new Engine({
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
      rtp: { minPort: 61300, maxPort: 61399 },
      logLevel: 'silent'
    });
    await engine.start();
    const channel = engine.createChannel();
    const stopped = engine.stop();
    await expect(channel.call('sip:bob@127.0.0.1:5999')).rejects.toBeInstanceOf(InvalidStateError);
    await stopped;
    expect(engine.resources()).toMatchObject({ channels: 0, rtpPortPairs: 0 });
  });
});
