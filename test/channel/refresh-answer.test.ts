/**
 * Our RFC 4028 session refresh (a re-INVITE) answered with SDP that moves the peer's media, as a
 * media relay or B2BUA that changed port does: the answer is the peer's session from then on (RFC
 * 3264 §8), so our RTP follows it. Before, the refresh's answer was stored and never applied: with
 * the callee's media moved from port A to B, our RTP went on to A (50 packets a second, none to B).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State } from '../../engine/index.js';
import { SipRequest } from '../../sip/message/message.js';
import { countingSocket } from '../support/raw-rtp.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';
import { waitFor } from '../support/wait.js';

const ENGINE_HOST = '127.0.11.1';
const CALLEE_HOST = '127.0.11.2';

let engine: Engine;
let sipPort: number;

beforeAll(async () => {
  engine = new Engine({
    sip: {
      host: ENGINE_HOST,
      port: 0,
      transports: ['udp'],
      sessionTimer: { expiresSeconds: 4, minSeSeconds: 2 }
    },
    rtp: { minPort: 41850, maxPort: 41899 },
    logLevel: 'silent'
  });
  await engine.start();
  sipPort = engine.sipAddresses().find((a) => a.protocol === 'udp')!.port;
});

afterAll(async () => {
  await engine?.stop();
});

describe('a session refresh answered with moved media', () => {
  it('sends our RTP where the refresh answer says', async () => {
    const callee = await new UdpTestPeer().open(CALLEE_HOST);
    const [first, moved] = [await countingSocket(CALLEE_HOST), await countingSocket(CALLEE_HOST)];
    try {
      const send200 = (request: SipRequest, tag: string | undefined, port: number, version: number) => {
        const response = responseTo(request, 200, tag);
        response.add('Contact', `<sip:bob@${CALLEE_HOST}:${callee.port}>`);
        response.add('Session-Expires', '4;refresher=uac');
        response.add('Require', 'timer');
        response.add('Content-Type', 'application/sdp');
        response.body = Buffer.from(testSdp(port, version, 'sendrecv', CALLEE_HOST));
        return callee.send(response.toBuffer(), sipPort, ENGINE_HOST);
      };
      const channel = engine.createChannel();
      const placing = channel.call(`sip:bob@${CALLEE_HOST}:${callee.port}`, { secondsTimeout: 10 });
      const invite = (await callee.next(isRequest('INVITE'), 10_000)) as SipRequest;
      await send200(invite, 'bob', first.port, 1);
      expect(await placing).toBe(State.ANSWERED);
      await waitFor(() => first.received() > 0);

      const refresh = (await callee.next(
        (m) => m instanceof SipRequest && m.method === 'INVITE' && m.toTag === 'bob',
        15_000
      )) as SipRequest;
      // Answered first as before (the same version): the media stays where it is.
      await send200(refresh, undefined, first.port, 1);
      const again = (await callee.next(
        (m) =>
          m instanceof SipRequest &&
          m.method === 'INVITE' &&
          m.toTag === 'bob' &&
          m.cseq.seq > refresh.cseq.seq,
        15_000
      )) as SipRequest;
      const before = first.received();
      await waitFor(() => first.received() > before + 10);
      expect(moved.received()).toBe(0);
      // Then with the media moved (a new version): our RTP follows it.
      await send200(again, undefined, moved.port, 2);
      await waitFor(() => moved.received() > 0);
      expect(channel.state).toBe(State.ANSWERED);

      const ended = channel.hangUp();
      const bye = (await callee.next(isRequest('BYE', invite.callId), 10_000)) as SipRequest;
      await callee.send(responseTo(bye, 200).toBuffer(), sipPort, ENGINE_HOST);
      await ended;
    } finally {
      await first.close();
      await moved.close();
      await callee.close();
    }
  });
});
