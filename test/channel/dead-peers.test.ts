/**
 * Calls from peers that vanished end by themselves: an RTP inactivity timeout (held calls
 * exempt) and RFC 4028 session timers, as UAS and as UAC. Before these, a caller that
 * disappeared without BYE stayed in its room for good, sent RTP forever, and held its ports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Cause, Engine, State, type EngineOptions, type UASCallChannel } from '../../engine/index.js';
import { meetMeCall } from '../../engine/app/meet-me.js';
import { SipRequest, SipResponse } from '../../sip/message/message.js';
import { TonePhone, type TonePhoneOptions } from '../support/tone-phone.js';
import { RawUac } from '../support/raw-uac.js';
import { sleep, waitFor } from '../support/wait.js';

let engine: Engine | undefined;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await engine?.stop();
  engine = undefined;
});

async function startEngine(
  options: EngineOptions,
  onCall: (e: Engine, channel: UASCallChannel) => void
): Promise<{ engine: Engine; port: number; channels: UASCallChannel[] }> {
  const e = new Engine({
    ...options,
    sip: { host: '127.0.0.1', port: 0, transports: ['udp'], ...options.sip }
  });
  engine = e;
  const channels: UASCallChannel[] = [];
  e.on('call', (channel) => {
    channels.push(channel);
    onCall(e, channel);
  });
  await e.start();
  return { engine: e, port: e.sipAddresses()[0].port, channels };
}

const answerOnly = (_e: Engine, channel: UASCallChannel): void =>
  void channel.answer().catch(() => undefined);

async function phone(options: Omit<TonePhoneOptions, 'toneHz'> = {}): Promise<TonePhone> {
  const p = await TonePhone.create({ toneHz: 440, ...options });
  closers.push(() => p.close());
  return p;
}

async function rawUac(): Promise<RawUac> {
  const uac = await new RawUac().open();
  closers.push(() => uac.close());
  return uac;
}

describe('RTP inactivity', () => {
  it('ends a conference caller that vanishes without BYE within the timeout, and the room announces it has left', async () => {
    const {
      engine: e,
      port,
      channels
    } = await startEngine(
      { rtp: { minPort: 43300, maxPort: 43399, inactivityTimeoutSeconds: 1.5 } },
      (en, ch) => void meetMeCall(en, ch)
    );
    const stays = await phone({ displayName: 'alice' });
    const vanishes = await phone({ displayName: 'bob' });
    await stays.call(`sip:dead1@127.0.0.1:${port}`);
    await vanishes.call(`sip:dead1@127.0.0.1:${port}`);
    await waitFor(
      () => channels.length === 2 && channels.every((c) => c.state === State.TRANSFERRED),
      30_000
    );
    const room = e.rooms.get('dead1');
    expect(room).toBeDefined();
    const exits: string[] = [];
    room!.on('announce', ({ kind, parts }) => {
      if (kind === 'exit') exits.push(JSON.stringify(parts));
    });
    const bob = channels[1];
    const vanishedAt = Date.now();
    await vanishes.vanish();
    await waitFor(() => bob.state === State.IDLE, 15_000);
    const endedAfterMs = Date.now() - vanishedAt;
    expect(bob.cause()).toBe(Cause.TIMEOUT);
    expect(endedAfterMs).toBeGreaterThanOrEqual(1000);
    await waitFor(() => exits.length === 1, 10_000);
    expect(exits[0]).toContain('bob');
    expect(exits[0]).toContain('has left');
    // The caller who kept talking is still in the room.
    expect(channels[0].state).toBe(State.TRANSFERRED);
    expect(stays.ended).toBe(false);
    // Alice's channel and its in-process conference leg; only Alice's call has RTP ports.
    expect(e.resources()).toMatchObject({ channels: 2, rtpPortPairs: 1 });
  }, 60_000);

  it('does not end a call the peer put on hold (a=inactive) and stopped sending on', async () => {
    const { port, channels } = await startEngine(
      { rtp: { minPort: 43400, maxPort: 43499, inactivityTimeoutSeconds: 1 } },
      answerOnly
    );
    const held = await phone();
    await held.call(`sip:hold@127.0.0.1:${port}`);
    await waitFor(() => channels[0]?.state === State.ANSWERED, 10_000);
    await held.reinvite({ direction: 'inactive' });
    held.goSilent();
    await new Promise((r) => setTimeout(r, 3500));
    expect(channels[0].state).toBe(State.ANSWERED);
    expect(held.ended).toBe(false);
  }, 30_000);

  it('ends a silent sendrecv call whose peer stays in the dialog, with a BYE to it', async () => {
    const { port, channels } = await startEngine(
      { rtp: { minPort: 43500, maxPort: 43549, inactivityTimeoutSeconds: 1 } },
      answerOnly
    );
    const silent = await phone();
    await silent.call(`sip:quiet@127.0.0.1:${port}`);
    await waitFor(() => channels[0]?.state === State.ANSWERED, 10_000);
    silent.goSilent();
    await waitFor(() => silent.ended, 15_000);
    expect(channels[0].state).toBe(State.IDLE);
    expect(channels[0].cause()).toBe(Cause.TIMEOUT);
  }, 30_000);

  /**
   * A raw UAC answered and never ACKing or sending RTP, its channel ended by the 1 s inactivity
   * timeout: the 200s it has had, and whether the engine has sent it a BYE.
   */
  async function unacknowledgedCall(onCall: (e: Engine, channel: UASCallChannel) => void = answerOnly) {
    const { port, channels } = await startEngine(
      { rtp: { minPort: 43550, maxPort: 43599, inactivityTimeoutSeconds: 1 } },
      onCall
    );
    const uac = await rawUac();
    const ok = await uac.invite(port, [], 40_000, false);
    expect(ok.status).toBe(200);
    await waitFor(() => channels[0]?.state === State.IDLE, 15_000);
    return {
      uac,
      ok,
      channel: channels[0],
      oks: (): number =>
        uac.received.filter((m) => m instanceof SipResponse && m.status === 200 && m.cseq.method === 'INVITE')
          .length,
      byeSent: (): boolean => uac.received.some((m) => m instanceof SipRequest && m.method === 'BYE')
    };
  }

  it('ends an answered call whose ACK never comes and whose caller sends nothing, before timer H; its BYE waits for the ACK (RFC 3261 §15)', async () => {
    const answers: Array<Promise<unknown>> = [];
    const { uac, ok, channel, oks, byeSent } = await unacknowledgedCall((_e, ch) =>
      answers.push(
        ch.answer().then(
          () => 'answered',
          (error: unknown) => error
        )
      )
    );
    expect(channel.cause()).toBe(Cause.TIMEOUT);
    // The application's answer() learns the call ended before its ACK (timer H would say 'no ACK').
    expect(await answers[0]).toMatchObject({ name: 'SipError', message: 'call ended (local) before ACK' });
    await waitFor(() => engine!.resources().rtpPortPairs === 0, 5000);
    // No BYE before the ACK, and the 200 goes on being retransmitted until the ACK comes.
    const oksAtEnd = oks();
    await waitFor(() => oks() > oksAtEnd, 10_000);
    expect(byeSent()).toBe(false);
    await uac.acknowledge(ok);
    await uac.nextRequest('BYE', 5000);
    const oksAtAck = oks();
    await sleep(1500);
    expect(oks()).toBe(oksAtAck);
  }, 30_000);

  it("a BYE held for an ACK is not sent once the caller's own BYE came, which gets 200", async () => {
    const { uac, ok, oks, byeSent } = await unacknowledgedCall();
    expect((await uac.bye(ok)).status).toBe(200);
    const oksAtBye = oks();
    await uac.acknowledge(ok); // a late ACK now finds no dialog: still no BYE from us
    await sleep(2500);
    expect(oks()).toBe(oksAtBye);
    expect(byeSent()).toBe(false);
  }, 30_000);

  it('a BYE held for an ACK is dropped when the engine stops: the 200 is no longer retransmitted', async () => {
    const { oks, byeSent } = await unacknowledgedCall();
    await engine!.stop();
    engine = undefined;
    const oksAtStop = oks();
    await sleep(2500);
    expect(oks()).toBe(oksAtStop);
    expect(byeSent()).toBe(false);
  }, 30_000);
});

describe('RFC 4028 session timers', () => {
  const timers = { expiresSeconds: 4, minSeSeconds: 2 };

  it('as UAS: a caller that promised to refresh (refresher=uac) and does not is sent BYE when the session expires', async () => {
    const {
      port,
      channels,
      engine: e
    } = await startEngine(
      {
        sip: { sessionTimer: timers },
        rtp: { minPort: 43600, maxPort: 43699, inactivityTimeoutSeconds: null }
      },
      answerOnly
    );
    const uac = await rawUac();
    const ok = await uac.invite(port, ['Supported: timer', 'Session-Expires: 3;refresher=uac']);
    expect(ok.status).toBe(200);
    expect(ok.get('Session-Expires')).toBe('3;refresher=uac');
    expect(ok.getList('Require')).toContain('timer');
    await waitFor(() => channels[0]?.state === State.ANSWERED, 5000);
    const started = Date.now();
    await uac.nextRequest('BYE', 10_000);
    // §10: BYE at interval − min(32, interval/3) = 2 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    await waitFor(() => channels[0].state === State.IDLE, 5000);
    expect(channels[0].cause()).toBe(Cause.TIMEOUT);
    await waitFor(() => e.resources().rtpPortPairs === 0, 5000);
  }, 30_000);

  it('as UAS: refreshes a caller without timer support itself (refresher=uas) and keeps the call while the refreshes are answered', async () => {
    const { port, channels } = await startEngine(
      {
        sip: { sessionTimer: timers },
        rtp: { minPort: 43700, maxPort: 43799, inactivityTimeoutSeconds: null }
      },
      answerOnly
    );
    const uac = await rawUac();
    const ok = await uac.invite(port, []);
    expect(ok.get('Session-Expires')).toBe('4;refresher=uas');
    expect(ok.getList('Require')).not.toContain('timer');
    await uac.nextRequest('INVITE', 10_000);
    await uac.nextRequest('INVITE', 10_000);
    expect(channels[0].state).toBe(State.ANSWERED);
    expect(uac.requests.some((r) => r.method === 'BYE')).toBe(false);
    // Now the caller dies: the next refresh goes unanswered and the session expires.
    uac.answerReinvites = false;
    await uac.nextRequest('BYE', 15_000);
    await waitFor(() => channels[0].state === State.IDLE, 5000);
    expect(channels[0].cause()).toBe(Cause.TIMEOUT);
  }, 40_000);

  it('as UAS: answers 422 with its Min-SE to a Session-Expires below it', async () => {
    const { port } = await startEngine(
      { sip: { sessionTimer: timers }, rtp: { minPort: 43800, maxPort: 43899 } },
      answerOnly
    );
    const uac = await rawUac();
    const refused = await uac.invite(port, ['Supported: timer', 'Session-Expires: 1']);
    expect(refused).toBeInstanceOf(SipResponse);
    expect(refused.status).toBe(422);
    expect(refused.get('Min-SE')).toBe('2');
    await waitFor(() => engine!.resources().channels === 0 && engine!.resources().rtpPortPairs === 0, 5000);
  }, 20_000);

  it('both ends refreshing by re-INVITE keep the call past several intervals; a 422 is retried with the Min-SE', async () => {
    const { port, channels } = await startEngine(
      { sip: { sessionTimer: timers }, rtp: { minPort: 43900, maxPort: 43999 } },
      answerOnly
    );
    // The phone asks for 1 s (below the engine's Min-SE of 2): 422, then again with 2 s.
    const caller = await phone({ sessionTimer: { expiresSeconds: 1, minSeSeconds: 1 } });
    await caller.call(`sip:refresh@127.0.0.1:${port}`);
    // The 422 went out on receipt (RFC 4028 §8.1): the retry is the one call the application had.
    expect(channels).toHaveLength(1);
    const call = channels[0];
    await waitFor(() => call.state === State.ANSWERED, 5000);
    // 2 s sessions, refreshed every second by the caller (refresher=uac): 6 s is three intervals.
    await new Promise((r) => setTimeout(r, 6000));
    expect(call.state).toBe(State.ANSWERED);
    expect(caller.ended).toBe(false);
  }, 30_000);
});
