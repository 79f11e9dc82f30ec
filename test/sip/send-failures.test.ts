/**
 * Sends to a connection that is gone are counted, and logged once per connection: a peer that
 * leaves while many answers to it are pending must not turn into a log line per answer
 * (sip/send-failures.ts). Over real TCP: the answers find the request's connection closed and
 * the Via's sent-by port (§18.2.2) refusing a new one.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingInvite } from '../../sip/session/incoming-invite.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { TcpTestPeer, UdpTestPeer, sipText } from '../support/sip-udp-peer.js';
import { sleep, waitFor } from '../support/wait.js';
import { warningLogger } from '../support/warning-logger.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function inviteText(uaPort: number, sentByPort: number, callId: string): string {
  return sipText(
    [
      `INVITE sip:room1@127.0.0.1:${uaPort};transport=tcp SIP/2.0`,
      `Via: SIP/2.0/TCP 127.0.0.1:${sentByPort};branch=z9hG4bK-${callId}`,
      'Max-Forwards: 70',
      'From: <sip:alice@127.0.0.1>;tag=caller',
      'To: <sip:room1@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:alice@127.0.0.1:${sentByPort};transport=tcp>`,
      'Content-Type: application/sdp'
    ],
    testSdp(4000)
  );
}

describe('failed sends', () => {
  it('counts every answer a gone connection could not take and logs the first only', async () => {
    const { logger, warnings } = warningLogger();
    const ua = new SipUserAgent({ transports: [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }], logger });
    await ua.start();
    cleanups.push(() => ua.close());
    const uaPort = ua.addresses()[0].port;
    const invites: IncomingInvite[] = [];
    ua.on('invite', (invite) => invites.push(invite));
    const sentBy = await closedPort();
    const caller = await new TcpTestPeer().connect(uaPort);
    const calls = 20;
    for (let i = 0; i < calls; i++) await caller.send(inviteText(uaPort, sentBy, `gone-${i}`));
    await waitFor(() => invites.length === calls);
    caller.close();
    await caller.closed;
    await waitFor(() => ua.connectionGuard.openConnections === 0);
    for (const invite of invites) invite.reject(486);
    await waitFor(() => ua.stats.sendFailures >= calls);
    expect(warnings.filter((w) => w.msg.startsWith('SIP send failed'))).toHaveLength(1);
  });

  it('stops once a UDP answer to a Via naming port 0 failed: the failed send is not waited for', async () => {
    const { logger, warnings } = warningLogger();
    const ua = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }], logger });
    await ua.start();
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : ua.close()));
    const peer = await new UdpTestPeer().open();
    cleanups.push(() => peer.close());
    // No rport: the answer goes to the Via's sent-by port (RFC 3261 §18.2.2), which is 0.
    await peer.send(
      sipText([
        `OPTIONS sip:room1@127.0.0.1:${ua.addresses()[0].port} SIP/2.0`,
        'Via: SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK-port-zero',
        'Max-Forwards: 70',
        'From: <sip:alice@127.0.0.1>;tag=caller',
        'To: <sip:room1@127.0.0.1>',
        'Call-ID: port-zero',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0'
      ]),
      ua.addresses()[0].port
    );
    await waitFor(() => warnings.some((w) => w.msg.startsWith('SIP send failed')));
    const outcome = await Promise.race([
      ua.close().then(() => 'stopped'),
      sleep(20_000).then(() => 'still open after 20 s')
    ]);
    stopped = outcome === 'stopped';
    expect(outcome).toBe('stopped');
  });
});
