/**
 * An engine bound to a wildcard (sip.host 0.0.0.0 or ::, no rtp.host) names a concrete address in
 * its SDP, over real SIP and RTP on loopback. Before, its answers and offers said
 * `c=IN IP4 0.0.0.0` (or `c=IN IP6 ::`), which RFC 3264 §8.4 reads as hold: a real phone then
 * sent no audio and its in-band DTMF was never heard. The address named is the local one that
 * routes to the call's SIP peer: 127.0.0.1 for these loopback peers, on any host.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { SipRequest } from '../../sip/message/message.js';
import { responseTo } from '../support/sip-messages.js';
import { testSdp } from '../support/sip-sdp.js';
import { UdpTestPeer, isRequest } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

interface Bound {
  engine: Engine;
  port: number;
  incoming: UASCallChannel[];
}

async function startOn(host: string, minPort: number, maxPort: number): Promise<Bound> {
  const engine = new Engine({
    sip: { host, port: 0, transports: ['udp'] },
    rtp: { minPort, maxPort },
    logLevel: 'silent'
  });
  const incoming: UASCallChannel[] = [];
  engine.on('call', (channel) => {
    incoming.push(channel);
    void channel.answer().catch(() => undefined);
  });
  await engine.start();
  return { engine, port: engine.sipAddresses().find((a) => a.protocol === 'udp')!.port, incoming };
}

let ipv4Wildcard: Bound;
let ipv6Wildcard: Bound;

beforeAll(async () => {
  ipv4Wildcard = await startOn('0.0.0.0', 58200, 58249);
  ipv6Wildcard = await startOn('::', 58250, 58299);
});

afterAll(async () => {
  await ipv4Wildcard?.engine.stop();
  await ipv6Wildcard?.engine.stop();
});

/** The o= and c= addresses of an SDP body. */
function sdpAddresses(sdp: string): { origin: string | undefined; connection: string | undefined } {
  return {
    origin: /^o=\S+ \S+ \S+ (IN \S+ \S+)/m.exec(sdp)?.[1],
    connection: /^c=(IN \S+ \S+)/m.exec(sdp)?.[1]
  };
}

/** A phone calls the engine, presses 5 in-band, and the engine hears it. */
async function callAndPressFive(bound: Bound): Promise<{ answer: string; digits: string[]; heard: number }> {
  const phone = await TonePhone.create({ toneHz: null });
  try {
    phone.telephoneEventPt = null;
    const before = bound.incoming.length;
    await phone.call(`sip:room@127.0.0.1:${bound.port}`);
    await waitFor(() => bound.incoming[before]?.state === State.ANSWERED, 10_000);
    const channel = bound.incoming[before];
    const digits: string[] = [];
    channel.on('dtmf', ({ digit }) => digits.push(digit));
    await phone.media(200);
    await phone.inbandDigit('5', 160);
    await waitFor(() => digits.length > 0, 10_000);
    // The engine's own stream reaches the phone too.
    await waitFor(() => phone.packetsReceived > 0, 10_000);
    await channel.hangUp();
    return { answer: phone.answerSdp ?? '', digits, heard: phone.packetsReceived };
  } finally {
    await phone.close();
  }
}

describe('SDP of an engine bound to a wildcard address', () => {
  it('0.0.0.0: the answer names 127.0.0.1, where the phone sends its audio and its in-band 5 is heard', async () => {
    const { answer, digits } = await callAndPressFive(ipv4Wildcard);
    expect(sdpAddresses(answer)).toEqual({ origin: 'IN IP4 127.0.0.1', connection: 'IN IP4 127.0.0.1' });
    expect(digits).toEqual(['5']);
  });

  it('0.0.0.0: the offer of call() names 127.0.0.1, and the engine sends its RTP to the callee', async () => {
    const callee = await new UdpTestPeer().open();
    const rtp = dgram.createSocket('udp4');
    rtp.bind(0, '127.0.0.1');
    await once(rtp, 'listening');
    let rtpPackets = 0;
    rtp.on('message', () => rtpPackets++);
    try {
      const channel = ipv4Wildcard.engine.createChannel();
      const placing = channel.call(`sip:bob@127.0.0.1:${callee.port}`, { secondsTimeout: 10 });
      const invite = (await callee.next(isRequest('INVITE'), 10_000)) as SipRequest;
      expect(sdpAddresses(invite.bodyText)).toEqual({
        origin: 'IN IP4 127.0.0.1',
        connection: 'IN IP4 127.0.0.1'
      });
      const ok = responseTo(invite, 200, 'bob');
      ok.add('Contact', `<sip:bob@127.0.0.1:${callee.port}>`);
      ok.add('Content-Type', 'application/sdp');
      ok.body = Buffer.from(testSdp(rtp.address().port));
      await callee.send(ok.toBuffer(), ipv4Wildcard.port);
      expect(await placing).toBe(State.ANSWERED);
      await waitFor(() => rtpPackets > 0, 10_000);
      const hangingUp = channel.hangUp();
      const bye = (await callee.next(isRequest('BYE', invite.callId), 10_000)) as SipRequest;
      await callee.send(responseTo(bye, 200).toBuffer(), ipv4Wildcard.port);
      await hangingUp;
    } finally {
      rtp.close();
      await callee.close();
    }
  });

  it('::, called over IPv4: the answer names IPv4 127.0.0.1 (the caller may have no IPv6), and the in-band 5 is heard', async () => {
    const { answer, digits } = await callAndPressFive(ipv6Wildcard);
    expect(sdpAddresses(answer)).toEqual({ origin: 'IN IP4 127.0.0.1', connection: 'IN IP4 127.0.0.1' });
    expect(digits).toEqual(['5']);
  });
});
