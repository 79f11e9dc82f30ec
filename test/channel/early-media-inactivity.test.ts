/**
 * A placed call that rings with early media (a 183 with SDP) and whose callee sends no RTP until it
 * answers, as many gateways do: `rtp.inactivityTimeoutSeconds` counts from the answer, so the
 * ringing is not taken for a dead peer. Before, the 183's answer started the count: with the
 * default 30 s, every such call still ringing after 30 s was CANCELled and ended with TIMEOUT (with
 * a 3 s timeout, the CANCEL came 4 s into the ringing and the callee's 200 at 10 s found no call).
 * Once answered, a callee that sends nothing is still ended with TIMEOUT and BYE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cause, Engine, State } from '../../engine/index.js';
import type { SipRequest } from '../../sip/message/message.js';
import { countingSocket } from '../support/raw-rtp.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';

const ENGINE_HOST = '127.0.11.1';
const CALLEE_HOST = '127.0.11.2';
/** The engine sends a frame of early media every 20 ms: this many span three inactivity timeouts. */
const FRAMES_OVER_THREE_TIMEOUTS = 150;

let engine: Engine;
let sipPort: number;

beforeAll(async () => {
  engine = new Engine({
    sip: { host: ENGINE_HOST, port: 0, transports: ['udp'] },
    rtp: { minPort: 41900, maxPort: 41949, inactivityTimeoutSeconds: 1 },
    logLevel: 'silent'
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

async function respond(callee: UdpTestPeer, invite: SipRequest, status: number, sdp: string): Promise<void> {
  const response = responseTo(invite, status, 'bob');
  response.add('Contact', `<sip:bob@${CALLEE_HOST}:${callee.port}>`);
  response.add('Content-Type', 'application/sdp');
  response.body = Buffer.from(sdp);
  await callee.send(response.toBuffer(), sipPort, ENGINE_HOST);
}

describe('a placed call ringing with early media and no RTP', () => {
  it('is not given up as silent while it rings; once answered, a silent callee is', async () => {
    const callee = await new UdpTestPeer().open(CALLEE_HOST);
    const media = await countingSocket(CALLEE_HOST);
    try {
      const channel = engine.createChannel();
      const placing = channel.call(`sip:bob@${CALLEE_HOST}:${callee.port}`, { secondsTimeout: 60 });
      const invite = (await callee.next(isRequest('INVITE'), 10_000)) as SipRequest;
      await respond(callee, invite, 183, testSdp(media.port, 1, 'sendrecv', CALLEE_HOST));
      await waitFor(() => channel.state === State.RING_OUTGOING);

      // Counted in frames the engine sent as early media, so a slow host cannot shorten the wait.
      await waitFor(
        () => media.received() >= FRAMES_OVER_THREE_TIMEOUTS || channel.state !== State.RING_OUTGOING,
        30_000
      );
      expect(callee.received.some(isRequest('CANCEL'))).toBe(false);
      expect(channel.state).toBe(State.RING_OUTGOING);

      await respond(callee, invite, 200, testSdp(media.port, 1, 'sendrecv', CALLEE_HOST));
      expect(await placing).toBe(State.ANSWERED);

      const bye = (await callee.next(isRequest('BYE', invite.callId), 15_000)) as SipRequest;
      await callee.send(responseTo(bye, 200).toBuffer(), sipPort, ENGINE_HOST);
      await waitFor(() => channel.state === State.IDLE);
      expect(channel.cause()).toBe(Cause.TIMEOUT);
      await waitFor(() => engine.rtpPortsInUse === 0);
    } finally {
      await media.close();
      await callee.close();
    }
  });
});
