/**
 * The SRTP policy of an engine as a plain-RTP phone meets it over real SIP on loopback:
 * 'required' refuses the plain offer with 488 and leaks no port; 'offered' takes the plain call.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, State, type UASCallChannel } from '../../engine/index.js';
import { SipUserAgent } from '../../sip/user-agent.js';
import { testSdp } from '../support/sip-sdp.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

async function start(
  srtp: 'off' | 'offered' | 'required',
  answered: UASCallChannel[],
  failures: unknown[]
): Promise<number> {
  engine = new Engine({
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'] },
    rtp: { minPort: 37000, maxPort: 37999, srtp }
  });
  engine.on('call', async (channel) => {
    try {
      await channel.answer();
      answered.push(channel);
      await channel.playText('hello');
    } catch (error) {
      failures.push(error);
    }
  });
  await engine.start();
  return engine.sipAddresses()[0].port;
}

describe('SRTP policy against a plain-RTP phone', () => {
  it("'required' answers a plain RTP/AVP offer with 488 and holds no port afterwards", async () => {
    const answered: UASCallChannel[] = [];
    const failures: unknown[] = [];
    const port = await start('required', answered, failures);
    const phone = await TonePhone.create({ toneHz: 440 });
    try {
      await expect(phone.call(`sip:room@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 488 });
      expect(answered).toHaveLength(0);
      await waitFor(() => engine!.rtpPortsInUse === 0 && engine!.activeChannels().length === 0);
    } finally {
      await phone.close();
    }
  });

  it("'required' calling out: a plain answer to its RTP/SAVP offer ends the call with BYE and sends no RTP", async () => {
    await start('required', [], []);
    const callee = new SipUserAgent({ transports: [{ protocol: 'udp', host: '127.0.0.1', port: 0 }] });
    await callee.start();
    const rtp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => rtp.bind(0, '127.0.0.1', () => resolve()));
    let rtpPackets = 0;
    rtp.on('message', () => rtpPackets++);
    try {
      const ended = new Promise<string>((resolve) =>
        callee.once('invite', (session) => {
          expect(session.remoteSdp).toMatch(/m=audio \d+ RTP\/SAVP /);
          session.once('terminated', (e: { reason: string }) => resolve(e.reason));
          void session.accept(testSdp(rtp.address().port)).catch(() => undefined);
        })
      );
      const channel = engine!.createChannel();
      const state = await channel
        .call(`sip:plain@127.0.0.1:${callee.addresses()[0].port}`, { secondsTimeout: 10 })
        .catch(() => channel.state);
      expect(state).not.toBe(State.ANSWERED);
      expect(await ended).toBe('bye');
      await waitFor(() => engine!.rtpPortsInUse === 0);
      expect(rtpPackets).toBe(0);
    } finally {
      rtp.close();
      await callee.close();
    }
  });

  it("'offered' takes the plain call: media flows in the clear", async () => {
    const answered: UASCallChannel[] = [];
    const failures: unknown[] = [];
    const port = await start('offered', answered, failures);
    const phone = await TonePhone.create({ toneHz: 440 });
    try {
      await phone.call(`sip:room@127.0.0.1:${port}`);
      await waitFor(() => answered.length === 1 && answered[0].state === State.ANSWERED);
      await waitFor(
        () => answered[0].rtpStats()!.packetsReceived > 20 && phone.receivedPcm().length > 4000,
        10_000
      );
      expect(answered[0].rtpStats()?.srtpSuite).toBeUndefined();
      expect(failures).toEqual([]);
    } finally {
      await phone.close();
    }
  });
});
