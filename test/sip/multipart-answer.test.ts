/**
 * Our INVITE to a trunk that speaks SIP-I (RFC 3204): its 183 and 200 carry the SDP in a
 * multipart/mixed body beside an ISUP part (RFC 5621). The early media and the answer are read from
 * the SDP part, over real UDP.
 */
import { afterEach, expect, it } from 'vitest';
import { SipRequest } from '../../sip/message/message.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { SIP_I_CONTENT_TYPE, sipIBody } from '../support/sip-i-body.js';
import { UdpTestPeer, sipText } from '../support/sip-udp-peer.js';

const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

it('reads the early media and the answer of a SIP-I callee out of its multipart bodies', async () => {
  const uac = new SipUserAgent({
    transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }],
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500 }
  });
  await uac.start();
  const callee = await new UdpTestPeer().open();
  closers.push(
    () => uac.close(),
    () => callee.close()
  );
  const call = uac.invite(`sip:+15550100@127.0.0.1:${callee.port}`, { body: testSdp(5000) });
  const progress: Array<{ status: number; body?: string }> = [];
  call.on('progress', (event) => progress.push(event));
  const invite = (await callee.next((m) => m instanceof SipRequest && m.method === 'INVITE')) as SipRequest;
  const respond = (status: string, sdp: string) =>
    callee.send(
      sipText(
        [
          `SIP/2.0 ${status}`,
          ...invite.getAll('Via').map((v) => `Via: ${v}`),
          `From: ${invite.get('From')}`,
          `To: ${invite.get('To')};tag=trunk`,
          `Call-ID: ${invite.callId}`,
          `CSeq: ${invite.get('CSeq')}`,
          `Contact: <sip:trunk@127.0.0.1:${callee.port}>`,
          `Content-Type: ${SIP_I_CONTENT_TYPE}`
        ],
        sipIBody(sdp)
      ),
      uac.addresses()[0].port
    );
  const early = testSdp(4000, 1);
  await respond('183 Session Progress', early);
  const answer = testSdp(4000, 2);
  await respond('200 OK', answer);
  expect((await call.established).answerSdp).toBe(answer);
  expect(progress).toEqual([{ status: 183, reason: 'Session Progress', body: early }]);
  expect(call.remoteSdp).toBe(answer);
  await callee.next((m) => m instanceof SipRequest && m.method === 'ACK');
});
