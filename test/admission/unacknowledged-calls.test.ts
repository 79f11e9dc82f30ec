/**
 * An INVITE from a forged source address is answered, and its ACK never comes: RFC 3261 §13.3.1.4
 * has the 200 retransmitted for 64*T1 (32 s) before the call ends. While the door is full
 * (`maxCalls`, or every RTP port pair taken), such calls gave up their places only then, so a
 * flood of forged INVITEs from many addresses locked every caller out. Now a new INVITE that
 * finds the door full ends the call whose 200 has waited longest for its ACK, if that is over
 * 2*T1, with no BYE, and is admitted in its place. A confirmed call is never ended for it, nor
 * one whose 200 went out less than 2*T1 ago. Until its ACK comes, such a call is sent no media. T1 is 2 s here, so "too young" holds for 4 s.
 */
import { describe, it, expect, afterEach } from 'vitest';
import dgram from 'node:dgram';
import { State, type Engine, type EngineOptions, type UASCallChannel } from '../../engine/index.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { startAnsweringEngine } from '../support/answering-engine.js';
import { RawUac } from '../support/raw-uac.js';
import { optionsAnswer } from '../support/sip-udp-peer.js';
import { TonePhone } from '../support/tone-phone.js';
import { waitFor } from '../support/wait.js';

const T1_MS = 2000;
const rtpBase = 30000 + Math.floor(Math.random() * 100) * 100;

let engine: Engine | undefined;
const phones: TonePhone[] = [];
const forgers: RawUac[] = [];

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await Promise.all(forgers.splice(0).map((f) => f.close()));
  await engine?.stop();
  engine = undefined;
});

async function start(
  rtpPorts: number,
  callLimits?: { maxCalls: number },
  access?: EngineOptions['access'],
  dspSlots?: EngineOptions['dspSlots']
): Promise<{ port: number; calls: UASCallChannel[] }> {
  const started = await startAnsweringEngine(
    { minPort: rtpBase, maxPort: rtpBase + rtpPorts - 1 },
    {
      sip: { host: '127.0.0.1', port: 0, transports: ['udp'], timers: { t1Ms: T1_MS, t2Ms: 4000 } },
      callLimits,
      access,
      dspSlots,
      stopByeWaitMs: 500
    }
  );
  engine = started.engine;
  return { port: started.sipPort, calls: started.incoming };
}

async function phone(host: string): Promise<TonePhone> {
  const p = await TonePhone.create({ toneHz: 440, host });
  phones.push(p);
  return p;
}

/** A caller that never ACKs, as a forged source cannot: its 200, when it came, and its channel. */
async function forged(
  port: number,
  host: string,
  calls: UASCallChannel[]
): Promise<{ uac: RawUac; answeredAtMs: number; channel: UASCallChannel }> {
  const uac = await new RawUac().open(host);
  forgers.push(uac);
  const final = await uac.invite(port, [], 40_000, false);
  expect(final.status).toBe(200);
  const channel = calls.find((c) => c.callId === uac.callId);
  if (!channel) throw new Error(`no channel for ${uac.callId}`);
  return { uac, answeredAtMs: performance.now(), channel };
}

function okCount(uac: RawUac): number {
  return uac.received.filter((m) => m instanceof SipResponse && m.status === 200 && m.callId === uac.callId)
    .length;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('answered calls whose ACK never comes', () => {
  it('give their places up, oldest first and only after 2*T1, when maxCalls is reached', async () => {
    const { port, calls } = await start(100, { maxCalls: 3 });
    const confirmed = await phone('127.0.0.2');
    await confirmed.call(`sip:a@127.0.0.1:${port}`);
    const first = await forged(port, '127.0.0.3', calls);
    const second = await forged(port, '127.0.0.4', calls);

    // Full, and both unacknowledged calls are younger than 2*T1: the newcomer is refused.
    const early = await phone('127.0.0.5');
    await expect(early.call(`sip:b@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 503 });
    expect(performance.now() - first.answeredAtMs).toBeLessThan(2 * T1_MS);
    expect(engine!.metrics.sipUnacknowledgedDropped.value).toBe(0);

    await sleep(2 * T1_MS - (performance.now() - first.answeredAtMs) + 100);
    const late = await phone('127.0.0.6');
    await late.call(`sip:c@127.0.0.1:${port}`);
    expect(engine!.metrics.sipUnacknowledgedDropped.value).toBe(1);
    expect(engine!.metrics.sipRefusals.calls_total.value).toBe(1);
    // The oldest unacknowledged call ended; the other one and the confirmed call did not.
    await waitFor(() => first.channel.state === State.IDLE, 5000);
    expect(second.channel.state).toBe(State.ANSWERING);
    // The confirmed call and the newcomer (once its ACK is in).
    await waitFor(() => calls.filter((c) => c.state === State.ANSWERED).length === 2, 5000);
    expect(confirmed.ended).toBe(false);

    // Ended with no BYE (its caller never showed it hears us), and its 200 is no longer repeated.
    const oksAtDrop = okCount(first.uac);
    await sleep(2.5 * T1_MS);
    expect(okCount(first.uac)).toBe(oksAtDrop);
    expect(okCount(second.uac)).toBeGreaterThan(1);
    expect(first.uac.received.some((m) => m instanceof SipRequest && m.method === 'BYE')).toBe(false);
  });

  it('give their places up to a caller whose credentials were looked up while the engine filled', async () => {
    // RawUac callers need no password; the phone does, and its lookup waits for the test.
    let lookedUp: () => void = () => undefined;
    const lookup = new Promise<void>((resolve) => (lookedUp = resolve));
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { port, calls } = await start(
      100,
      { maxCalls: 2 },
      {
        auth: {
          realm: 'test',
          requiredFor: (request) => !request.from.uri.startsWith('sip:raw@'),
          credentials: async (_realm, username) => {
            lookedUp();
            await held;
            return username === 'alice' ? 'secret' : undefined;
          }
        }
      }
    );
    const first = await forged(port, '127.0.0.11', calls);
    await sleep(2 * T1_MS - (performance.now() - first.answeredAtMs) + 100);
    const caller = await TonePhone.create({
      toneHz: 440,
      host: '127.0.0.12',
      user: 'alice',
      auth: { username: 'alice', password: 'secret' }
    });
    phones.push(caller);
    const answered = caller.call(`sip:f@127.0.0.1:${port}`);
    await lookup;
    // While the phone's answer to the challenge is looked up, a second call fills the engine.
    await forged(port, '127.0.0.13', calls);
    release();
    await answered;
    expect(engine!.metrics.sipUnacknowledgedDropped.value).toBe(1);
    expect(engine!.metrics.sipRefusals.auth_replayed.value).toBe(0);
    expect(first.channel.state).toBe(State.IDLE);
  });

  it('are sent no RTP or RTCP until their ACK comes', async () => {
    const { port, calls } = await start(100);
    // Where the INVITE's SDP says to send: a forged INVITE may name anyone's address there.
    const media = dgram.createSocket('udp4');
    let packets = 0;
    media.on('message', () => packets++);
    await new Promise<void>((resolve) => media.bind(0, '127.0.0.1', () => resolve()));
    try {
      const uac = await new RawUac().open('127.0.0.14');
      forgers.push(uac);
      const final = await uac.invite(port, [], media.address().port, false);
      expect(final.status).toBe(200);
      await sleep(1500);
      expect(packets).toBe(0);
      expect(calls[0].state).toBe(State.ANSWERING);
      await uac.acknowledge(final);
      await waitFor(() => calls[0].state === State.ANSWERED, 5000);
      await waitFor(() => packets >= 20, 5000);
    } finally {
      media.close();
    }
  });

  it('give their places up when every RTP port pair is taken; until then a new call gets 503 (rtp_ports), and so does OPTIONS', async () => {
    // Two RTP port pairs, no call ceiling.
    const { port, calls } = await start(4);
    const first = await forged(port, '127.0.0.7', calls);
    await forged(port, '127.0.0.8', calls);
    expect(engine!.rtpPortsInUse).toBe(2);

    const options = await optionsAnswer(port, '127.0.0.9');
    expect(options.status).toBe(503);
    expect(options.get('Retry-After')).toBe('5');
    const early = await phone('127.0.0.9');
    await expect(early.call(`sip:d@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 503 });
    expect(engine!.metrics.sipRefusals.rtp_ports.value).toBe(1);
    expect(calls).toHaveLength(2);

    await sleep(2 * T1_MS - (performance.now() - first.answeredAtMs) + 100);
    const late = await phone('127.0.0.10');
    await late.call(`sip:e@127.0.0.1:${port}`);
    expect(engine!.metrics.sipUnacknowledgedDropped.value).toBe(1);
    expect(first.channel.state).toBe(State.IDLE);
    expect(engine!.rtpPortsInUse).toBe(2);
  });

  it('give their places up when every DSP party slot is taken; until then a new call gets 503 (dsp_slots)', async () => {
    const { port, calls } = await start(100, undefined, undefined, { maxParties: 2 });
    const first = await forged(port, '127.0.0.15', calls);
    await forged(port, '127.0.0.16', calls);

    const early = await phone('127.0.0.17');
    await expect(early.call(`sip:g@127.0.0.1:${port}`)).rejects.toMatchObject({ status: 503 });
    expect(engine!.metrics.sipRefusals.dsp_slots.value).toBe(1);
    expect((await optionsAnswer(port, '127.0.0.17')).status).toBe(503);

    await sleep(2 * T1_MS - (performance.now() - first.answeredAtMs) + 100);
    const late = await phone('127.0.0.18');
    await late.call(`sip:h@127.0.0.1:${port}`);
    expect(engine!.metrics.sipUnacknowledgedDropped.value).toBe(1);
    expect(first.channel.state).toBe(State.IDLE);
  });
});
